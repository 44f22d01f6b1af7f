// DelayTimers (src/delay_timers.hpp): a delay never ends early, ends within one 100 µs slot of its end,
// and the millisecond wake-up it asks for is never before its slot. Run: ctest -R 'unit: DelayTimers'
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>

#include "delay_timers.hpp"

using ringbench::DelayTimers;

TEST_CASE("DelayTimers: a delay pops at its end rounded up to 100 us, never before", "[timer]") {
  const uint64_t start = 5'000'000'123;  // ns: not on a slot boundary
  DelayTimers d(start);
  d.insert(start, 250, 7);
  const uint64_t end = start + 250'000'000;
  uint64_t token = 0;
  CHECK_FALSE(d.pop_expired(end - 1, token));
  const uint64_t due = (end + DelayTimers::kSlotNs - 1) / DelayTimers::kSlotNs * DelayTimers::kSlotNs;
  CHECK_FALSE(d.pop_expired(due - 1, token));
  REQUIRE(d.pop_expired(due, token));
  CHECK(token == 7);
  CHECK(d.size() == 0);
  CHECK_FALSE(d.next_deadline_ms().has_value());
}

TEST_CASE("DelayTimers: the wake-up is the whole millisecond at or after the earliest slot", "[timer]") {
  const uint64_t start = 2'000'000'000;
  DelayTimers d(start);
  d.insert(start + 300'000, 10, 1);  // ends at 2.010300 s: slot 2.0103 s, wake-up at 2011 ms
  d.insert(start, 20, 2);
  REQUIRE(d.next_deadline_ms().has_value());
  CHECK(*d.next_deadline_ms() == 2011);
  const auto id = d.insert(start, 5, 3);  // ends exactly on a millisecond
  CHECK(*d.next_deadline_ms() == 2005);
  CHECK(d.cancel(id));
  CHECK_FALSE(d.pending(id));
  CHECK(*d.next_deadline_ms() == 2011);
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
      CHECK(now - end_of[token] < DelayTimers::kSlotNs + kStepNs);
      end_of.erase(token);
    }
  }
  for (int i = 0; i < 400'000 && !end_of.empty(); ++i) {
    const std::optional<uint64_t> wake = d.next_deadline_ms();
    REQUIRE(wake.has_value());
    CHECK(*wake * 1'000'000 + 999'999 >= now);  // never a wake-up in the past beyond this millisecond
    now += kStepNs;
    while (d.pop_expired(now, token)) {
      CHECK(now >= end_of[token]);
      CHECK(now - end_of[token] < DelayTimers::kSlotNs + kStepNs);
      end_of.erase(token);
    }
  }
  CHECK(end_of.empty());
}
