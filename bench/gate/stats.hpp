// Statistics for the CI gate: Mann–Whitney U (exact for small untied samples, normal approximation with tie
// correction otherwise), the Hodges–Lehmann shift, and the sign test and bootstrap on paired ratios (--ab).
// Pure functions, no I/O; tests/unit/gate_stats_test.cpp checks them against hand-computed values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringbench::gate {

// Median of the values (mean of the middle two for an even count); 0 for an empty vector.
double median(std::vector<double> values);

struct MannWhitney {
  double u = 0;          // U of `y`: pairs (x_i, y_j) with y_j > x_i, ties counting one half
  double p_greater = 1;  // one-sided p-value for "y tends to be larger than x"
  double p_less = 1;     // one-sided p-value for "y tends to be smaller than x"
  bool exact = false;    // exact null distribution (no ties, small samples) or normal approximation
};

// Mann–Whitney U test of y against x. Both need at least one value; with fewer than 2 values on a side the
// p-values stay 1 (nothing can be significant).
MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

// Smallest one-sided p-value any outcome can reach with these sample sizes (exact test): 1 / C(nx+ny, nx).
// With 3 runs a side it is 0.05, so fewer repetitions can never pass a 0.05 significance level.
double min_achievable_p(std::size_t nx, std::size_t ny);

// Hodges–Lehmann estimate of the shift from x to y: the median of all differences y_j - x_i.
double hodges_lehmann_shift(const std::vector<double>& x, const std::vector<double>& y);

// Exact one-sided sign test: the probability of at least `above` of `n` fair coin flips coming up heads.
double sign_test_p(std::size_t above, std::size_t n);

struct SignedRank {
  double w_plus = 0;    // sum of the ranks of |d| over the positive differences
  double p_above = 1;   // one-sided p-value for "differences tend to be > 0"
  double p_below = 1;   // one-sided p-value for "differences tend to be < 0"
  bool exact = false;   // exact null distribution (no ties, small n) or normal approximation
  std::size_t n = 0;    // non-zero differences used
};

// Wilcoxon signed-rank test of paired differences against 0 (zeros dropped, ties get average ranks).
SignedRank wilcoxon_signed_rank(const std::vector<double>& diffs);

// Hodges–Lehmann pseudo-median: the median of all Walsh averages (d_i + d_j) / 2, i <= j.
double pseudo_median(const std::vector<double>& values);

struct PairedRatios {
  double ratio = 1;          // Hodges–Lehmann estimate: exp(pseudo-median of log ratios)
  double p_above = 1;        // Wilcoxon signed-rank on log ratios: "ratios tend to be > 1"
  double p_below = 1;        // … "ratios tend to be < 1"
  bool exact = false;
  double median_ratio = 1;   // median of new/old ratios
  std::size_t above = 0;     // ratios > 1
  std::size_t below = 0;     // ratios < 1 (exact ties at 1 count for neither)
  double sign_p_above = 1;   // sign test: "ratios tend to be > 1" (reported beside the decision)
  double sign_p_below = 1;
  double ci_low = 1;         // bootstrap percentile interval of the median ratio
  double ci_high = 1;
};

// Summarises paired ratios (all must be > 0). The bootstrap uses `iterations` resamples from a fixed seed, so the same input
// always gives the same interval; `level` is the two-sided coverage (0.95 → 2.5 % .. 97.5 %).
PairedRatios paired_ratios(const std::vector<double>& ratios, double level = 0.95, std::size_t iterations = 2000,
                           uint64_t seed = 0x5eed);

}  // namespace ringbench::gate
