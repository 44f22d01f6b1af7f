// What both event-loop servers (epoll, io_uring) report at exit about their own waits. Tagged [epoll][uring]:
// runs in both suites, against the backend RINGBENCH_BACKEND names.
#include <signal.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"
#include "test_server.hpp"

using namespace rbtest;
using namespace std::chrono_literals;

namespace {

// The number after `key` in the last exit line that has it ("late_wakeups 3 (41.0 ms in all, worst 30.2 ms, of 900 timed waits)").
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

TEST_CASE("the timer slack (--timer-slack-us) is the grid delays are answered on", "[epoll][uring]") {
  // A 5 ms delay answered on a 10 ms grid comes up to 10 ms late (5 ms in the median); on the default
  // 100 µs grid, within a fraction of a millisecond.
  const auto median_ms = [](const ServerProcess& srv) {
    std::vector<double> ms;
    for (int i = 0; i < 40; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = http_get(srv.port(), "/delay/5", 5s);
      REQUIRE(r);
      REQUIRE(r->status == 200);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      std::this_thread::sleep_for(std::chrono::microseconds(1700 * (i % 7)));  // vary the phase
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  ServerProcess fine({"--delay-ms", "0"});
  ServerProcess coarse({"--delay-ms", "0", "--timer-slack-us", "10000"});
  const double fine_ms = median_ms(fine);
  const double coarse_ms = median_ms(coarse);
  INFO("median latency of /delay/5: " << fine_ms << " ms on the default grid, " << coarse_ms << " ms on 10 ms");
  CHECK(fine_ms >= 5);
  CHECK(fine_ms < 7);
  CHECK(coarse_ms - fine_ms > 2);
}
