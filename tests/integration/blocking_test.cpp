// What only the blocking server promises (tag [blocking]): one request at a time per process, so
// concurrency comes from --workers alone.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace rbtest;

namespace {

// Sends `n` requests at once, each on its own connection; returns the seconds until all were answered.
double concurrent_gets(uint16_t port, int n) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::future<int>> replies;
  for (int i = 0; i < n; ++i) {
    replies.push_back(std::async(std::launch::async, [port] {
      const auto r = http_get(port, "/", 10s);
      return r ? r->status : 0;
    }));
  }
  for (auto& f : replies) CHECK(f.get() == 200);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("one blocking worker serialises: 8 requests of 250 ms take about 2 s", "[blocking]") {
  ServerProcess srv({"--delay-ms", "250"}, "blocking");
  const double s = concurrent_gets(srv.port(), 8);
  CHECK(s >= 1.9);
  CHECK(s < 3.5);
}

TEST_CASE("four blocking workers: 8 requests of 250 ms take about 0.5 s", "[blocking]") {
  ServerProcess srv({"--delay-ms", "250", "--workers", "4"}, "blocking");
  const double s = concurrent_gets(srv.port(), 8);
  CHECK(s >= 0.45);
  CHECK(s < 1.5);
}

TEST_CASE("the blocking server closes after each reply unless keep-alive is asked for", "[blocking]") {
  ServerProcess srv({"--delay-ms", "0"}, "blocking");
  Client c(srv.port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->header("connection") == "close");
  CHECK(c.wait_closed());
}

TEST_CASE("connection churn leaks no descriptors", "[blocking]") {
  ServerProcess srv({"--delay-ms", "0"}, "blocking");
  REQUIRE(http_get(srv.port(), "/healthz"));
  const int before = srv.wait_fds_at_most(srv.open_fds() - 1, 500ms);  // the health check's socket, once closed
  for (int i = 0; i < 300; ++i) {
    Client c(srv.port());
    if (i % 3 == 0) {
      c.reset();  // gone before it sent anything
    } else if (i % 3 == 1) {
      c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      CHECK(c.read_response());
    } else {
      c.send("GET / HTTP/1.1\r\nHo");  // gone mid-request
      c.reset();
    }
  }
  REQUIRE(http_get(srv.port(), "/healthz"));
  CHECK(srv.wait_fds_at_most(before) <= before);
}

namespace {
// The worker processes of a preforked server (its direct children), from /proc. "listening on" is
// printed before the fork, so this waits (bounded) until `n` are there.
std::vector<pid_t> children_of(pid_t pid, std::size_t n) {
  std::vector<pid_t> out;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  do {
    out.clear();
    std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    for (pid_t c; f >> c;) out.push_back(c);
    if (out.size() >= n) break;
    std::this_thread::sleep_for(5ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return out;
}

bool gone_within(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string skip, state;
    if (!(stat >> skip >> skip >> state) || state == "Z") return true;  // gone, or dead and not yet reaped
    std::this_thread::sleep_for(20ms);
  }
  return false;
}
}  // namespace

TEST_CASE("preforked workers never outlive their supervisor", "[blocking]") {
  SECTION("SIGTERM right after start-up stops every worker, every time") {
    // A stop signal that lands between a stop check and a blocking accept/waitpid must not be lost, or
    // workers stay in accept until the harness kills the supervisor, orphaning them. Many quick stops
    // give that window many chances.
    for (int i = 0; i < 15; ++i) {
      ServerProcess srv({"--delay-ms", "0", "--workers", "4"}, "blocking");
      const std::vector<pid_t> workers = children_of(srv.pid(), 4);
      CHECK(workers.size() == 4);
      srv.send_signal(SIGTERM);
      const auto status = srv.wait_exit(3s);
      REQUIRE(status);
      CHECK(*status == 0);
      for (pid_t w : workers) CHECK(gone_within(w, 1s));
    }
  }
  SECTION("a supervisor killed outright takes its workers along") {
    ServerProcess srv({"--delay-ms", "0", "--workers", "4"}, "blocking");
    const std::vector<pid_t> workers = children_of(srv.pid(), 4);
    REQUIRE(workers.size() == 4);
    srv.send_signal(SIGKILL);
    REQUIRE(srv.wait_exit(3s));
    for (pid_t w : workers) CHECK(gone_within(w, 3s));
  }
}
