// CellSpec helpers: backend name, stable id, Little's-law bound.
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
  if (path != "/") out += "/path=" + path;
  return out;
}

std::optional<double> CellSpec::bound_rps() const {
  if (delay_ms == 0) return std::nullopt;
  return concurrency / (delay_ms / 1000.0);
}

}  // namespace ringbench::run
