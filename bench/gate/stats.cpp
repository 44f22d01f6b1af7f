// Statistics for the CI gate; see stats.hpp for the contracts.
#include "gate/stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace ringbench::gate {
namespace {

// Exact distribution is tabulated up to this many values per side (the table grows as nx * ny * nx * ny).
constexpr std::size_t kExactMaxPerSide = 30;

double normal_upper_tail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// counts[u] = number of orderings of nx x-values and ny y-values (no ties) whose U of y equals u.
// Recurrence on the largest value: it is a y (adds nx to U) or an x (adds nothing).
std::vector<double> exact_u_counts(std::size_t nx, std::size_t ny) {
  // table[i][j] = distribution for i x-values and j y-values.
  std::vector<std::vector<std::vector<double>>> table(nx + 1, std::vector<std::vector<double>>(ny + 1));
  for (std::size_t i = 0; i <= nx; ++i) {
    for (std::size_t j = 0; j <= ny; ++j) {
      auto& d = table[i][j];
      d.assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        d[0] = 1.0;
        continue;
      }
      const auto& y_last = table[i][j - 1];  // largest is a y: it beats all i x-values
      for (std::size_t u = 0; u < y_last.size(); ++u) d[u + i] += y_last[u];
      const auto& x_last = table[i - 1][j];  // largest is an x: beats nothing
      for (std::size_t u = 0; u < x_last.size(); ++u) d[u] += x_last[u];
    }
  }
  return table[nx][ny];
}

struct Tails {
  double upper = 1;  // P(statistic >= observed)
  double lower = 1;  // P(statistic <= observed)
};

// Both one-sided tails of an exact null distribution given as counts per whole-number statistic value.
Tails exact_tails(const std::vector<double>& counts, double observed) {
  const auto obs = static_cast<std::size_t>(std::llround(observed));
  double total = 0, at_least = 0, at_most = 0;
  for (std::size_t v = 0; v < counts.size(); ++v) {
    total += counts[v];
    if (v >= obs) at_least += counts[v];
    if (v <= obs) at_most += counts[v];
  }
  return {at_least / total, at_most / total};
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

MannWhitney mann_whitney(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitney r;
  const std::size_t nx = x.size(), ny = y.size();
  for (double yv : y) {
    for (double xv : x) r.u += yv > xv ? 1.0 : (yv == xv ? 0.5 : 0.0);
  }
  if (nx < 2 || ny < 2) return r;

  // Tie groups over the pooled sample, for both the exactness check and the variance correction.
  std::map<double, std::size_t> groups;
  for (double v : x) ++groups[v];
  for (double v : y) ++groups[v];
  const bool ties = groups.size() < nx + ny;

  if (!ties && nx <= kExactMaxPerSide && ny <= kExactMaxPerSide) {
    // With no ties U is a whole number.
    const Tails t = exact_tails(exact_u_counts(nx, ny), r.u);
    r.p_greater = t.upper;
    r.p_less = t.lower;
    r.exact = true;
    return r;
  }

  const double n1 = static_cast<double>(nx), n2 = static_cast<double>(ny), n = n1 + n2;
  double tie_term = 0;
  for (const auto& [value, t] : groups) {
    const double td = static_cast<double>(t);
    tie_term += td * td * td - td;
  }
  const double var = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
  if (var <= 0) return r;  // every value tied: no evidence either way
  const double sd = std::sqrt(var);
  const double mean = n1 * n2 / 2.0;
  // Continuity correction of one half toward the mean.
  r.p_greater = normal_upper_tail((r.u - mean - 0.5) / sd);
  r.p_less = normal_upper_tail((mean - r.u - 0.5) / sd);
  r.p_greater = std::min(1.0, r.p_greater);
  r.p_less = std::min(1.0, r.p_less);
  return r;
}

double min_achievable_p(std::size_t nx, std::size_t ny) {
  // 1 / C(nx+ny, nx), computed in floating point to stay finite for large samples.
  double c = 1;
  for (std::size_t i = 1; i <= nx; ++i) c = c * static_cast<double>(ny + i) / static_cast<double>(i);
  return 1.0 / c;
}

double hodges_lehmann_shift(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> diffs;
  diffs.reserve(x.size() * y.size());
  for (double yv : y) {
    for (double xv : x) diffs.push_back(yv - xv);
  }
  return median(std::move(diffs));
}

double sign_test_p(std::size_t above, std::size_t n) {
  if (n == 0 || above == 0) return 1.0;
  // Sum of C(n, k) / 2^n for k >= above, with log-gamma to stay finite.
  double p = 0;
  const double nd = static_cast<double>(n);
  for (std::size_t k = above; k <= n; ++k) {
    const double kd = static_cast<double>(k);
    p += std::exp(std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) - nd * std::log(2.0));
  }
  return std::min(1.0, p);
}

SignedRank wilcoxon_signed_rank(const std::vector<double>& diffs) {
  SignedRank r;
  std::vector<double> d;
  for (double v : diffs) {
    if (v != 0) d.push_back(v);
  }
  r.n = d.size();
  if (d.empty()) return r;
  std::sort(d.begin(), d.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
  // Average ranks over runs of equal |d|; the tie term corrects the variance.
  bool ties = false;
  double tie_term = 0;
  for (std::size_t i = 0; i < d.size();) {
    std::size_t j = i;
    while (j + 1 < d.size() && std::fabs(d[j + 1]) == std::fabs(d[i])) ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) {
      if (d[k] > 0) r.w_plus += rank;
    }
    const double t = static_cast<double>(j - i + 1);
    if (t > 1) ties = true;
    tie_term += t * t * t - t;
    i = j + 1;
  }
  const std::size_t n = d.size();
  if (!ties && n <= kExactMaxPerSide) {
    // counts[w] = subsets of ranks 1..n summing to w; each of the 2^n sign patterns is equally likely.
    const std::size_t max_w = n * (n + 1) / 2;
    std::vector<double> counts(max_w + 1, 0.0);
    counts[0] = 1;
    for (std::size_t rank = 1; rank <= n; ++rank) {
      for (std::size_t w = max_w; w >= rank; --w) counts[w] += counts[w - rank];
    }
    const Tails t = exact_tails(counts, r.w_plus);
    r.p_above = t.upper;
    r.p_below = t.lower;
    r.exact = true;
    return r;
  }
  const double nd = static_cast<double>(n);
  const double mean = nd * (nd + 1) / 4.0;
  const double var = nd * (nd + 1) * (2 * nd + 1) / 24.0 - tie_term / 48.0;
  if (var <= 0) return r;
  const double sd = std::sqrt(var);
  r.p_above = std::min(1.0, normal_upper_tail((r.w_plus - mean - 0.5) / sd));
  r.p_below = std::min(1.0, normal_upper_tail((mean - r.w_plus - 0.5) / sd));
  return r;
}

double pseudo_median(const std::vector<double>& values) {
  std::vector<double> walsh;
  walsh.reserve(values.size() * (values.size() + 1) / 2);
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = i; j < values.size(); ++j) walsh.push_back(0.5 * (values[i] + values[j]));
  }
  return median(std::move(walsh));
}

PairedRatios paired_ratios(const std::vector<double>& ratios, double level, std::size_t iterations, uint64_t seed) {
  PairedRatios r;
  if (ratios.empty()) return r;
  r.median_ratio = median(ratios);
  for (double v : ratios) {
    if (v > 1.0) ++r.above;
    if (v < 1.0) ++r.below;
  }
  r.sign_p_above = sign_test_p(r.above, r.above + r.below);
  r.sign_p_below = sign_test_p(r.below, r.above + r.below);
  // Log ratios make a slowdown and the matching speed-up symmetric (1.1 and 1/1.1).
  std::vector<double> logs;
  for (double v : ratios) logs.push_back(std::log(v));
  const SignedRank w = wilcoxon_signed_rank(logs);
  r.p_above = w.p_above;
  r.p_below = w.p_below;
  r.exact = w.exact;
  r.ratio = std::exp(pseudo_median(logs));

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, ratios.size() - 1);
  std::vector<double> medians;
  medians.reserve(iterations);
  std::vector<double> sample(ratios.size());
  for (std::size_t it = 0; it < iterations; ++it) {
    for (double& s : sample) s = ratios[pick(rng)];
    medians.push_back(median(sample));
  }
  std::sort(medians.begin(), medians.end());
  const double tail = (1.0 - level) / 2.0;
  const auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::floor(q * static_cast<double>(medians.size() - 1)));
    return medians[std::min(i, medians.size() - 1)];
  };
  r.ci_low = at(tail);
  r.ci_high = at(1.0 - tail);
  return r;
}

}  // namespace ringbench::gate
