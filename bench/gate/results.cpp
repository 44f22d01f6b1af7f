// Reading results files for the gate; see results.hpp.
#include "gate/results.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ringbench::gate {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw GateInputError(fmt::format("{}: {}", source, what));
}

// A number at `ptr` inside `obj`, or nullopt when it is absent or null (e.g. efficiency at 0 ms).
std::optional<double> number_at(const nlohmann::json& obj, std::string_view ptr) {
  const nlohmann::json::json_pointer p{std::string(ptr)};
  if (!obj.contains(p)) return std::nullopt;
  const auto& v = obj.at(p);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

std::string string_or(const nlohmann::json& obj, const char* key, std::string fallback) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

const std::vector<MetricDef>& all_metrics() {
  static const std::vector<MetricDef> metrics = {
      {"requests_per_s", Better::higher, "/requests_per_s", "req/s"},
      {"efficiency", Better::higher, "/efficiency", ""},
      {"p99", Better::lower, "/latency_s/p99", "s"},
      {"cpu_us_per_req", Better::lower, "/server/cpu_us_per_req", "µs"},
      {"peak_rss_kb", Better::lower, "/server/peak_rss_kb", "KiB"},
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

RunFigures run_figures_from_json(const nlohmann::json& run) {
  RunFigures f;
  f.ok = string_or(run, "status", "ok") == "ok";
  f.failure = string_or(run, "failure", "");
  for (const auto& m : all_metrics()) {
    if (const auto v = number_at(run, m.pointer)) f.values.emplace(std::string(m.name), *v);
  }
  f.error_total = number_at(run, "/error_total").value_or(0);
  f.non_2xx = number_at(run, "/non_2xx").value_or(0);
  return f;
}

ResultsFile results_from_json(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) fail(source, "not a JSON object");
  const auto schema = doc.find("schema");
  if (schema == doc.end() || !schema->is_string()) fail(source, "no \"schema\" field (not a ringbench run result?)");
  if (schema->get<std::string>() != kResultsSchema) {
    fail(source, fmt::format("schema \"{}\", this gate reads \"{}\"", schema->get<std::string>(), kResultsSchema));
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
      const auto runs = c.find("runs");
      if (runs == c.end() || !runs->is_array()) fail(source, fmt::format("cell {} has no \"runs\" array", cell.id));
      for (const auto& r : *runs) {
        if (!r.is_object()) fail(source, fmt::format("cell {}: a run that is not an object", cell.id));
        cell.runs.push_back(run_figures_from_json(r));
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
