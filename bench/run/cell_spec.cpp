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
  std::string out = scenario + "/" + variant + "/c=" + std::to_string(load.connections);
  out += load.requests > 0 ? "/n=" + std::to_string(load.requests) : fmt::format("/z={:g}s", load.duration_s);
  if (load.rate > 0) out += fmt::format("/rate={:g}", load.rate);
  if (load.path != "/") out += "/path=" + load.path;
  return out;
}

// Open loop: the offered rate is what a perfect server completes (or c ÷ delay, if that is lower).
std::optional<double> CellSpec::bound_rps() const {
  if (load.rate > 0) return delay_ms == 0 ? load.rate : std::min(load.rate, load.connections / (delay_ms / 1000.0));
  if (delay_ms == 0) return std::nullopt;
  return load.connections / (delay_ms / 1000.0);
}

}  // namespace ringbench::run
