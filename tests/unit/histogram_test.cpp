// LatencyHistogram: bucket layout, accuracy against known distributions from 1 µs to 1 h, merging, and the
// load generator's URL parser. No sockets.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "load/histogram.hpp"
#include "load/url.hpp"

using ringbench::load::LatencyHistogram;

namespace {

constexpr uint64_t kUs = 1'000;
constexpr uint64_t kHour = 3'600'000'000'000ull;

double rel_error(uint64_t got, uint64_t want) {
  return std::fabs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
}

}  // namespace

TEST_CASE("histogram: buckets tile the range without gaps", "[histogram]") {
  for (unsigned i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
    REQUIRE(LatencyHistogram::highest_of(i) + 1 == LatencyHistogram::lowest_of(i + 1));
  }
  for (const uint64_t v : std::vector<uint64_t>{0, 1, 255, 256, 257, 1000, 123456789, kHour,
                     LatencyHistogram::kMaxTrackable}) {
    const unsigned i = LatencyHistogram::index_of(v);
    REQUIRE(i < LatencyHistogram::kBucketCount);
    REQUIRE(LatencyHistogram::lowest_of(i) <= v);
    REQUIRE(v <= LatencyHistogram::highest_of(i));
  }
}

TEST_CASE("histogram: a single value reads back within 1 % from 1 us to 1 h", "[histogram]") {
  // Values spread log-uniformly over the whole range, each alone in its histogram: every percentile is it.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exp10(3.0, std::log10(static_cast<double>(kHour)));
  for (int k = 0; k < 2000; ++k) {
    const auto v = static_cast<uint64_t>(std::pow(10.0, exp10(rng)));
    LatencyHistogram h;
    h.record(v);
    h.record(v + v / 1000);  // a second, nearby value so min/max clamping alone cannot make it exact
    REQUIRE(rel_error(h.value_at_percentile(25), v) <= 0.01);
  }
}

TEST_CASE("histogram: percentiles of a uniform 1..10000 us distribution", "[histogram]") {
  LatencyHistogram h;
  for (uint64_t us = 1; us <= 10'000; ++us) h.record(us * kUs);
  REQUIRE(h.count() == 10'000);
  REQUIRE(h.min() == 1 * kUs);
  REQUIRE(h.max() == 10'000 * kUs);
  REQUIRE(h.mean() == Approx(5000.5 * kUs).epsilon(1e-9));
  for (double p : {10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9}) {
    const auto want = static_cast<uint64_t>(std::ceil(p * 100)) * kUs;  // the ceil(p% x 10000)-th value
    INFO("p" << p);
    REQUIRE(rel_error(h.value_at_percentile(p), want) <= 0.01);
  }
  REQUIRE(h.value_at_percentile(100) == 10'000 * kUs);
  REQUIRE(h.value_at_percentile(0) == 1 * kUs);
}

TEST_CASE("histogram: percentiles of a bimodal distribution land on the right mode", "[histogram]") {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i) h.record(250 * 1'000'000ull);  // 250 ms
  for (int i = 0; i < 10; ++i) h.record(kHour);                 // 1 h stragglers
  REQUIRE(rel_error(h.value_at_percentile(50), 250'000'000) <= 0.01);
  REQUIRE(rel_error(h.value_at_percentile(99), 250'000'000) <= 0.01);
  REQUIRE(rel_error(h.value_at_percentile(99.5), kHour) <= 0.01);
  REQUIRE(h.max() == kHour);
}

TEST_CASE("histogram: merging per-thread histograms equals recording into one", "[histogram]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lat(std::log(2e6), 1.0);  // around 2 ms, long tail
  LatencyHistogram all, a, b, empty;
  for (int i = 0; i < 50'000; ++i) {
    const auto v = static_cast<uint64_t>(lat(rng));
    all.record(v);
    (i % 3 == 0 ? a : b).record(v);
  }
  LatencyHistogram merged;
  merged.merge(a);
  merged.merge(empty);
  merged.merge(b);
  REQUIRE(merged.count() == all.count());
  REQUIRE(merged.min() == all.min());
  REQUIRE(merged.max() == all.max());
  REQUIRE(merged.mean() == Approx(all.mean()).epsilon(1e-9));
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.99}) REQUIRE(merged.value_at_percentile(p) == all.value_at_percentile(p));
  REQUIRE(merged.buckets() == all.buckets());
  uint64_t total = 0;
  for (const auto& [upper, count] : merged.buckets()) total += count;
  REQUIRE(total == 50'000);
}

TEST_CASE("histogram: values beyond the range are clamped but max stays exact", "[histogram]") {
  LatencyHistogram h;
  h.record(10 * kHour);
  REQUIRE(h.count() == 1);
  REQUIRE(h.max() == 10 * kHour);
  REQUIRE(h.value_at_percentile(50) <= 10 * kHour);
  LatencyHistogram e;
  REQUIRE(e.value_at_percentile(50) == 0);
  REQUIRE(e.min() == 0);
}

TEST_CASE("histogram: load URLs: http only, host, port, path", "[histogram][url]") {
  using ringbench::load::parse_url;
  auto u = parse_url("http://127.0.0.1:8080/delay/10?x=1");
  REQUIRE(u.host == "127.0.0.1");
  REQUIRE(u.port == 8080);
  REQUIRE(u.path == "/delay/10?x=1");
  u = parse_url("HTTP://localhost");
  REQUIRE(u.port == 80);
  REQUIRE(u.path == "/");
  u = parse_url("http://[::1]:9000/a#frag");
  REQUIRE(u.host == "::1");
  REQUIRE(u.port == 9000);
  REQUIRE(u.path == "/a");
  for (const char* bad : {"https://127.0.0.1/", "ftp://x/", "127.0.0.1:80/", "http://", "http://:80/",
                          "http://h:0/", "http://h:70000/", "http://h:8x/", "http://h:/", "http://h/a b",
                          "http://u@h/"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(parse_url(bad), std::invalid_argument);
  }
}
