// What the thread-per-connection backend promises beyond the shared suite and the [epoll][threads] cases
// in epoll_test.cpp: a failed thread creation is a clean 503, --pool bounds concurrency, --workers
// preforks. Run: ctest --test-dir build -R '^threads'
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace rbtest;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kGet = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

}  // namespace

TEST_CASE("when no thread can be created the client gets 503 and the server goes on", "[threads]") {
  // A 64 GiB stack cannot be mapped on this machine (overcommit heuristics refuse it), so every
  // pthread_create fails with EAGAIN: the same path as hitting the thread or memory limits.
  ServerProcess srv({"--stack-kb", "67108864", "--delay-ms", "0"}, "threads");
  for (int i = 0; i < 3; ++i) {
    Client c(srv.port());
    c.send(kGet);
    const auto r = c.read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(r->header("connection") == "close");
    CHECK(c.wait_closed(5s));
  }
  CHECK(srv.stop() == 0);
  CHECK(srv.stderr_text().find("3 connections refused with 503") != std::string::npos);
}

TEST_CASE("a pool of N threads serves at most N connections at once", "[threads]") {
  ServerProcess srv({"--pool", "2", "--workers", "1", "--delay-ms", "300", "--keepalive-ms", "0"}, "threads");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  const auto t0 = Clock::now();
  for (auto& c : clients) REQUIRE(c->send(kGet));
  for (auto& c : clients) {
    const auto r = c->read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  const double ms = elapsed_ms(t0);
  CHECK(ms >= 580);   // two rounds of 300 ms
  CHECK(ms < 2500);
}

TEST_CASE("a thread per connection: 50 waiting requests run side by side", "[threads]") {
  ServerProcess srv({"--pool", "0", "--delay-ms", "300", "--stack-kb", "64"}, "threads");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(std::make_unique<Client>(srv.port()));
  const auto t0 = Clock::now();
  for (auto& c : clients) REQUIRE(c->send(kGet));
  int ok = 0;
  for (auto& c : clients) {
    const auto r = c->read_response(5s);
    if (r && r->status == 200) ++ok;
  }
  CHECK(ok == 50);
  CHECK(elapsed_ms(t0) < 1500);
}

TEST_CASE("two preforked pool processes serve", "[threads]") {
  ServerProcess srv({"--pool", "1", "--workers", "2", "--delay-ms", "0", "--keepalive-ms", "0"}, "threads");
  for (int i = 0; i < 20; ++i) {
    const auto r = http_get(srv.port(), "/");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(srv.stop() == 0);
}
