// LatencyHistogram: bucket bounds, percentiles and merging; see histogram.hpp.
#include "load/histogram.hpp"

#include <cmath>

namespace ringbench::load {

uint64_t LatencyHistogram::lowest_of(unsigned index) {
  if (index < kSubCount) return index;
  const unsigned rel = index - kSubCount;
  const unsigned shift = rel / kHalfCount + 1;
  const uint64_t sub = kHalfCount + rel % kHalfCount;
  return sub << shift;
}

uint64_t LatencyHistogram::highest_of(unsigned index) {
  if (index < kSubCount) return index;
  const unsigned shift = (index - kSubCount) / kHalfCount + 1;
  return lowest_of(index) + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  sum_ns_ += other.sum_ns_;
  if (other.total_) {
    if (other.min_ < min_) min_ = other.min_;
    if (other.max_ > max_) max_ = other.max_;
  }
}

uint64_t LatencyHistogram::value_at_percentile(double p) const {
  if (total_ == 0) return 0;
  if (p <= 0) return min();
  if (p >= 100) return max_;
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t lo = lowest_of(i), hi = highest_of(i);
      uint64_t mid = lo + (hi - lo) / 2;
      if (mid < min_) mid = min_;
      if (mid > max_) mid = max_;
      return mid;
    }
  }
  return max_;
}

std::vector<std::pair<uint64_t, uint64_t>> LatencyHistogram::buckets() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (unsigned i = 0; i < kBucketCount; ++i) {
    if (counts_[i]) out.emplace_back(highest_of(i), counts_[i]);
  }
  return out;
}

}  // namespace ringbench::load
