// TimerWheel (src/core/timer_wheel.hpp): ordering, cancel, stale ids, long deadlines, clock jumps, 100 000
// timers, and a randomised comparison with a std::multimap model. Run: ctest -R 'unit: TimerWheel'
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "core/timer_wheel.hpp"

using ringbench::TimerId;
using ringbench::TimerWheel;

namespace {

std::vector<uint64_t> pop_all(TimerWheel& w, uint64_t now) {
  std::vector<uint64_t> out;
  uint64_t token = 0;
  while (w.pop_expired(now, token)) out.push_back(token);
  return out;
}

}  // namespace

TEST_CASE("TimerWheel: an empty wheel has no timeout and pops nothing", "[timer]") {
  TimerWheel w(1000);
  uint64_t token = 0;
  CHECK(w.next_timeout(1000) == -1);
  CHECK_FALSE(w.next_deadline());
  CHECK_FALSE(w.pop_expired(5000, token));
  CHECK(w.empty());
}

TEST_CASE("TimerWheel: timers fire at their deadline, not before, earliest first", "[timer]") {
  TimerWheel w(1000);
  w.insert(1250, 7);
  w.insert(1010, 3);
  w.insert(1100, 5);
  CHECK(w.size() == 3);
  CHECK(w.next_timeout(1000) == 10);
  CHECK(pop_all(w, 1009).empty());
  CHECK(pop_all(w, 1010) == std::vector<uint64_t>{3});
  CHECK(w.next_timeout(1010) == 90);
  CHECK(pop_all(w, 1249) == std::vector<uint64_t>{5});
  CHECK(w.next_timeout(1249) == 1);
  CHECK(pop_all(w, 1250) == std::vector<uint64_t>{7});
  CHECK(w.empty());
  CHECK(w.next_timeout(1250) == -1);
}

TEST_CASE("TimerWheel: many timers in one millisecond all fire", "[timer]") {
  TimerWheel w(0);
  for (uint64_t t = 0; t < 500; ++t) w.insert(250, t);
  const std::vector<uint64_t> fired = pop_all(w, 300);
  CHECK(fired.size() == 500);
  CHECK(std::set<uint64_t>(fired.begin(), fired.end()).size() == 500);
}

TEST_CASE("TimerWheel: cancel removes a pending timer, and stale ids are recognised", "[timer]") {
  TimerWheel w(0);
  const TimerId a = w.insert(100, 1);
  const TimerId b = w.insert(100, 2);
  CHECK(w.pending(a));
  CHECK(w.deadline(a) == 100u);
  CHECK(w.cancel(a));
  CHECK_FALSE(w.pending(a));
  CHECK_FALSE(w.cancel(a));  // twice
  CHECK_FALSE(w.cancel(TimerId{}));
  CHECK(pop_all(w, 100) == std::vector<uint64_t>{2});
  CHECK_FALSE(w.cancel(b));  // already fired

  // The pool reuses a freed node; the old ids must not cancel the new timer.
  const TimerId c = w.insert(200, 3);
  CHECK((c.index == a.index || c.index == b.index));
  CHECK_FALSE(w.cancel(a));
  CHECK_FALSE(w.cancel(b));
  CHECK(w.pending(c));
  CHECK(pop_all(w, 200) == std::vector<uint64_t>{3});
}

TEST_CASE("TimerWheel: cancelling the last timer of a slot clears the timeout", "[timer]") {
  TimerWheel w(0);
  const TimerId a = w.insert(50, 1);
  w.insert(80, 2);
  CHECK(w.next_timeout(0) == 50);
  w.cancel(a);
  CHECK(w.next_timeout(0) == 80);
}

TEST_CASE("TimerWheel: a deadline already past fires on the next millisecond", "[timer]") {
  TimerWheel w(0);
  CHECK(pop_all(w, 1000).empty());
  w.insert(10, 9);  // in the past
  CHECK(w.next_timeout(1000) == 1);
  CHECK(pop_all(w, 1001) == std::vector<uint64_t>{9});
}

TEST_CASE("TimerWheel: deadlines beyond the wheel's span fire exactly on time", "[timer]") {
  const uint64_t span = TimerWheel::kSlots;
  TimerWheel w(0);
  w.insert(3 * span + 17, 1);  // same slot as 17, three turns later
  w.insert(17, 2);
  w.insert(span + 5, 3);
  CHECK(pop_all(w, 17) == std::vector<uint64_t>{2});
  // next_deadline may be early for a far timer, never late.
  uint64_t now = 17;
  std::vector<std::pair<uint64_t, uint64_t>> fired;  // (now, token)
  while (!w.empty()) {
    const int t = w.next_timeout(now);
    REQUIRE(t >= 0);
    now += static_cast<uint64_t>(t == 0 ? 1 : t);
    for (uint64_t tok : pop_all(w, now)) fired.emplace_back(now, tok);
    REQUIRE(now <= 4 * span);
  }
  REQUIRE(fired.size() == 2);
  CHECK(fired[0] == std::make_pair(span + 5, uint64_t{3}));
  CHECK(fired[1] == std::make_pair(3 * span + 17, uint64_t{1}));
}

TEST_CASE("TimerWheel: a large clock jump pops everything due and keeps the rest", "[timer]") {
  TimerWheel w(0);
  for (uint64_t t = 1; t <= 1000; ++t) w.insert(t * 300, t);  // up to 300 s, several turns
  const std::vector<uint64_t> fired = pop_all(w, 150'000);
  CHECK(fired.size() == 500);
  for (uint64_t tok : fired) CHECK(tok * 300 <= 150'000);
  CHECK(w.size() == 500);
  CHECK(pop_all(w, 299'999).size() == 499);
  CHECK(pop_all(w, 300'000) == std::vector<uint64_t>{1000});
}

TEST_CASE("TimerWheel: holds 100 000 timers, and cancelled ones never fire", "[timer]") {
  constexpr uint64_t kCount = 100'000;
  TimerWheel w(0, kCount);
  std::mt19937_64 rng(42);
  std::vector<TimerId> ids;
  std::vector<uint64_t> deadlines;
  for (uint64_t t = 0; t < kCount; ++t) {
    deadlines.push_back(1 + rng() % 20'000);
    ids.push_back(w.insert(deadlines.back(), t));
  }
  CHECK(w.size() == kCount);
  for (uint64_t t = 0; t < kCount; t += 2) REQUIRE(w.cancel(ids[t]));
  uint64_t now = 0;
  std::size_t fired = 0;
  uint64_t token = 0;
  while (!w.empty()) {
    now += static_cast<uint64_t>(std::max(1, w.next_timeout(now)));
    while (w.pop_expired(now, token)) {
      REQUIRE(token % 2 == 1);
      REQUIRE(deadlines[token] == now);  // next_timeout() was exact: every deadline is within the span
      REQUIRE_FALSE(w.pending(ids[token]));
      ++fired;
    }
  }
  CHECK(fired == kCount / 2);
}

TEST_CASE("TimerWheel: agrees with a multimap model under random operations", "[timer]") {
  std::mt19937_64 rng(7);
  TimerWheel w(500);
  std::multimap<uint64_t, uint64_t> model;  // deadline -> token
  std::map<uint64_t, TimerId> ids;          // token -> id
  std::map<uint64_t, uint64_t> deadline_of;
  uint64_t now = 500;
  uint64_t cursor = 500;  // the wheel's time: past deadlines are clamped to it
  uint64_t next_token = 1;
  for (int step = 0; step < 200'000; ++step) {
    const uint64_t op = rng() % 10;
    if (op < 5) {
      // Mostly near deadlines, some beyond the wheel's span, some in the past.
      const uint64_t kind = rng() % 20;
      uint64_t d = now + rng() % 300;
      if (kind == 0) d = now + rng() % (3 * TimerWheel::kSlots);
      if (kind == 1 && now > 10) d = now - rng() % 10;
      const uint64_t tok = next_token++;
      ids[tok] = w.insert(d, tok);
      deadline_of[tok] = std::max(d, cursor);
      model.emplace(deadline_of[tok], tok);
    } else if (op < 7 && !ids.empty()) {
      auto it = ids.lower_bound(rng() % next_token);
      if (it == ids.end()) it = ids.begin();
      REQUIRE(w.cancel(it->second));
      const auto range = model.equal_range(deadline_of[it->first]);
      for (auto m = range.first; m != range.second; ++m) {
        if (m->second == it->first) {
          model.erase(m);
          break;
        }
      }
      deadline_of.erase(it->first);
      ids.erase(it);
    } else {
      if (const auto nd = w.next_deadline(); nd && !model.empty()) REQUIRE(*nd <= model.begin()->first);
      now += rng() % 40;
      std::set<uint64_t> fired;
      uint64_t tok = 0;
      while (w.pop_expired(now, tok)) REQUIRE(fired.insert(tok).second);
      cursor = std::max(cursor, now + 1);
      std::set<uint64_t> expected;
      while (!model.empty() && model.begin()->first <= now) {
        expected.insert(model.begin()->second);
        ids.erase(model.begin()->second);
        deadline_of.erase(model.begin()->second);
        model.erase(model.begin());
      }
      REQUIRE(fired == expected);
    }
    REQUIRE(w.size() == model.size());
  }
}
