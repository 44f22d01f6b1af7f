// The io_uring server's machine-readable account of a run: the effective plan (features in use, every
// fallback line) and the loops' counters, as one JSON line on stderr prefixed `ringbench-stats `, printed
// once when the server exits, so that a runner can record what actually ran.
#pragma once
#include <string>
#include <vector>

#include "uring/features.hpp"
#include "uring_server/loop.hpp"

namespace ringbench {

inline constexpr const char* kStatsPrefix = "ringbench-stats ";

// One line, without the newline: kStatsPrefix followed by a JSON object (format in docs/serve.md).
std::string stats_line(const UringPlan& plan, const std::vector<LoopCounters>& loops);

}  // namespace ringbench
