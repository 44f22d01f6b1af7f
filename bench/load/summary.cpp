// format_summary: hey's layout (summary, response-time histogram, latency distribution, status codes,
// errors) plus the client's own CPU use, so a client-bound number is never mistaken for the server's.
#include "load/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ringbench::load {
namespace {

constexpr int kTextBins = 11;
constexpr int kBarWidth = 40;
// Seconds as hey prints them (4 decimals), with more decimals below 0.1 s so that a sub-millisecond latency
// keeps kSecsDigits significant digits instead of reading 0.0000.
constexpr int kSecsDecimals = 4;
constexpr int kSecsDigits = 3;
constexpr int kSecsMaxDecimals = 9;

int decimals_for(double seconds) {
  if (!(seconds > 0) || seconds >= 0.1) return kSecsDecimals;
  const int lead = static_cast<int>(std::floor(std::log10(seconds)));  // -2 for 0.05, -4 for 0.0003
  return std::clamp(kSecsDigits - 1 - lead, kSecsDecimals, kSecsMaxDecimals);
}


// Re-bins the fine histogram into kTextBins equal-width bins between fastest and slowest.
std::string text_histogram(const LoadResult& r) {
  if (r.histogram.empty()) return "";
  const double lo = r.fastest_s, hi = r.slowest_s;
  const double width = (hi - lo) / (kTextBins - 1);
  std::vector<uint64_t> bins(kTextBins, 0);
  for (const auto& [upper, count] : r.histogram) {
    const double v = std::clamp(upper, lo, hi);
    int b = width > 0 ? static_cast<int>((v - lo) / width + 0.5) : 0;
    bins[static_cast<std::size_t>(std::clamp(b, 0, kTextBins - 1))] += count;
  }
  const uint64_t peak = *std::max_element(bins.begin(), bins.end());
  // One precision for every label, fine enough for the narrowest bin step.
  const int decimals = std::max(decimals_for(width > 0 ? width : lo), decimals_for(lo));
  std::string out = "\nResponse time histogram:\n";
  for (int i = 0; i < kTextBins; ++i) {
    const uint64_t n = bins[static_cast<std::size_t>(i)];
    const auto bar = peak ? static_cast<std::size_t>(n * kBarWidth / peak) : 0;
    std::string bars;
    for (std::size_t k = 0; k < bar; ++k) bars += "\u25a0";
    out += fmt::format("  {:.{}f} [{}]\t|{}\n", lo + width * i, decimals, n, bars);
  }
  return out;
}

}  // namespace

std::string format_seconds(double seconds) { return fmt::format("{:.{}f}", seconds, decimals_for(seconds)); }

std::string format_summary(const LoadResult& r) {
  std::string out = "\nSummary:\n";
  out += fmt::format("  Total:\t{} secs\n", format_seconds(r.elapsed_s));
  out += fmt::format("  Slowest:\t{} secs\n", format_seconds(r.slowest_s));
  out += fmt::format("  Fastest:\t{} secs\n", format_seconds(r.fastest_s));
  out += fmt::format("  Average:\t{} secs\n", format_seconds(r.average_s));
  out += fmt::format("  Requests/sec:\t{:.2f}\n", r.requests_per_s);
  if (r.mode == "open") {
    out += fmt::format("  Sent/sec:\t{:.2f} (open loop: latency counted from each request's intended send time)\n",
                       r.send_rate_per_s);
  }
  out += text_histogram(r);
  out += "\nLatency distribution:\n";
  for (const char* p : {"p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9"}) {
    const auto it = r.percentiles_s.find(p);
    if (it != r.percentiles_s.end()) out += fmt::format("  {}% in {} secs\n", p + 1, format_seconds(it->second));
  }
  if (r.client_lag && r.arrival_latency) {
    const auto& lag = r.client_lag->percentiles_s;
    const auto& arr = r.arrival_latency->percentiles_s;
    out += "\nClient lag (time a response waited in the socket before the client read it):\n";
    out += fmt::format("  p50 {:.3f}, p99 {:.3f}, slowest {:.3f} ms\n", lag.at("p50") * 1e3, lag.at("p99") * 1e3,
                       r.client_lag->slowest_s * 1e3);
    out += "Latency at arrival (until the response reached the client's socket):\n";
    out += fmt::format("  p50 {}, p90 {}, p99 {}, p99.9 {} secs\n", format_seconds(arr.at("p50")),
                       format_seconds(arr.at("p90")), format_seconds(arr.at("p99")), format_seconds(arr.at("p99.9")));
  }
  if (const CompletionSpread& s = r.completions_per_ms; s.mean >= kSpreadMinMean) {
    out += fmt::format("\nCompletions per millisecond: mean {:.1f}, p50 {}, p99 {}, max {}; {:.1f} % of milliseconds had none\n",
                       s.mean, s.p50, s.p99, s.max, s.empty_share * 100);
  }
  out += "\nStatus code distribution:\n";
  for (const auto& [code, count] : r.status_counts) out += fmt::format("  [{}]\t{} responses\n", code, count);
  if (r.total_errors() > 0) {
    out += "\nError distribution:\n";
    for (const auto& [cls, count] : r.errors) {
      if (count) out += fmt::format("  [{}]\t{}\n", count, cls);
    }
  }
  out += fmt::format("\nClient: {} thread(s), {} connections, {} connects, CPU per thread:", r.threads,
                     r.connections_used, r.connects);
  for (const double u : r.thread_cpu_util) out += fmt::format(" {:.0f} %", u * 100);
  out += "\n";
  if (!r.stopped_by.empty()) out += fmt::format("Stopped early: {}\n", r.stopped_by);
  for (const auto& w : r.warnings) out += fmt::format("WARNING: {}\n", w);
  return out;
}

}  // namespace ringbench::load
