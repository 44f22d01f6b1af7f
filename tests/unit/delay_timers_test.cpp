// DelayTimers (src/core/delay_timers.hpp): a delay never ends early, ends within one 100 µs slot of its end,
// and the wake-up it asks for is its slot's own time, never before it and not rounded to a millisecond. Run: ctest -R 'unit: DelayTimers'
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>

#include "core/delay_timers.hpp"

using ringbench::DelayTimers;

TEST_CASE("DelayTimers: a delay pops at its end rounded up to 100 us, never before", "[timer]") {
  const uint64_t start = 5'000'000'123;  // ns: not on a slot boundary
  DelayTimers d(start);
  d.insert(start, 250, 7);
  const uint64_t end = start + 250'000'000;
  uint64_t token = 0;
  CHECK_FALSE(d.pop_expired(end - 1, token));
  const uint64_t due = (end + DelayTimers::kDefaultSlotNs - 1) / DelayTimers::kDefaultSlotNs * DelayTimers::kDefaultSlotNs;
  CHECK_FALSE(d.pop_expired(due - 1, token));
  REQUIRE(d.pop_expired(due, token));
  CHECK(token == 7);
  CHECK(d.size() == 0);
  CHECK_FALSE(d.next_deadline_ns().has_value());
}

TEST_CASE("DelayTimers: the wake-up is the earliest slot's own time, not the next millisecond", "[timer]") {
  const uint64_t start = 2'000'000'000;
  DelayTimers d(start);
  d.insert(start + 300'000, 10, 1);  // ends at 2.010300 s: its slot, and the wake-up, at 2.0103 s
  d.insert(start + 250'000, 10, 4);  // ends at 2.010250 s: rounded up to the same slot
  d.insert(start, 20, 2);
  REQUIRE(d.next_deadline_ns().has_value());
  CHECK(*d.next_deadline_ns() == 2'010'300'000);
  const auto id = d.insert(start, 5, 3);  // ends exactly on a slot boundary
  CHECK(*d.next_deadline_ns() == 2'005'000'000);
  CHECK(d.cancel(id));
  CHECK_FALSE(d.pending(id));
  CHECK(*d.next_deadline_ns() == 2'010'300'000);
  uint64_t token = 0;
  CHECK_FALSE(d.pop_expired(2'010'299'999, token));
  REQUIRE(d.pop_expired(2'010'300'000, token));
  REQUIRE(d.pop_expired(2'010'300'000, token));
  CHECK_FALSE(d.pop_expired(2'010'300'000, token));
  CHECK(*d.next_deadline_ns() == 2'020'000'000);
}

TEST_CASE("DelayTimers: random delays and start times all pop within one slot after their end", "[timer]") {
  std::mt19937_64 rng(42);
  uint64_t now = 1'000'000'000;
  DelayTimers d(now);
  std::map<uint64_t, uint64_t> end_of;  // token -> end (ns)
  constexpr uint64_t kStepNs = 7'000;  // the loop's clock advances in uneven small steps
  uint64_t token = 0;
  for (uint64_t t = 1; t <= 20'000; ++t) {
    now += rng() % kStepNs;
    const auto ms = static_cast<uint32_t>(rng() % 300);
    d.insert(now, ms, t);
    end_of[t] = now + uint64_t{ms} * 1'000'000;
    while (d.pop_expired(now, token)) {
      REQUIRE(end_of.count(token) == 1);
      CHECK(now >= end_of[token]);
      CHECK(now - end_of[token] < DelayTimers::kDefaultSlotNs + kStepNs);
      end_of.erase(token);
    }
  }
  for (int i = 0; i < 400'000 && !end_of.empty(); ++i) {
    const std::optional<uint64_t> wake = d.next_deadline_ns();
    REQUIRE(wake.has_value());
    CHECK(*wake > now);  // the slot after the last pop: never a wake-up in the past
    now += kStepNs;
    while (d.pop_expired(now, token)) {
      CHECK(now >= end_of[token]);
      CHECK(now - end_of[token] < DelayTimers::kDefaultSlotNs + kStepNs);
      end_of.erase(token);
    }
  }
  CHECK(end_of.empty());
}

TEST_CASE("DelayTimers: the slack sets the grid: 1 ms slots answer on whole milliseconds", "[timer]") {
  const uint64_t start = 3'000'000'000;
  DelayTimers d(start, 1'000'000);
  CHECK(d.slot_ns() == 1'000'000);
  d.insert(start + 300'000, 10, 1);  // ends at 3.010300 s: answered at 3.011 s
  d.insert(start + 900'000, 10, 2);  // ends at 3.010900 s: the same wake-up
  REQUIRE(d.next_deadline_ns().has_value());
  CHECK(*d.next_deadline_ns() == 3'011'000'000);
  uint64_t token = 0;
  CHECK_FALSE(d.pop_expired(3'010'999'999, token));
  CHECK(d.pop_expired(3'011'000'000, token));
  CHECK(d.pop_expired(3'011'000'000, token));
  CHECK(d.size() == 0);
}
