#include "load/completion_spread.hpp"

#include <algorithm>

namespace ringbench::load {

CompletionSpread describe_spread(const CompletionsPerMs& per_ms, uint64_t window_ms) {
  CompletionSpread s;
  s.window_ms = window_ms;
  if (window_ms == 0) return s;
  std::vector<uint32_t> c(window_ms, 0);
  const auto& counts = per_ms.counts();
  std::copy_n(counts.begin(), std::min<std::size_t>(counts.size(), window_ms), c.begin());
  uint64_t total = 0, empty = 0;
  for (const uint32_t n : c) {
    total += n;
    if (n == 0) ++empty;
  }
  s.mean = static_cast<double>(total) / static_cast<double>(window_ms);
  s.empty_share = static_cast<double>(empty) / static_cast<double>(window_ms);
  std::sort(c.begin(), c.end());
  const auto at = [&](double q) { return c[std::min<std::size_t>(c.size() - 1, static_cast<std::size_t>(q * static_cast<double>(c.size())))]; };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.max = c.back();
  return s;
}

nlohmann::json CompletionSpread::to_json() const {
  return {{"window_ms", window_ms}, {"mean", mean}, {"p50", p50}, {"p99", p99}, {"max", max},
          {"empty_share", empty_share}};
}

}  // namespace ringbench::load
