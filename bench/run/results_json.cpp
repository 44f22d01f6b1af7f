// results.json ("ringbench.results/1", described in docs/run.md): the runner's structs as JSON.
#include <algorithm>
#include <cmath>

#include "run/report.hpp"
#include "run/runner.hpp"

namespace ringbench::run {
namespace {

using nlohmann::json;

// Counts print as integers, measurements as numbers.
json num(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<int64_t>(v);
  return v;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt_num(const std::optional<double>& v) { return v ? num(*v) : json(nullptr); }

json to_json(const NoiseRecord& n) {
  return {{"loadavg_before", opt(n.loadavg_before)},
          {"loadavg_after", opt(n.loadavg_after)},
          {"steal", opt(n.steal)},
          {"other_cpu_s", opt(n.other_cpu_s)},
          {"other_cores", opt(n.other_cores)},
          {"governor", n.governor.empty() ? json(nullptr) : json(n.governor)},
          {"freq_mhz", opt(n.freq_mhz)},
          {"disturbed", n.disturbed},
          {"disturbed_why", n.why}};
}

}  // namespace

json to_json(const Figures& f) {
  json lat = json::object();
  for (const auto& [k, v] : f.latency_s) lat[k] = v;
  json errors = json::object();
  for (const auto& [k, v] : f.errors) errors[k] = num(v);
  const ServerFigures& s = f.server;
  return json{
      {"requests_per_s", f.requests_per_s},
      {"efficiency", opt(f.efficiency)},
      {"latency_s", lat},
      {"completed", num(f.completed)},
      {"errors", errors},
      {"error_total", num(f.error_total)},
      {"non_2xx", num(f.non_2xx)},
      {"server",
       {{"cpu_s", s.cpu_s},
        {"cpu_us_per_req", opt(s.cpu_us_per_req)},
        {"peak_rss_kb", num(s.peak_rss_kb)},
        {"rss_per_conn_kb", s.rss_per_conn_kb},
        {"threads", num(s.threads)},
        {"processes", num(s.processes)},
        {"ctx_voluntary", opt_num(s.ctx_voluntary)},
        {"ctx_involuntary", opt_num(s.ctx_involuntary)},
        {"ctx_per_req", opt(s.ctx_per_req)}}},
      // client.connects is an addition beyond the schema's fields.
      {"client",
       {{"cpu_util_max", opt(f.client.cpu_util_max)},
        {"client_bound", f.client.client_bound},
        {"connects", opt_num(f.client.connects)}}},
  };
}

json to_json(const RunResult& r) {
  json j = to_json(r.figures);
  j["status"] = r.ok ? "ok" : "failed";
  j["failure"] = r.failure;
  // Beyond the schema's fields (additions only): the server's exit status and the measured window.
  j["exit_status"] = r.exit_status;
  j["elapsed_s"] = r.elapsed_s;
  j["noise"] = to_json(r.noise);
  return j;
}

json to_json(const CellResult& c) {
  const CellSpec& s = c.spec;
  json runs = json::array();
  for (const auto& r : c.runs) runs.push_back(to_json(r));
  json ref = nullptr;
  if (s.reference) ref = {{"label", s.reference->label}, {"requests_per_s", s.reference->requests_per_s}};
  json j = {
      {"id", s.id()},
      {"scenario", s.scenario},
      {"backend", s.backend()},
      {"variant", s.variant},
      {"label", s.label},
      {"delay_ms", s.delay_ms},
      {"concurrency", s.load.connections},
      {"requests", s.load.requests},
      {"duration_s", s.load.duration_s},
      {"path", s.load.path},
      {"bound_rps", opt(s.bound_rps())},
      {"reference", ref},
      {"status", c.ok() ? "ok" : "failed"},
      {"failure", c.failure()},
      {"runs", runs},
      {"median", c.median ? to_json(*c.median) : json(nullptr)},
      {"min", c.min ? to_json(*c.min) : json(nullptr)},
      {"max", c.max ? to_json(*c.max) : json(nullptr)},
      // Additions beyond the schema's fields.
      {"warmup_s", s.load.warmup_s},
      {"client_threads", s.load.threads},
      {"rate", s.load.rate},
      {"ramp_s", s.load.ramp_s},
      {"client_lag", s.load.client_lag},
      // Ranked only when comparable: not client-bound, and the server honours the delay.
      {"comparable", not_comparable(c).empty()},
      {"not_comparable_why", not_comparable(c)},
      {"disturbed", !disturbed(c).empty()},
  };
  if (s.external()) j["external_cmd"] = s.external_cmd;
  return j;
}

json to_json(const ScenarioResult& s) {
  json cells = json::array();
  for (const auto& c : s.cells) cells.push_back(to_json(c));
  return {{"name", s.scenario.name}, {"description", s.scenario.description}, {"repeat", s.repeat},
          {"interrupted", s.interrupted}, {"cells", cells}};
}

json results_json(const json& environment, const std::vector<ScenarioResult>& scenarios) {
  json list = json::array();
  for (const auto& s : scenarios) list.push_back(to_json(s));
  const bool interrupted = std::any_of(scenarios.begin(), scenarios.end(), [](const ScenarioResult& s) { return s.interrupted; });
  return {{"schema", kResultsSchema}, {"environment", environment}, {"interrupted", interrupted}, {"scenarios", list}};
}

}  // namespace ringbench::run
