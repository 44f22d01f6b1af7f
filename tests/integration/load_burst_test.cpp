// `ringbench load` reads a burst of responses before it sends the next requests (tag [load], both engines):
// a scripted server answers every connection while the client is stopped, resumes it, and at the first
// new request stops it again and reads from /proc/net/tcp how many responses are still unread.
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loopback_listener.hpp"
#include "test_server.hpp"

using namespace rbtest;

namespace {

constexpr char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// The state letter of a /proc stat file ('T' once a SIGSTOP has taken effect).
char stat_state(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  const auto close_paren = line.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= line.size() ? '?' : line[close_paren + 2];
}

// Every thread of `pid` has stopped: the main thread stops first, and the load's worker threads may run
// on for a moment.
bool all_threads_stopped(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(tasks.c_str());
  if (d == nullptr) return false;
  bool stopped = true;
  int seen = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ++seen;
    stopped &= stat_state(tasks + "/" + e->d_name + "/stat") == 'T';
  }
  ::closedir(d);
  return stopped && seen > 0;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Unread bytes of every established IPv4 socket whose peer is 127.0.0.1:`port` (the client's side of
// our connections), from /proc/net/tcp's rx_queue column.
std::vector<unsigned long> client_unread_bytes(uint16_t port) {
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line);  // header
  std::vector<unsigned long> out;
  while (std::getline(f, line)) {
    std::istringstream row(line);
    std::string slot, local, remote, state, queues;
    row >> slot >> local >> remote >> state >> queues;
    const auto colon = remote.find(':');
    if (colon == std::string::npos || state != "01") continue;
    if (std::strtoul(remote.c_str() + colon + 1, nullptr, 16) != port) continue;
    out.push_back(std::strtoul(queues.c_str() + queues.find(':') + 1, nullptr, 16));
  }
  return out;
}

// Reads one request (no body) from a blocking socket; false on EOF, error or the socket's timeout.
bool read_request(int fd) {
  std::string got;
  char buf[1024];
  while (got.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

bool reply(int fd) { return ::write(fd, kReply, sizeof kReply - 1) == static_cast<ssize_t>(sizeof kReply - 1); }

// What the scripted server saw; any step that times out leaves `failed` naming it.
struct BurstRun {
  std::string failed;
  std::size_t landed = 0;  // client sockets holding their response before the client resumed
  std::size_t unread = 0;  // client sockets still holding it when the first new request arrived
};

// Serves `n` connections of a `-n 2n` closed-loop client with pid `pid`: the first round is answered while
// the client is stopped, the second normally.
BurstRun serve_burst(const LoopbackListener& l, pid_t pid, std::size_t n) {
  BurstRun run;
  std::vector<int> conns;
  int dropped = 0;
  const auto fail = [&](const char* step) {
    run.failed = step;
    ::kill(pid, SIGCONT);
    for (int fd : conns) ::close(fd);
    return run;
  };
  while (conns.size() < n) {
    pollfd p{l.fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) return fail("accept");
    const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return fail("accept");
    const timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (read_request(fd)) {
      conns.push_back(fd);
    } else {
      ::close(fd);  // the client's connect check, closed without a request
      if (++dropped > 2) return fail("first requests");
    }
  }
  ::kill(pid, SIGSTOP);
  if (!wait_until([&] { return all_threads_stopped(pid); }, 5s)) return fail("stopping the client");
  for (int fd : conns) {
    if (!reply(fd)) return fail("replies");
  }
  const auto all_landed = [&] {
    const auto q = client_unread_bytes(l.port);
    run.landed = static_cast<std::size_t>(std::count_if(q.begin(), q.end(), [](unsigned long b) { return b > 0; }));
    return run.landed == n;
  };
  if (!wait_until(all_landed, 5s)) return fail("replies landing in the client's sockets");
  ::kill(pid, SIGCONT);
  std::vector<pollfd> polls;
  for (int fd : conns) polls.push_back({fd, POLLIN, 0});
  if (::poll(polls.data(), polls.size(), 10'000) <= 0) return fail("the first new request");
  ::kill(pid, SIGSTOP);
  if (!wait_until([&] { return all_threads_stopped(pid); }, 5s)) return fail("stopping the client again");
  const auto q = client_unread_bytes(l.port);
  run.unread = static_cast<std::size_t>(std::count_if(q.begin(), q.end(), [](unsigned long b) { return b > 0; }));
  ::kill(pid, SIGCONT);
  for (int fd : conns) {
    if (!read_request(fd) || !reply(fd)) return fail("second round");
  }
  for (int fd : conns) ::close(fd);
  return run;
}

}  // namespace

TEST_CASE("load: a burst of responses is read before the next requests go out", "[load]") {
  // A send costs the client several reads (on loopback it also runs the server's receive), so a client
  // that sent after each read would leave the burst's later responses waiting in their sockets and count
  // that wait as latency. Stopped at the first new request, the client must have read all 500.
  constexpr std::size_t kConns = 500;
  LoopbackListener l(1024);
  std::vector<std::string> args = {"load", "http://127.0.0.1:" + std::to_string(l.port) + "/", "-c",
                                   std::to_string(kConns), "-n", std::to_string(2 * kConns), "--client-lag"};
  if (const char* e = std::getenv("RINGBENCH_LOAD_ENGINE")) {
    args.push_back("--engine");
    args.push_back(e);
  }
  BurstRun run;
  const CommandResult r = run_ringbench(args, 60s, [&](pid_t pid) { run = serve_burst(l, pid, kConns); });
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  if (r.err.find("io_uring unavailable") != std::string::npos) {
    WARN("skipped: " << r.err);
    return;
  }
  INFO("the scripted server failed at: " << run.failed << " (landed " << run.landed << ")");
  REQUIRE(run.failed.empty());
  CHECK(run.landed == kConns);
  CHECK(run.unread == 0);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(std::to_string(2 * kConns) + " responses") != std::string::npos);
}
