// What only the io_uring server promises (tag [uring]): many delays in flight at once, resets during the
// wait or mid-body freeing everything at once, no descriptor leak under churn, limits (503, send timeout,
// EMFILE without a busy loop) and the start-up line that names the features in use.
// Run: RINGBENCH_BACKEND=uring build/tests/integration_tests "[uring]"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <utility>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace rbtest;
using Clock = std::chrono::steady_clock;

namespace {

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

// Waits (bounded) until the server holds `fds` descriptors; returns the last count seen.
int wait_for_fds(const ServerProcess& srv, int fds, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int n = srv.open_fds();
  while (n != fds && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    n = srv.open_fds();
  }
  return n;
}

}  // namespace

TEST_CASE("100 concurrent 250 ms requests finish in well under 1 s", "[uring]") {
  ServerProcess srv({"--delay-ms", "250"});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  const auto t0 = Clock::now();
  for (auto& c : clients) REQUIRE(c->send(get("/")));
  for (auto& c : clients) {
    const auto r = c->read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  const double ms = elapsed_ms(t0);
  CHECK(ms >= 240);
  CHECK(ms < 900);
}

// 8 SQ entries and a CQ of 64 against 300 connections: accepts, recvs and sends come in bursts of 300, so
// get_sqe() submits whenever the SQ fills, and completions can overflow the CQ (2 overflows in a run traced
// with the io_uring_cqe_overflow tracepoint); an overflowing multishot accept or recv ends (no
// IORING_CQE_F_MORE) and must be re-armed. A second round on the same connections shows every multishot
// recv is still (or again) armed.
TEST_CASE("a ring of 8 entries serves 300 concurrent requests twice (full SQ, CQ overflow, re-armed multishots)", "[uring]") {
  ServerProcess srv({"--delay-ms", "50", "--ring-entries", "8"});
  REQUIRE(http_get(srv.port(), "/healthz"));
  REQUIRE(srv.stderr_text().find("SQ 8 / CQ 64 entries") != std::string::npos);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 300; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    for (auto& c : clients) REQUIRE(c->send(get("/")));
    int ok = 0;
    for (auto& c : clients) {
      const auto r = c->read_response(10s);
      if (r && r->status == 200) ++ok;
    }
    CHECK(ok == 300);
  }
  REQUIRE(http_get(srv.port(), "/healthz"));
}

TEST_CASE("200 clients reset during the wait: freed at once, and the server keeps serving", "[uring]") {
  ServerProcess srv({"--delay-ms", "5000"});
  const int baseline = srv.open_fds();
  {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 200; ++i) {
      clients.push_back(std::make_unique<Client>(srv.port()));
      REQUIRE(clients.back()->send(get("/")));
    }
    REQUIRE(wait_for_fds(srv, baseline + 200, 5s) == baseline + 200);
    for (auto& c : clients) c->reset();
  }
  // Long before the 5 s delays would end, every connection is gone.
  const auto t0 = Clock::now();
  CHECK(wait_for_fds(srv, baseline, 3s) == baseline);
  CHECK(elapsed_ms(t0) < 3000);
  const auto r = http_get(srv.port(), "/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("a reset in the middle of a 10 MB body frees the connection", "[uring]") {
  ServerProcess srv({"--delay-ms", "0"});
  const int baseline = srv.open_fds();
  for (int round = 0; round < 5; ++round) {
    Client c(srv.port());
    REQUIRE(c.send(get("/bytes/10000000")));
    char buf[65536];
    const ssize_t got = ::recv(c.fd(), buf, sizeof buf, 0);  // the body has started to flow
    REQUIRE(got > 0);
    c.reset();
  }
  CHECK(wait_for_fds(srv, baseline, 5s) == baseline);
  const auto r = http_get(srv.port(), "/bytes/100");
  REQUIRE(r);
  CHECK(r->body.size() == 100);
}

TEST_CASE("connection churn leaks no descriptor", "[uring]") {
  ServerProcess srv({"--delay-ms", "0"});
  const int baseline = srv.open_fds();
  for (int i = 0; i < 300; ++i) {
    Client c(srv.port());
    switch (i % 3) {
      case 0: {  // a whole request, then a normal close
        REQUIRE(c.send(get("/")));
        const auto r = c.read_response(5s);
        REQUIRE(r);
        CHECK(r->status == 200);
        break;
      }
      case 1: c.send("GET / HT"); break;  // half a request, then close
      default: c.reset(); break;          // nothing, then a reset
    }
  }
  CHECK(wait_for_fds(srv, baseline, 5s) == baseline);
}

TEST_CASE("max connections: over the limit answers 503 and closes, and frees the place when a client leaves", "[uring]") {
  ServerProcess srv({"--delay-ms", "0", "--max-connections", "2", "--linger-ms", "200"});
  auto a = std::make_unique<Client>(srv.port());
  Client b(srv.port());
  for (Client* c : {a.get(), &b}) {
    REQUIRE(c->send(get("/")));
    REQUIRE(c->read_response(5s));
  }
  {
    Client over(srv.port());
    over.send(get("/"));
    const auto r = over.read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(over.wait_closed(5s));
  }
  a.reset();  // one place frees up
  const int deadline_tries = 50;
  bool served = false;
  for (int i = 0; i < deadline_tries && !served; ++i) {
    const auto r = http_get(srv.port(), "/healthz");
    served = r && r->status == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  CHECK(served);
}

TEST_CASE("a client that stops reading is cut off after the send timeout", "[uring]") {
  ServerProcess srv({"--delay-ms", "0", "--send-timeout-ms", "300"});
  const int baseline = srv.open_fds();
  Client c(srv.port());
  const int small = 4096;
  ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  REQUIRE(c.send(get("/bytes/100000000")));
  REQUIRE(wait_for_fds(srv, baseline + 1, 5s) == baseline + 1);
  CHECK(wait_for_fds(srv, baseline, 5s) == baseline);
}

namespace {

// Runs in a forked child whose hard RLIMIT_NOFILE is low (the server inherits it; lowering a hard limit
// cannot be undone without CAP_SYS_RESOURCE, hence the child). Returns "" or what went wrong.
std::string out_of_descriptors_scenario() {
  constexpr rlim_t kLimit = 48;
  const rlimit low{kLimit, kLimit};
  if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return "setrlimit failed";
  ServerProcess srv({"--delay-ms", "0", "--threads", "2"});
  const int server_fds = srv.open_fds();
  const auto own_fds = static_cast<int>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                      std::filesystem::directory_iterator{}));
  const int clients_wanted = static_cast<int>(kLimit) - own_fds - 2;
  if (clients_wanted <= static_cast<int>(kLimit) - server_fds) return "the server would not run out of descriptors";
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < clients_wanted; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  const double cpu0 = srv.cpu_seconds();
  std::this_thread::sleep_for(1s);
  // A spinning accept would burn the whole second.
  if (const double burnt = srv.cpu_seconds() - cpu0; burnt > 0.3) return "busy loop: " + std::to_string(burnt) + " s CPU";
  clients.clear();
  const auto r = http_get(srv.port(), "/healthz", 5s);
  if (!r || r->status != 200) return "no answer after the descriptors came back";
  if (srv.stop() != 0) return "exit status not 0";
  const std::string err = srv.stderr_text();
  unsigned long pauses = 0;  // summed over the loops' exit lines
  for (auto at = err.find("accept_out_of_fds "); at != std::string::npos; at = err.find("accept_out_of_fds ", at + 1)) {
    pauses += std::stoul(err.substr(at + 18));
  }
  if (pauses == 0) return "the limit was never hit: " + err;
  return "";
}

}  // namespace

TEST_CASE("out of descriptors: accept pauses without a busy loop, then recovers", "[uring]") {
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipefd[0]);
    std::string why;
    try {
      why = out_of_descriptors_scenario();
    } catch (...) {
      why = "exception in the scenario";
    }
    if (!why.empty()) (void)!::write(pipefd[1], why.data(), why.size());
    ::_exit(why.empty() ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string why;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) why.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO(why);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("start-up names the io_uring features in use, and unsupported switches fall back with one line", "[uring]") {
  ServerProcess srv({"--delay-ms", "0", "--timer", "ring"});
  REQUIRE(http_get(srv.port(), "/healthz"));
  const std::string err = srv.stderr_text();
  CHECK(err.find("io_uring:") != std::string::npos);
  CHECK(err.find("one IORING_OP_TIMEOUT per request") != std::string::npos);
  CHECK(err.find("multishot accept") != std::string::npos);

  // A switch that cannot combine with another falls back the same way: the SQ tail under SQPOLL is not the
  // one --min-wait-us publishes (without MIN_TIMEOUT here, the other fall-back line says so).
  ServerProcess sq({"--delay-ms", "0", "--sqpoll", "--min-wait-us", "100"});
  REQUIRE(http_get(sq.port(), "/healthz"));
  const std::string sq_err = sq.stderr_text();
  if (sq_err.find("--sqpoll: IORING_SETUP_SQPOLL not available") != std::string::npos) {
    WARN("no SQPOLL here: --min-wait-us has nothing to conflict with");
    return;
  }
  const bool combined = sq_err.find("--min-wait-us does not combine with --sqpoll; not used") != std::string::npos;
  const bool unsupported = sq_err.find("--min-wait-us: IORING_FEAT_MIN_TIMEOUT (Linux 6.12) not available; not used") != std::string::npos;
  CHECK((combined || unsupported));
  CHECK(sq_err.find("waits of at least") == std::string::npos);
}

namespace {

// Milliseconds that `n` requests take one after another on one keep-alive connection.
double sequential_ms(const ServerProcess& srv, int n) {
  Client c(srv.port());
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    REQUIRE(c.send(get("/")));
    const auto r = c.read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  return elapsed_ms(t0);
}

}  // namespace

// A request that comes in while the loop sleeps its minimum wait is read when that wait ends, so one
// request at a time costs a whole minimum wait each; a second completion ends the wait at once when the
// batch is 2 (the reply's own send completion is the first).
TEST_CASE("min wait: a wake-up is held for --min-wait-us unless --min-wait-batch completions end it early", "[uring]") {
  const std::vector<std::string> args{"--delay-ms", "0", "--min-wait-us", "50000"};
  {
    ServerProcess srv(args);
    REQUIRE(http_get(srv.port(), "/healthz", 10s));
    const std::string err = srv.stderr_text();
    if (err.find("--min-wait-us: IORING_FEAT_MIN_TIMEOUT (Linux 6.12) not available; not used") != std::string::npos) {
      WARN("this kernel has no IORING_FEAT_MIN_TIMEOUT: only the fall-back line is checked");
      return;
    }
    REQUIRE(err.find("waits of at least 50000 µs or 32 completions") != std::string::npos);
    const double ms = sequential_ms(srv, 5);
    CHECK(ms >= 150);  // 4 waits of 50 ms at least; without the option the 5 requests take a few ms
    CHECK(ms < 5000);
  }
  std::vector<std::string> batch2 = args;
  batch2.insert(batch2.end(), {"--min-wait-batch", "2"});
  ServerProcess srv(batch2);
  REQUIRE(http_get(srv.port(), "/healthz", 10s));
  CHECK(sequential_ms(srv, 5) < 150);
}

namespace {

// Runs `ringbench ARGS` in a child where io_uring_setup fails with EPERM (a seccomp filter, as a container
// policy would install); returns the exit code and stderr.
std::pair<int, std::string> run_without_io_uring(const std::vector<std::string>& args) {
  const std::string err_path = "/tmp/ringbench-test-nouring-" + std::to_string(::getpid());
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int out = ::open("/dev/null", O_WRONLY);
    ::dup2(out, 1);
    ::dup2(err, 2);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      ::_exit(99);
    }
    std::vector<std::string> argv{ringbench_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(98);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  std::ifstream f(err_path);
  std::string err((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ::unlink(err_path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, err};
}

}  // namespace

TEST_CASE("io_uring blocked (seccomp): serve uring and probe say why in one line and exit 1", "[uring]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "uring", "--port", "0"}, std::vector<std::string>{"probe"}}) {
    const auto [code, err] = run_without_io_uring(args);
    INFO(err);
    CHECK(code == 1);
    CHECK(err.find("io_uring unavailable") != std::string::npos);
    CHECK(err.find("Operation not permitted") != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
}

namespace {

// The server's ringbench-stats line (printed once at exit), parsed; fails the test when it is missing.
nlohmann::json stats_of(ServerProcess& srv) {
  CHECK(srv.stop() == 0);
  const std::string err = srv.stderr_text();
  const std::string prefix = "ringbench-stats ";
  const std::size_t at = err.find(prefix);
  REQUIRE(at != std::string::npos);
  const std::size_t end = err.find('\n', at);
  REQUIRE(err.find(prefix, at + 1) == std::string::npos);  // one line per process
  return nlohmann::json::parse(err.substr(at + prefix.size(), end - at - prefix.size()));
}

bool fell_back(const ServerProcess& srv, const std::string& option) {
  const std::string err = srv.stderr_text();
  const std::size_t at = err.find("ringbench serve uring: " + option);
  if (at == std::string::npos) return false;
  WARN("not available on this kernel: " << err.substr(at, err.find('\n', at) - at));
  return true;
}

// Requests of ~3 KB with 512-byte provided buffers, pipelined in pairs on one connection, three times.
void send_big_requests(const ServerProcess& srv) {
  Client c(srv.port());
  const std::string big = "GET / HTTP/1.1\r\nHost: t\r\nX-Pad: " + std::string(3000, 'a') + "\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    REQUIRE(c.send(big + get("/healthz")));
    for (int k = 0; k < 2; ++k) {
      const auto r = c.read_response(5s);
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  }
}

}  // namespace

TEST_CASE("the stats line at exit holds the plan, its fallbacks and the loop counters", "[uring]") {
  // --recv-bundle without multishot recv cannot be used: one fallback line, repeated in the stats line.
  ServerProcess srv({"--delay-ms", "0", "--threads", "2", "--no-multishot-recv", "--recv-bundle"});
  const std::string fallback = "--recv-bundle needs multishot recv; not used";
  CHECK(srv.stderr_text().find("ringbench serve uring: " + fallback + "\n") != std::string::npos);
  for (int i = 0; i < 5; ++i) REQUIRE(http_get(srv.port(), "/healthz"));
  const nlohmann::json j = stats_of(srv);
  CHECK(j.at("backend") == "uring");
  CHECK(j.at("loops") == 2);
  CHECK(j.at("per_loop").size() == 2);
  const auto fallbacks = j.at("plan").at("fallbacks").get<std::vector<std::string>>();
  CHECK(std::find(fallbacks.begin(), fallbacks.end(), fallback) != fallbacks.end());
  const auto features = j.at("plan").at("features").get<std::vector<std::string>>();
  CHECK(std::find(features.begin(), features.end(), "recv_bundle") == features.end());
  CHECK(std::find(features.begin(), features.end(), "multishot_accept") != features.end());
  CHECK(j.at("plan").at("summary").get<std::string>().find("single-shot recv") != std::string::npos);
  const nlohmann::json& t = j.at("total");
  CHECK(t.at("accepted") == 5);
  CHECK(t.at("enters").get<uint64_t>() > 0);
  CHECK(t.at("cqes").get<uint64_t>() >= 15);  // per request at least an accept, a recv and a send
  CHECK(t.at("cqes_per_enter").get<double>() > 0);
  CHECK(t.at("ring_resizes") == 0);
  CHECK(t.at("recv_multi_buffer") == 0);
}

// Each switch shows in a counter, so a switch that is silently ignored fails here: bundles fill several
// buffers per completion, an incremental ring keeps a partly filled buffer with the kernel.
TEST_CASE("receive bundles and incremental buffers: multi-buffer completions and kept buffers are counted", "[uring]") {
  struct Variant {
    std::vector<std::string> args;
    bool bundles;
    bool incremental;
  };
  const std::vector<Variant> variants = {
      {{}, false, false},
      {{"--recv-bundle"}, true, false},
      {{"--buf-ring-inc"}, false, true},
      {{"--recv-bundle", "--buf-ring-inc"}, true, true},
  };
  for (const Variant& v : variants) {
    std::vector<std::string> args{"--delay-ms", "0", "--buf-size", "512"};
    args.insert(args.end(), v.args.begin(), v.args.end());
    INFO("server arguments:" << [&] { std::string s; for (const auto& a : args) s += " " + a; return s; }());
    ServerProcess srv(args);
    if (fell_back(srv, "--recv-bundle") || fell_back(srv, "--buf-ring-inc")) continue;
    send_big_requests(srv);
    const nlohmann::json t = stats_of(srv).at("total");
    if (v.bundles) {
      CHECK(t.at("recv_multi_buffer").get<uint64_t>() > 0);
      CHECK(t.at("recv_buffers").get<uint64_t>() > t.at("recv_multi_buffer").get<uint64_t>());
    } else {
      CHECK(t.at("recv_multi_buffer") == 0);
    }
    if (v.incremental) {
      CHECK(t.at("recv_buf_kept").get<uint64_t>() > 0);
    } else {
      CHECK(t.at("recv_buf_kept") == 0);
    }
  }
}

TEST_CASE("no-iowait waits: every wait carries IORING_ENTER_NO_IOWAIT", "[uring]") {
  for (const bool on : {false, true}) {
    ServerProcess srv(on ? std::vector<std::string>{"--delay-ms", "0", "--no-iowait"}
                         : std::vector<std::string>{"--delay-ms", "0"});
    if (on && fell_back(srv, "--no-iowait")) return;
    if (on) CHECK(srv.stderr_text().find("NO_IOWAIT waits") != std::string::npos);
    for (int i = 0; i < 5; ++i) REQUIRE(http_get(srv.port(), "/healthz"));
    const nlohmann::json t = stats_of(srv).at("total");
    if (on) {
      CHECK(t.at("no_iowait_enters").get<uint64_t>() >= 5);
    } else {
      CHECK(t.at("no_iowait_enters") == 0);
    }
  }
}

// On loopback the kernel copies every "zero-copy" send; with usage reports the stats line says so.
TEST_CASE("zero-copy sends the kernel copied are counted, unless usage reports are switched off", "[uring]") {
  for (const bool report : {true, false}) {
    std::vector<std::string> args{"--delay-ms", "0", "--send-zc"};
    if (!report) args.push_back("--no-zc-report-usage");
    ServerProcess srv(args);
    if (fell_back(srv, "--send-zc") || (report && fell_back(srv, "SEND_ZC usage reports"))) return;
    CHECK((srv.stderr_text().find("(copies counted)") != std::string::npos) == report);
    Client c(srv.port());
    for (int i = 0; i < 3; ++i) {
      REQUIRE(c.send(get("/bytes/100000")));
      const auto r = c.read_response(5s);
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->body.size() == 100000);
    }
    const nlohmann::json t = stats_of(srv).at("total");
    CHECK(t.at("zc_sends").get<uint64_t>() >= 3);
    if (report) {
      CHECK(t.at("zc_copied") == t.at("zc_sends"));
    } else {
      CHECK(t.at("zc_copied") == 0);
    }
  }
}

// 150 clients against a table of 100 direct descriptors: the 50 that find it full wait in the backlog and
// are answered once earlier connections close; a direct accept into a full table would reset them.
TEST_CASE("fixed files: clients beyond the descriptor table wait in the backlog, none is reset", "[uring]") {
  ServerProcess srv({"--delay-ms", "200", "--fixed-files", "--fixed-file-slots", "100"});
  if (fell_back(srv, "--fixed-files")) return;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 150; ++i) {
    clients.push_back(std::make_unique<Client>(srv.port()));
    REQUIRE(clients.back()->send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  }
  int ok = 0;
  for (auto& c : clients) {
    const auto r = c->read_response(10s);
    if (r && r->status == 200) ++ok;
  }
  CHECK(ok == 150);
  const nlohmann::json t = stats_of(srv).at("total");
  CHECK(t.at("accept_table_full").get<uint64_t>() >= 1);
  CHECK(t.at("accept_out_of_fds") == 0);
}
