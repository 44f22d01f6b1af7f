// Reading results files for the gate; see results.hpp.
#include "gate/results.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "run/runner.hpp"

namespace ringbench::gate {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw GateInputError(fmt::format("{}: {}", source, what));
}

// A metric at `ptr` inside `run`: nullopt when it is null (not measured, e.g. efficiency at 0 ms); a
// finite number >= 0 otherwise. Absent or anything else is a damaged file, never a silently skipped metric.
std::optional<double> metric_at(const nlohmann::json& run, std::string_view name, std::string_view ptr,
                                const std::string& where) {
  const nlohmann::json::json_pointer p{std::string(ptr)};
  if (!run.contains(p)) fail(where, fmt::format("metric {} missing (expected at {})", name, ptr));
  const auto& v = run.at(p);
  if (v.is_null()) return std::nullopt;
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
    fail(where, fmt::format("metric {} is malformed: {} (expected a finite number >= 0 or null)", name, v.dump()));
  }
  return v.get<double>();
}

// A count that may be absent (older files); present, it must be a finite number >= 0.
double count_at(const nlohmann::json& run, const char* key, const std::string& where) {
  const auto it = run.find(key);
  if (it == run.end() || it->is_null()) return 0;
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0) {
    fail(where, fmt::format("\"{}\" is malformed: {}", key, it->dump()));
  }
  return it->get<double>();
}

// The runner's noise flag (`"noise": {"disturbed": …}`), read leniently: absent or null is "not flagged", a
// non-empty reason string or a non-zero number counts as flagged.
bool disturbed(const nlohmann::json& obj) {
  const auto noise = obj.find("noise");
  if (noise == obj.end() || !noise->is_object()) return false;
  const auto d = noise->find("disturbed");
  if (d == noise->end()) return false;
  if (d->is_boolean()) return d->get<bool>();
  if (d->is_string()) return !d->get_ref<const std::string&>().empty();
  if (d->is_number()) return d->get<double>() != 0;
  return false;
}

std::optional<double> latency_p99(const run::Figures& f) {
  const auto it = f.latency_s.find("p99");
  return it == f.latency_s.end() ? std::nullopt : std::optional<double>(it->second);
}

std::string string_or(const nlohmann::json& obj, const char* key, std::string fallback) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

const std::vector<MetricDef>& all_metrics() {
  static const std::vector<MetricDef> metrics = {
      {"requests_per_s", Better::higher, "/requests_per_s", "req/s",
       [](const run::Figures& f) { return std::optional<double>(f.requests_per_s); }},
      {"efficiency", Better::higher, "/efficiency", "", [](const run::Figures& f) { return f.efficiency; }},
      {"p99", Better::lower, "/latency_s/p99", "s", latency_p99},
      {"cpu_us_per_req", Better::lower, "/server/cpu_us_per_req", "µs",
       [](const run::Figures& f) { return f.server.cpu_us_per_req; }},
      {"peak_rss_kb", Better::lower, "/server/peak_rss_kb", "KiB",
       [](const run::Figures& f) { return std::optional<double>(f.server.peak_rss_kb); }},
  };
  return metrics;
}

const MetricDef* find_metric(std::string_view name) {
  for (const auto& m : all_metrics()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<double> CellResults::samples(std::string_view metric) const {
  std::vector<double> out;
  for (const auto& r : runs) {
    if (!r.ok) continue;
    if (const auto it = r.values.find(metric); it != r.values.end()) out.push_back(it->second);
  }
  return out;
}

const CellResults* ResultsFile::find(std::string_view id) const {
  const auto it = index.find(id);
  return it == index.end() ? nullptr : &cells[it->second];
}

RunFigures run_figures_from_json(const nlohmann::json& run, const std::string& where) {
  RunFigures f;
  f.ok = string_or(run, "status", "ok") == "ok";
  f.failure = string_or(run, "failure", "");
  f.disturbed = disturbed(run);
  // A failed run's figures are whatever was measured before it failed; the gate never compares them.
  if (!f.ok) return f;
  for (const auto& m : all_metrics()) {
    if (const auto v = metric_at(run, m.name, m.pointer, where)) f.values.emplace(std::string(m.name), *v);
  }
  f.error_total = count_at(run, "error_total", where);
  f.non_2xx = count_at(run, "non_2xx", where);
  return f;
}

RunFigures run_figures_from_result(const run::RunResult& run) {
  RunFigures f;
  f.ok = run.ok;
  f.failure = run.failure;
  for (const auto& m : all_metrics()) {
    if (const auto v = m.of(run.figures)) f.values.emplace(std::string(m.name), *v);
  }
  f.error_total = run.figures.error_total;
  f.non_2xx = run.figures.non_2xx;
  return f;
}

ResultsFile results_from_json(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) fail(source, "not a JSON object");
  const auto schema = doc.find("schema");
  if (schema == doc.end() || !schema->is_string()) fail(source, "no \"schema\" field (not a ringbench run result?)");
  if (schema->get<std::string>() != run::kResultsSchema) {
    fail(source, fmt::format("schema \"{}\", this gate reads \"{}\"", schema->get<std::string>(), run::kResultsSchema));
  }
  const auto scenarios = doc.find("scenarios");
  if (scenarios == doc.end() || !scenarios->is_array()) fail(source, "no \"scenarios\" array");

  ResultsFile out;
  out.source = source;
  out.environment = doc.value("environment", nlohmann::json::object());
  for (const auto& sc : *scenarios) {
    const auto cells = sc.find("cells");
    if (!sc.is_object() || cells == sc.end() || !cells->is_array()) {
      fail(source, fmt::format("scenario \"{}\" has no \"cells\" array", sc.is_object() ? string_or(sc, "name", "?") : "?"));
    }
    for (const auto& c : *cells) {
      CellResults cell;
      if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) fail(source, "a cell without a string \"id\"");
      cell.id = c["id"].get<std::string>();
      cell.label = string_or(c, "label", cell.id);
      cell.ok = string_or(c, "status", "ok") == "ok";
      cell.failure = string_or(c, "failure", "");
      cell.disturbed = disturbed(c);
      const auto runs = c.find("runs");
      if (runs == c.end() || !runs->is_array()) fail(source, fmt::format("cell {} has no \"runs\" array", cell.id));
      for (const auto& r : *runs) {
        const std::string where = fmt::format("{}: cell {} run {}", source, cell.id, cell.runs.size() + 1);
        if (!r.is_object()) fail(where, "not an object");
        cell.runs.push_back(run_figures_from_json(r, where));
        cell.disturbed = cell.disturbed || cell.runs.back().disturbed;
      }
      if (!out.index.emplace(cell.id, out.cells.size()).second) {
        fail(source, fmt::format("cell id {} appears twice", cell.id));
      }
      out.cells.push_back(std::move(cell));
    }
  }
  if (out.cells.empty()) fail(source, "no cells");
  return out;
}

ResultsFile load_results(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte locates the damage; nlohmann's own message repeats the exception id, so keep ours short.
    fail(path, fmt::format("corrupt JSON at byte {}", e.byte));
  }
  return results_from_json(doc, path);
}

}  // namespace ringbench::gate
