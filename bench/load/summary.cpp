// format_summary: hey's layout (summary, response-time histogram, latency distribution, status codes,
// errors) plus the client's own CPU use, so a client-bound number is never mistaken for the server's.
#include "load/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace ringbench::load {
namespace {

constexpr int kTextBins = 11;
constexpr int kBarWidth = 40;

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
  std::string out = "\nResponse time histogram:\n";
  for (int i = 0; i < kTextBins; ++i) {
    const uint64_t n = bins[static_cast<std::size_t>(i)];
    const auto bar = peak ? static_cast<std::size_t>(n * kBarWidth / peak) : 0;
    std::string bars;
    for (std::size_t k = 0; k < bar; ++k) bars += "\u25a0";
    out += fmt::format("  {:.4f} [{}]\t|{}\n", lo + width * i, n, bars);
  }
  return out;
}

}  // namespace

std::string format_summary(const LoadResult& r) {
  std::string out = "\nSummary:\n";
  out += fmt::format("  Total:\t{:.4f} secs\n", r.elapsed_s);
  out += fmt::format("  Slowest:\t{:.4f} secs\n", r.slowest_s);
  out += fmt::format("  Fastest:\t{:.4f} secs\n", r.fastest_s);
  out += fmt::format("  Average:\t{:.4f} secs\n", r.average_s);
  out += fmt::format("  Requests/sec:\t{:.2f}\n", r.requests_per_s);
  if (r.mode == "open") {
    out += fmt::format("  Sent/sec:\t{:.2f} (open loop: latency counted from each request's intended send time)\n",
                       r.send_rate_per_s);
  }
  out += text_histogram(r);
  out += "\nLatency distribution:\n";
  for (const char* p : {"p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9"}) {
    const auto it = r.percentiles_s.find(p);
    if (it != r.percentiles_s.end()) out += fmt::format("  {}% in {:.4f} secs\n", p + 1, it->second);
  }
  if (r.client_lag && r.arrival_latency) {
    const auto& lag = r.client_lag->percentiles_s;
    const auto& arr = r.arrival_latency->percentiles_s;
    out += "\nClient lag (time a response waited in the socket before the client read it):\n";
    out += fmt::format("  p50 {:.3f}, p99 {:.3f}, slowest {:.3f} ms\n", lag.at("p50") * 1e3, lag.at("p99") * 1e3,
                       r.client_lag->slowest_s * 1e3);
    out += "Latency at arrival (until the response reached the client's socket):\n";
    out += fmt::format("  p50 {:.4f}, p90 {:.4f}, p99 {:.4f}, p99.9 {:.4f} secs\n", arr.at("p50"), arr.at("p90"),
                       arr.at("p99"), arr.at("p99.9"));
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
