// Calibrated CPU burn; see cpu_burn.hpp.
#include "core/cpu_burn.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace ringbench {
namespace {

// The loop the burn is made of. The empty asm makes `x` opaque, so the compiler can neither fold the
// loop nor drop it; each iteration is one dependent add.
void iterate(uint64_t n) {
  uint64_t x = 0;
  for (uint64_t i = 0; i < n; ++i) {
    x += i;
    asm volatile("" : "+r"(x));
  }
}

double calibrate() {
  constexpr uint64_t kIterations = 2'000'000;
  double best = 1e9;
  // The fastest of several rounds: a round can only be slowed (cache misses after an interrupt), never
  // sped up, so the minimum is the loop's own cost.
  for (int round = 0; round < 5; ++round) {
    const int64_t t0 = thread_cpu_ns();
    iterate(kIterations);
    const int64_t t1 = thread_cpu_ns();
    best = std::min(best, static_cast<double>(t1 - t0) / kIterations);
  }
  return std::max(best, 0.01);
}

}  // namespace

int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double burn_ns_per_iteration() {
  static const double ns = calibrate();
  return ns;
}

void burn_cpu_ns(uint64_t ns) {
  iterate(static_cast<uint64_t>(std::llround(static_cast<double>(ns) / burn_ns_per_iteration())));
}

}  // namespace ringbench
