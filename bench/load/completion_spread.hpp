// How evenly the measured window's completions spread over its milliseconds. A closed loop with a fixed
// server delay keeps every connection's phase: a stall (server, client or host) makes the requests it held
// back leave together, and they come back together one delay later, for the rest of the run. Such bunched
// load queues in the server and in the client at every burst, so a latency tail measured under it says
// as much about the bunching as about the server. The load generator reports the spread and warns.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace ringbench::load {

// Completions counted per millisecond of the measured window, for one client thread or merged.
class CompletionsPerMs {
 public:
  void record(int64_t since_window_start_ns) {
    if (since_window_start_ns < 0) return;
    const auto ms = static_cast<std::size_t>(since_window_start_ns / 1'000'000);
    if (ms >= counts_.size()) counts_.resize(ms + 1 + ms / 2);  // amortised growth over the run
    ++counts_[ms];
  }
  void merge(const CompletionsPerMs& other) {
    if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size());
    for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  }
  const std::vector<uint32_t>& counts() const { return counts_; }

 private:
  std::vector<uint32_t> counts_;
};

struct CompletionSpread {
  uint64_t window_ms = 0;
  double mean = 0;          // completions per millisecond
  uint32_t p50 = 0, p99 = 0, max = 0;
  double empty_share = 0;   // share of the window's milliseconds without a completion
  nlohmann::json to_json() const;
};

// Over the first `window_ms` milliseconds (the measured window; later counts are ignored).
CompletionSpread describe_spread(const CompletionsPerMs& per_ms, uint64_t window_ms);

// Below this mean a millisecond without completions is expected (Poisson: e^-mean), not a sign of bunching.
inline constexpr double kSpreadMinMean = 5;
// At or above this share of empty milliseconds (with mean >= kSpreadMinMean) the load counts as bunched.
inline constexpr double kBunchedEmptyShare = 0.10;

}  // namespace ringbench::load
