// The bytes on the wire are the same whatever the I/O model (tag [wire]): one list of requests — good,
// HEAD, /bytes, /delay, pipelined, HTTP/1.0, bodies, bad input — goes to every backend on a fresh
// connection each, and every reply stream must equal the blocking server's byte for byte. A backend
// that cannot start here (not built yet, io_uring unavailable) is skipped with its own reason.
// Run: ctest --test-dir build -R '^wire'
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "core/net.hpp"
#include "test_server.hpp"

using namespace rbtest;
using Clock = std::chrono::steady_clock;

namespace {

// The same limits and keep-alive for every backend: the blocking server would otherwise close after
// each reply and say so in its headers.
const std::vector<std::string> kServerArgs = {"--delay-ms", "0", "--keepalive-ms", "10000",
                                              "--max-header-bytes", "1024", "--max-body-bytes", "1000",
                                              "--max-url-bytes", "256", "--linger-ms", "2000"};

struct WireCase {
  const char* name;
  std::string bytes;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

std::vector<WireCase> cases() {
  return {
      {"GET /", get("/")},
      {"HEAD /", "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"query string", get("/healthz?x=1&y=2")},
      {"other method", "DELETE /thing HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"/bytes/0", get("/bytes/0")},
      {"/bytes/100", get("/bytes/100")},
      {"/bytes/200000", get("/bytes/200000")},
      {"HEAD /bytes/70000", "HEAD /bytes/70000 HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"/delay/30", get("/delay/30")},
      {"keep-alive pair", get("/") + get("/bytes/7")},
      {"pipelined, ending in Connection: close",
       get("/delay/20") + get("/bytes/5") + "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n" +
           get("/", "Connection: close\r\n") + get("/never-answered")},
      {"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n"},
      {"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /bytes/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
      {"Content-Length body", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" + get("/healthz")},
      {"chunked body", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
      {"garbage", "HELLO\r\n\r\n"},
      {"bare LF", "GET / HTTP/1.1\nHost: t\n\n"},
      {"CL with TE", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"conflicting CL", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
      {"header over limit", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"},
      {"URL over limit", "GET /" + std::string(300, 'u') + " HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"body over limit", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"},
      {"bad /delay", get("/delay/soon")},
      {"bad /bytes", get("/bytes/999999999999999")},
      {"good then bad", get("/bytes/4") + "BAD\r\n\r\n" + get("/")},
  };
}

// Sends `bytes`, half-closes, and reads everything until the server closes (bounded).
std::string exchange(uint16_t port, const std::string& bytes) {
  const int fd = ringbench::connect_tcp("127.0.0.1", port);
  REQUIRE(fd >= 0);
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t w = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (w <= 0) break;  // the server may close early on bad input; what it sent still counts
    off += static_cast<std::size_t>(w);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  const auto deadline = Clock::now() + 10s;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      out += "\n<<timed out>>";
      break;
    }
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fd);
  return out;
}

// Empty when `backend` starts and prints its readiness line; otherwise why not (its stderr).
std::string why_unavailable(const std::string& backend) {
  int out[2];
  int err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  const std::string bin = ringbench_binary();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execl(bin.c_str(), bin.c_str(), "serve", backend.c_str(), "--port", "0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string line;
  char c;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&p, 1, 10'000) == 1 && ::read(out[0], &c, 1) == 1) line += c;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string why;
  if (line.rfind("listening on ", 0) != 0) {
    char buf[512];
    const ssize_t r = ::read(err[0], buf, sizeof buf);
    why = r > 0 ? std::string(buf, static_cast<std::size_t>(r)) : "no readiness line";
    if (why.empty()) why = "no readiness line";
  }
  ::close(out[0]);
  ::close(err[0]);
  return why;
}

std::vector<std::string> replies_of(const std::string& backend) {
  ServerProcess srv(kServerArgs, backend);
  std::vector<std::string> out;
  for (const WireCase& c : cases()) out.push_back(exchange(srv.port(), c.bytes));
  return out;
}

}  // namespace

TEST_CASE("every backend puts the blocking server's bytes on the wire", "[wire]") {
  const std::vector<WireCase> list = cases();
  const std::vector<std::string> reference = replies_of("blocking");
  for (std::size_t i = 0; i < list.size(); ++i) {
    INFO(list[i].name);
    CHECK(reference[i].find("HTTP/1.1 ") == 0);  // every case gets at least one reply
    CHECK(reference[i].find("<<timed out>>") == std::string::npos);
  }
  for (const std::string backend : {"epoll", "threads", "uring"}) {
    const std::string why = why_unavailable(backend);
    if (!why.empty()) {
      WARN("skipping backend " << backend << ": " << why);
      continue;
    }
    const std::vector<std::string> got = replies_of(backend);
    for (std::size_t i = 0; i < list.size(); ++i) {
      INFO("backend " << backend << ", case: " << list[i].name);
      CHECK(got[i] == reference[i]);
    }
  }
}
