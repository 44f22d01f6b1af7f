// Latency histogram for the load generator: log-linear buckets (HdrHistogram's layout) over nanoseconds,
// at most 0.4 % relative error from 256 ns up to 2^43 ns = 8 796 s (exact below 256 ns), mergeable.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace ringbench::load {

class LatencyHistogram {
 public:
  // 2^kSubBits linear sub-buckets per power of two: values in [2^k, 2^(k+1)) share 2^(k-kSubBits+1)-wide
  // buckets, so a bucket's midpoint is within 1/2^kSubBits (0.39 %) of any value in it.
  static constexpr unsigned kSubBits = 8;
  static constexpr unsigned kSubCount = 1u << kSubBits;          // 256: values below are exact
  static constexpr unsigned kHalfCount = kSubCount / 2;          // 128 new buckets per doubling
  static constexpr unsigned kMaxExponent = 42;                   // top range [2^42, 2^43) ns: 1.2 h .. 2.4 h
  static constexpr unsigned kBucketCount = kSubCount + (kMaxExponent - kSubBits + 1) * kHalfCount;
  static constexpr uint64_t kMaxTrackable = (uint64_t{1} << (kMaxExponent + 1)) - 1;

  LatencyHistogram() : counts_(kBucketCount, 0) {}

  // Records one value in nanoseconds; values above kMaxTrackable land in the top bucket (max stays exact).
  void record(uint64_t ns) {
    const uint64_t v = ns > kMaxTrackable ? kMaxTrackable : ns;
    ++counts_[index_of(v)];
    ++total_;
    sum_ns_ += static_cast<double>(ns);
    if (ns < min_) min_ = ns;
    if (ns > max_) max_ = ns;
  }

  void merge(const LatencyHistogram& other);

  uint64_t count() const { return total_; }
  uint64_t min() const { return total_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ ? sum_ns_ / static_cast<double>(total_) : 0.0; }

  // The value at percentile p (0..100): the midpoint of the bucket holding the ceil(p% × count)-th value,
  // clamped to the exact min and max. 0 when empty.
  uint64_t value_at_percentile(double p) const;

  // Non-empty buckets as (highest value in the bucket, count), ascending.
  std::vector<std::pair<uint64_t, uint64_t>> buckets() const;

  static unsigned index_of(uint64_t v) {
    if (v < kSubCount) return static_cast<unsigned>(v);
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    const unsigned shift = msb - (kSubBits - 1);  // brings v into [kHalfCount, kSubCount)
    const auto sub = static_cast<unsigned>(v >> shift);
    return kSubCount + (shift - 1) * kHalfCount + (sub - kHalfCount);
  }
  static uint64_t lowest_of(unsigned index);
  static uint64_t highest_of(unsigned index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  double sum_ns_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace ringbench::load
