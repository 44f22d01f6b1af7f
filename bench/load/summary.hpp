// The hey-like text summary of a load run (stdout of `ringbench load`).
#pragma once
#include <string>

#include "load/engine.hpp"

namespace ringbench::load {

std::string format_summary(const LoadResult& r);

// Seconds with hey's 4 decimals, and enough more below 0.1 s to keep three significant digits
// (0.000123, never 0.0000).
std::string format_seconds(double seconds);

}  // namespace ringbench::load
