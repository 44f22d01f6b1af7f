// The injected per-request CPU cost (`serve --spin-us`) must be about the size asked for, or the gate's
// detection experiment measures the wrong slowdown.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/cpu_burn.hpp"

using namespace ringbench;

TEST_CASE("cpu burn: many small burns cost what one big burn of the same total costs", "[burn]") {
  burn_ns_per_iteration();  // calibration is not part of the measured burns
  // 20 000 burns of 1 µs (the size of the gate's injections) against one burn of 20 ms: a per-call
  // overshoot shows in their ratio, while a machine that is slower than at calibration (a busy sibling
  // hyperthread) slows both alike. The closest of three alternations, so one interrupt storm cannot fail it.
  double best = 1e9, absolute = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int64_t t0 = thread_cpu_ns();
    for (int i = 0; i < 20'000; ++i) burn_cpu_ns(1'000);
    const int64_t t1 = thread_cpu_ns();
    burn_cpu_ns(20'000'000);
    const int64_t t2 = thread_cpu_ns();
    const double ratio = static_cast<double>(t1 - t0) / static_cast<double>(t2 - t1);
    if (std::abs(ratio - 1.0) < std::abs(best - 1.0)) {
      best = ratio;
      absolute = static_cast<double>(t2 - t1) / 20e6;
    }
  }
  CHECK(best > 0.8);
  CHECK(best < 1.25);
  // And the calibration is about right: not off by a factor (a loop the compiler folded would be ~0).
  CHECK(absolute > 0.5);
  CHECK(absolute < 3.0);
}
