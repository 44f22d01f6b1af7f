#include "load/completion_spread.hpp"

#include <catch2/catch.hpp>

using namespace ringbench::load;

namespace {
constexpr int64_t kMs = 1'000'000;
}

TEST_CASE("completion spread: an even load has no empty milliseconds", "[spread]") {
  CompletionsPerMs c;
  for (int64_t ms = 0; ms < 1000; ++ms) {
    for (int i = 0; i < 40; ++i) c.record(ms * kMs + i * 20'000);
  }
  const CompletionSpread s = describe_spread(c, 1000);
  CHECK(s.window_ms == 1000);
  CHECK(s.mean == Approx(40));
  CHECK(s.p50 == 40);
  CHECK(s.max == 40);
  CHECK(s.empty_share == 0);
}

TEST_CASE("completion spread: the same completions in bursts every 50 ms", "[spread]") {
  CompletionsPerMs c;
  for (int64_t ms = 0; ms < 1000; ms += 50) {
    for (int i = 0; i < 2000; ++i) c.record(ms * kMs);
  }
  const CompletionSpread s = describe_spread(c, 1000);
  CHECK(s.mean == Approx(40));
  CHECK(s.p50 == 0);
  CHECK(s.max == 2000);
  CHECK(s.empty_share == Approx(0.98));
}

TEST_CASE("completion spread: merges threads, ignores what falls outside the window", "[spread]") {
  CompletionsPerMs a, b;
  a.record(0);
  b.record(0);
  b.record(3 * kMs + 5);
  b.record(-1);            // before the window (warm-up)
  b.record(10'000 * kMs);  // after it
  a.merge(b);
  const CompletionSpread s = describe_spread(a, 4);
  CHECK(s.max == 2);
  CHECK(s.mean == Approx(0.75));
  CHECK(s.empty_share == Approx(0.5));
  CHECK(describe_spread(CompletionsPerMs{}, 0).mean == 0);
  CHECK(describe_spread(CompletionsPerMs{}, 5).empty_share == 1);
}
