// The one clock every loop, timer and load worker reads: CLOCK_MONOTONIC, in nanoseconds or milliseconds.
#pragma once
#include <time.h>

#include <cstdint>

namespace ringbench {

inline uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t monotonic_ms() { return monotonic_ns() / 1'000'000; }

}  // namespace ringbench
