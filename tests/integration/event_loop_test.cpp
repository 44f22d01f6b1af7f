// What both event-loop servers (epoll, io_uring) report at exit about their own waits. Tagged [epoll][uring]:
// runs in both suites, against the backend RINGBENCH_BACKEND names.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace rbtest;
using namespace std::chrono_literals;

namespace {

// The number after `key` in the last exit line that has it ("late_wakeups 3 (41.0 ms in all, worst 30.2 ms)").
double figure_after(const std::string& text, const std::string& key) {
  const auto at = text.rfind(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

}  // namespace

TEST_CASE("a loop held past its timer reports the late wake-up at exit", "[epoll][uring]") {
  ServerProcess srv({"--delay-ms", "300"});
  // The loop sleeps until the reply is due at ~300 ms; stopped from 100 ms to 700 ms, it wakes ~400 ms late.
  auto reply = std::async(std::launch::async, [&] { return http_get(srv.port(), "/", 10s); });
  std::this_thread::sleep_for(100ms);
  srv.send_signal(SIGSTOP);
  std::this_thread::sleep_for(600ms);
  srv.send_signal(SIGCONT);
  const auto r = reply.get();
  REQUIRE(r);
  CHECK(r->status == 200);
  REQUIRE(srv.stop() == 0);
  const std::string err = srv.stderr_text();
  INFO(err);
  CHECK(figure_after(err, "late_wakeups ") >= 1);
  const double worst = figure_after(err, "in all, worst ");
  CHECK(worst >= 250);
  CHECK(worst < 2000);
}
