#include "core/wait_lateness.hpp"

#include <catch2/catch.hpp>

using ringbench::WaitLateness;

namespace {
constexpr uint64_t kMs = 1'000'000;
}

TEST_CASE("WaitLateness: on time, early and within tolerance are not late", "[wait_lateness]") {
  WaitLateness w;
  w.record(0, 10 * kMs, 5 * kMs);               // woken early by an event
  w.record(0, 10 * kMs, 10 * kMs);              // exactly on time
  w.record(0, 10 * kMs, 10 * kMs + kMs - 1);    // within the 1 ms tolerance
  CHECK(w.count() == 0);
  CHECK(w.total_ms() == 0);
  CHECK(w.worst_ms() == 0);
}

TEST_CASE("WaitLateness: a late wake-up counts from the deadline", "[wait_lateness]") {
  WaitLateness w;
  w.record(0, 10 * kMs, 30 * kMs);  // 20 ms late
  w.record(0, 10 * kMs, 15 * kMs);  // 5 ms late
  CHECK(w.count() == 2);
  CHECK(w.total_ms() == Approx(25));
  CHECK(w.worst_ms() == Approx(20));
}

TEST_CASE("WaitLateness: a deadline already past when the wait began counts only the wait", "[wait_lateness]") {
  WaitLateness w;
  w.record(50 * kMs, 10 * kMs, 50 * kMs + kMs / 2);  // the loop was busy past the deadline, then woke at once
  CHECK(w.count() == 0);
  w.record(50 * kMs, 10 * kMs, 60 * kMs);            // ...then slept 10 ms more than it asked for
  CHECK(w.count() == 1);
  CHECK(w.worst_ms() == Approx(10));
}

TEST_CASE("WaitLateness: long sleeps get epoll's 0.1 % slack on top of the tolerance", "[wait_lateness]") {
  WaitLateness w;
  w.record(0, 10'000 * kMs, 10'000 * kMs + 10 * kMs);  // 10 s timeout: 1 ms + 10 ms allowed
  CHECK(w.count() == 0);
  w.record(0, 10'000 * kMs, 10'000 * kMs + 12 * kMs);
  CHECK(w.count() == 1);
}
