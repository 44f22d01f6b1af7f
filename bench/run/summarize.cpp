// Median, min and max of each figure over a cell's ok runs.
#include <algorithm>
#include <functional>

#include "run/runner.hpp"

namespace ringbench::run {
namespace {

enum class Pick { median, min, max };

double pick(std::vector<double> v, Pick how) {
  std::sort(v.begin(), v.end());
  switch (how) {
    case Pick::min: return v.front();
    case Pick::max: return v.back();
    case Pick::median: {
      const std::size_t n = v.size();
      return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
  }
  return v.front();
}

double pick_of(const std::vector<const Figures*>& runs, Pick how, const std::function<double(const Figures&)>& get) {
  std::vector<double> v;
  for (const Figures* f : runs) v.push_back(get(*f));
  return pick(std::move(v), how);
}

// An optional figure combines only when every run has it.
std::optional<double> pick_opt(const std::vector<const Figures*>& runs, Pick how,
                               const std::function<std::optional<double>(const Figures&)>& get) {
  std::vector<double> v;
  for (const Figures* f : runs) {
    const auto x = get(*f);
    if (!x) return std::nullopt;
    v.push_back(*x);
  }
  return pick(std::move(v), how);
}

Figures combine(const std::vector<const Figures*>& runs, Pick how) {
  Figures out;
  const Figures& first = *runs.front();
  out.requests_per_s = pick_of(runs, how, [](const Figures& f) { return f.requests_per_s; });
  out.efficiency = pick_opt(runs, how, [](const Figures& f) { return f.efficiency; });
  for (const auto& [k, _] : first.latency_s) {
    out.latency_s[k] = pick_of(runs, how, [&k](const Figures& f) { return f.latency_s.count(k) ? f.latency_s.at(k) : 0.0; });
  }
  out.completed = pick_of(runs, how, [](const Figures& f) { return f.completed; });
  for (const auto& [k, _] : first.errors) {
    out.errors[k] = pick_of(runs, how, [&k](const Figures& f) { return f.errors.count(k) ? f.errors.at(k) : 0.0; });
  }
  out.error_total = pick_of(runs, how, [](const Figures& f) { return f.error_total; });
  out.non_2xx = pick_of(runs, how, [](const Figures& f) { return f.non_2xx; });
  ServerFigures& s = out.server;
  s.cpu_s = pick_of(runs, how, [](const Figures& f) { return f.server.cpu_s; });
  s.cpu_us_per_req = pick_opt(runs, how, [](const Figures& f) { return f.server.cpu_us_per_req; });
  s.peak_rss_kb = pick_of(runs, how, [](const Figures& f) { return f.server.peak_rss_kb; });
  s.rss_per_conn_kb = pick_of(runs, how, [](const Figures& f) { return f.server.rss_per_conn_kb; });
  s.threads = pick_of(runs, how, [](const Figures& f) { return f.server.threads; });
  s.processes = pick_of(runs, how, [](const Figures& f) { return f.server.processes; });
  s.ctx_voluntary = pick_opt(runs, how, [](const Figures& f) { return f.server.ctx_voluntary; });
  s.ctx_involuntary = pick_opt(runs, how, [](const Figures& f) { return f.server.ctx_involuntary; });
  s.ctx_per_req = pick_opt(runs, how, [](const Figures& f) { return f.server.ctx_per_req; });
  out.client.cpu_util_max = pick_opt(runs, how, [](const Figures& f) { return f.client.cpu_util_max; });
  out.client.connects = pick_opt(runs, how, [](const Figures& f) { return f.client.connects; });
  // A figure the client limited in any run is suspect in the summary too.
  out.client.client_bound = std::any_of(runs.begin(), runs.end(), [](const Figures* f) { return f->client.client_bound; });
  return out;
}

}  // namespace

bool CellResult::ok() const {
  return std::any_of(runs.begin(), runs.end(), [](const RunResult& r) { return r.ok; });
}

std::string CellResult::failure() const {
  if (ok()) return {};
  for (const auto& r : runs) {
    if (!r.failure.empty()) return r.failure;
  }
  return runs.empty() ? "not run" : "failed";
}

CellResult summarize(const CellSpec& cell, std::vector<RunResult> runs) {
  CellResult c;
  c.spec = cell;
  c.runs = std::move(runs);
  std::vector<const Figures*> ok;
  for (const auto& r : c.runs) {
    if (r.ok) ok.push_back(&r.figures);
  }
  if (!ok.empty()) {
    c.median = combine(ok, Pick::median);
    c.min = combine(ok, Pick::min);
    c.max = combine(ok, Pick::max);
  }
  return c;
}

}  // namespace ringbench::run
