// The hey-like text summary of a load run (stdout of `ringbench load`).
#pragma once
#include <string>

#include "load/engine.hpp"

namespace ringbench::load {

std::string format_summary(const LoadResult& r);

}  // namespace ringbench::load
