// What the event-driven and thread-per-connection backends promise beyond the shared suite. Cases tagged
// [epoll][threads] run in both suites (the backend comes from RINGBENCH_BACKEND); [epoll] alone is the
// epoll loop's own: resets freed at once, --max-connections, EMFILE without spinning, 1 000 waiting
// requests. Run: ctest --test-dir build -R '^(epoll|threads)'
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
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

const std::string kGet = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

// Polls the server's descriptor count until it equals `want` or `timeout` passes; returns the last count.
int wait_fds(const ServerProcess& srv, int want, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int n = srv.open_fds();
  while (n != want && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    n = srv.open_fds();
  }
  return n;
}

// The descriptor count once it has stopped changing (a client that just left may not be closed yet).
int settled_fds(const ServerProcess& srv) {
  int n = srv.open_fds();
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(50ms);
    const int m = srv.open_fds();
    if (m == n) return n;
    n = m;
  }
  return n;
}

// Lets this test process open many client sockets.
void raise_own_nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace

TEST_CASE("100 concurrent 250 ms requests finish in well under a second", "[epoll][threads]") {
  ServerProcess srv({"--delay-ms", "250"});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  const auto t0 = Clock::now();
  for (auto& c : clients) REQUIRE(c->send(kGet));
  int ok = 0;
  for (auto& c : clients) {
    const auto r = c->read_response(5s);
    if (r && r->status == 200 && r->body == "Hello, World!\n") ++ok;
  }
  const double ms = elapsed_ms(t0);
  CHECK(ok == 100);
  CHECK(ms >= 245);
  CHECK(ms < 900);  // serial service would take 25 s
}

TEST_CASE("connection churn leaves no descriptor behind", "[epoll][threads]") {
  ServerProcess srv({"--delay-ms", "0", "--header-timeout-ms", "500", "--linger-ms", "200"});
  REQUIRE(http_get(srv.port(), "/healthz"));  // threads: let the per-process refuser thread start first
  const int baseline = settled_fds(srv);
  for (int i = 0; i < 300; ++i) {
    Client c(srv.port());
    switch (i % 5) {
      case 0:  // a full request, then a close
        c.send(kGet);
        REQUIRE(c.read_response(5s));
        break;
      case 1:  // a reset right after the request
        c.send(kGet);
        c.reset();
        break;
      case 2:  // half a request, then a reset
        c.send("GET / HTTP/1.1\r\nHo");
        c.reset();
        break;
      case 3:  // bad input: 400, linger, close
        c.send("BAD\r\n\r\n");
        REQUIRE(c.read_response(5s));
        break;
      default:  // connect and leave at once
        break;
    }
  }
  CHECK(wait_fds(srv, baseline, 5s) == baseline);
  CHECK(http_get(srv.port(), "/healthz")->status == 200);
}

TEST_CASE("a reset while the request waits frees its connection at once", "[epoll]") {
  ServerProcess srv({"--delay-ms", "5000"});
  const int baseline = srv.open_fds();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<Client>(srv.port()));
    REQUIRE(clients.back()->send(kGet));
  }
  REQUIRE(wait_fds(srv, baseline + 20, 3s) == baseline + 20);
  const auto t0 = Clock::now();
  for (auto& c : clients) c->reset();
  CHECK(wait_fds(srv, baseline, 3s) == baseline);
  CHECK(elapsed_ms(t0) < 2000);  // the delay is 5 s: the timers were cancelled, not waited out
  CHECK(http_get(srv.port(), "/healthz")->status == 200);
}

TEST_CASE("a reset while the request waits is cleaned up when the delay ends", "[threads]") {
  // Blocking I/O sleeps through the reset (nanosleep, like gunicorn's gthread); nothing may leak.
  ServerProcess srv({"--delay-ms", "400"});
  REQUIRE(http_get(srv.port(), "/healthz"));
  const int baseline = settled_fds(srv);
  for (int i = 0; i < 20; ++i) {
    Client c(srv.port());
    REQUIRE(c.send(kGet));
    c.reset();
  }
  CHECK(wait_fds(srv, baseline, 5s) == baseline);
  CHECK(http_get(srv.port(), "/healthz")->status == 200);
}

TEST_CASE("SIGTERM with an idle keep-alive client exits promptly after the in-flight replies", "[epoll][threads]") {
  ServerProcess srv({"--delay-ms", "300", "--keepalive-ms", "60000", "--drain-ms", "3000"});
  Client idle(srv.port());
  REQUIRE(idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  REQUIRE(idle.read_response(5s));
  Client busy(srv.port());
  REQUIRE(busy.send(kGet));
  std::this_thread::sleep_for(50ms);
  const auto t0 = Clock::now();
  srv.send_signal(SIGTERM);
  const auto r = busy.read_response(5s);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(idle.wait_closed(3s));
  CHECK(srv.wait_exit(5s) == std::optional<int>(0));
  CHECK(elapsed_ms(t0) < 2000);  // the idle client does not hold the drain to its 3 s bound
}

TEST_CASE("a request longer than --drain-ms is cut at the drain deadline", "[epoll][threads]") {
  ServerProcess srv({"--delay-ms", "10000", "--drain-ms", "300"});
  Client c(srv.port());
  REQUIRE(c.send(kGet));
  std::this_thread::sleep_for(100ms);
  const auto t0 = Clock::now();
  srv.send_signal(SIGTERM);
  CHECK(srv.wait_exit(5s) == std::optional<int>(0));
  CHECK(elapsed_ms(t0) < 2500);
  CHECK(c.wait_closed(2s));
}

TEST_CASE("over --max-connections a client gets 503 and the server goes on", "[epoll]") {
  ServerProcess srv({"--delay-ms", "0", "--max-connections", "3", "--keepalive-ms", "60000"});
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Client>(srv.port()));
    REQUIRE(held.back()->send(kGet));
    REQUIRE(held.back()->read_response(5s)->status == 200);
  }
  {
    Client extra(srv.port());
    extra.send(kGet);
    const auto r = extra.read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(extra.wait_closed(5s));
  }
  held.pop_back();
  std::optional<HttpResponse> r;
  for (int attempt = 0; attempt < 50 && !(r && r->status == 200); ++attempt) {
    r = http_get(srv.port(), "/healthz");  // the server sees the close a moment later
    if (!(r && r->status == 200)) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("out of descriptors: clients get 503 without a busy loop and service resumes", "[epoll]") {
  raise_own_nofile();
  auto srv = std::make_unique<ServerProcess>(std::vector<std::string>{"--delay-ms", "0", "--keepalive-ms", "60000"});
  const rlimit low{40, 40};
  REQUIRE(::prlimit(srv->pid(), RLIMIT_NOFILE, &low, nullptr) == 0);  // the running server now has 40

  std::vector<std::unique_ptr<Client>> clients;
  int ok = 0;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    clients.push_back(std::make_unique<Client>(srv->port()));
    clients.back()->send(kGet);
    const auto r = clients.back()->read_response(5s);
    if (r && r->status == 200) ++ok;
    if (r && r->status == 503) ++refused;
  }
  CHECK(ok >= 20);
  CHECK(refused >= 10);
  CHECK(ok + refused == 60);
  const double before = srv->cpu_seconds();
  std::this_thread::sleep_for(500ms);
  CHECK(srv->cpu_seconds() - before <= 0.1);  // at most 0.1 s of CPU in 0.5 s: not spinning
  clients.clear();
  std::optional<HttpResponse> r;
  for (int attempt = 0; attempt < 50 && !(r && r->status == 200); ++attempt) {
    r = http_get(srv->port(), "/healthz");
    if (!(r && r->status == 200)) std::this_thread::sleep_for(20ms);
  }
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("1 000 requests wait on the timer wheel at once", "[epoll]") {
  raise_own_nofile();
  ServerProcess srv({"--delay-ms", "500"});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 1000; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  const auto t0 = Clock::now();
  for (auto& c : clients) REQUIRE(c->send(kGet));
  int ok = 0;
  for (auto& c : clients) {
    const auto r = c->read_response(10s);
    if (r && r->status == 200) ++ok;
  }
  CHECK(ok == 1000);
  CHECK(elapsed_ms(t0) < 3000);  // one after another would take 500 s
}
