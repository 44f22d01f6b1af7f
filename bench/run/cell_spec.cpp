// CellSpec helpers: backend name, stable id, Little's-law bound.
#include <algorithm>

#include <fmt/format.h>

#include "run/runner.hpp"

namespace ringbench::run {

std::string CellSpec::backend() const {
  if (external()) return "external";
  return variant.substr(0, variant.find(':'));
}

std::string CellSpec::id() const {
  std::string out = scenario + "/" + variant + "/c=" + std::to_string(concurrency);
  out += requests > 0 ? "/n=" + std::to_string(requests) : fmt::format("/z={:g}s", duration_s);
  if (rate > 0) out += fmt::format("/rate={:g}", rate);
  if (path != "/") out += "/path=" + path;
  return out;
}

// Open loop: the offered rate is what a perfect server completes (or c ÷ delay, if that is lower).
std::optional<double> CellSpec::bound_rps() const {
  if (rate > 0) return delay_ms == 0 ? rate : std::min(rate, concurrency / (delay_ms / 1000.0));
  if (delay_ms == 0) return std::nullopt;
  return concurrency / (delay_ms / 1000.0);
}

}  // namespace ringbench::run
