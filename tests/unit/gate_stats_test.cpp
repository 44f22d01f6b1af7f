// Unit tests of the gate's statistics (bench/gate/stats.hpp) against values computed by hand.
#include <catch2/catch.hpp>

#include "gate/stats.hpp"

using namespace ringbench::gate;

TEST_CASE("median of odd, even and empty samples", "[gate]") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 3, 2}) == 2.5);
  CHECK(median({}) == 0);
}

TEST_CASE("Mann-Whitney exact: fully separated samples reach 1/C(n1+n2,n1)", "[gate]") {
  const auto r = mann_whitney({1, 2, 3}, {4, 5, 6});
  CHECK(r.exact);
  CHECK(r.u == 9);
  CHECK(r.p_greater == Approx(1.0 / 20));
  CHECK(r.p_less == Approx(1.0));
  const auto r5 = mann_whitney({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  CHECK(r5.p_greater == Approx(1.0 / 252));
  // The other direction mirrors it.
  const auto down = mann_whitney({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5});
  CHECK(down.u == 0);
  CHECK(down.p_less == Approx(1.0 / 252));
}

TEST_CASE("Mann-Whitney exact: interleaved samples match the tabulated distribution", "[gate]") {
  // m = n = 3: counts of U = 0..9 are 1 1 2 3 3 3 3 2 1 1 (20 orderings). y = {2,4,6} beats x = {1,3,5} 6 times.
  const auto r = mann_whitney({1, 3, 5}, {2, 4, 6});
  CHECK(r.exact);
  CHECK(r.u == 6);
  CHECK(r.p_greater == Approx(7.0 / 20));
  CHECK(r.p_less == Approx(16.0 / 20));
}

TEST_CASE("Mann-Whitney with ties uses the tie-corrected normal approximation", "[gate]") {
  // y = 2 beats 1 and ties two 2s (2), each y = 3 beats three and ties one (3.5), y = 4 beats all (4).
  const auto r = mann_whitney({1, 2, 2, 3}, {2, 3, 3, 4});
  CHECK_FALSE(r.exact);
  CHECK(r.u == 13);
  CHECK(r.p_greater > 0.05);
  CHECK(r.p_greater < 0.5);
  // Everything tied: no evidence either way.
  const auto same = mann_whitney({5, 5, 5}, {5, 5, 5});
  CHECK(same.p_greater == 1);
  CHECK(same.p_less == 1);
}

TEST_CASE("Mann-Whitney normal approximation agrees with the exact test on large separated samples", "[gate]") {
  std::vector<double> x, y;
  for (int i = 0; i < 40; ++i) {
    x.push_back(i);
    y.push_back(i + 100);
  }
  const auto r = mann_whitney(x, y);  // 40 > exact table limit: approximation
  CHECK_FALSE(r.exact);
  CHECK(r.p_greater < 1e-9);
  CHECK(r.p_less == Approx(1.0));
}

TEST_CASE("a single value per side can never be significant", "[gate]") {
  const auto r = mann_whitney({1}, {100});
  CHECK(r.p_greater == 1);
  CHECK(min_achievable_p(3, 3) == Approx(0.05));
  CHECK(min_achievable_p(2, 2) == Approx(1.0 / 6));
}

TEST_CASE("Hodges-Lehmann shift is the median pairwise difference", "[gate]") {
  CHECK(hodges_lehmann_shift({1, 2, 3}, {11, 12, 13}) == 10);
  // Differences -2 -1 -1 0 0 1 97 98 99: one outlier does not move the median.
  CHECK(hodges_lehmann_shift({1, 2, 3}, {1, 2, 100}) == 0);
}

TEST_CASE("sign test p-values are binomial tails", "[gate]") {
  CHECK(sign_test_p(9, 9) == Approx(1.0 / 512));
  CHECK(sign_test_p(8, 9) == Approx(10.0 / 512));
  CHECK(sign_test_p(7, 9) == Approx(46.0 / 512));
  CHECK(sign_test_p(0, 9) == 1);
  CHECK(sign_test_p(0, 0) == 1);
}

TEST_CASE("Wilcoxon signed-rank: exact tails and the Hodges-Lehmann pseudo-median", "[gate]") {
  const auto all_up = wilcoxon_signed_rank({1, 2, 3, 4, 5});
  CHECK(all_up.exact);
  CHECK(all_up.w_plus == 15);
  CHECK(all_up.p_above == Approx(1.0 / 32));
  // W+ = 14: only {2,3,4,5} and {1,...,5} reach it among the 32 sign patterns.
  const auto one_down = wilcoxon_signed_rank({-1, 2, 3, 4, 5});
  CHECK(one_down.w_plus == 14);
  CHECK(one_down.p_above == Approx(2.0 / 32));
  CHECK(one_down.p_below == Approx(31.0 / 32));
  // A small negative difference costs less than the sign test would charge for it.
  CHECK(wilcoxon_signed_rank({-0.1, 1, 2, 3, 4, 5, 6, 7, 8}).p_above < sign_test_p(8, 9));
  CHECK(wilcoxon_signed_rank({0, 0}).n == 0);
  CHECK(wilcoxon_signed_rank({0, 0}).p_above == 1);
  // Walsh averages of {1,2,3}: 1 1.5 2 2 2.5 3.
  CHECK(pseudo_median({1, 2, 3}) == 2);
}

TEST_CASE("paired ratios: median, sign counts and a reproducible bootstrap interval", "[gate]") {
  const std::vector<double> ratios = {1.08, 1.12, 1.10, 1.09, 1.11, 1.13, 1.07, 1.10, 0.98};
  const auto a = paired_ratios(ratios);
  CHECK(a.median_ratio == Approx(1.10));
  CHECK(a.above == 8);
  CHECK(a.below == 1);
  CHECK(a.sign_p_above == Approx(10.0 / 512));
  CHECK(a.p_above < a.sign_p_above);  // the signed-rank test also weighs how far each ratio is from 1
  CHECK(a.ratio == Approx(1.10).epsilon(0.01));
  CHECK(a.ci_low <= a.median_ratio);
  CHECK(a.ci_high >= a.median_ratio);
  CHECK(a.ci_low > 1.0);
  const auto b = paired_ratios(ratios);
  CHECK(b.ci_low == a.ci_low);
  CHECK(b.ci_high == a.ci_high);
}
