// Scenario files: bench/scenarios/NAME.json. Format (every cell field may also sit in "defaults" or in a
// "matrix" block, which expands to one cell per variant × concurrency):
//   { "name": "scale", "description": "…",
//     "defaults": { "delay_ms": 250, "warmup_s": 2, "duration_s": 10 },
//     "labels":   { "uring:threads=2": "uring 2 threads" },
//     "cells":    [ { "variant": "blocking", "requests": 10, "concurrency": 5,
//                     "reference": { "label": "Flask/gunicorn sync", "requests_per_s": 3.95 } } ],
//     "matrix":   [ { "variants": ["uring", "epoll"], "concurrency": [10, 100] } ] }
#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>

#include "run/runner.hpp"
#include "run/variant.hpp"

#ifndef RINGBENCH_SOURCE_DIR
#define RINGBENCH_SOURCE_DIR "."
#endif

namespace ringbench::run {
namespace {

using nlohmann::json;

const std::set<std::string> kCellKeys = {"variant",  "label",      "delay_ms",       "concurrency", "requests",
                                         "duration_s", "warmup_s", "path",           "client_threads", "rate", "ramp_s",
                                         "client_lag", "reference"};

std::string scenario_dir() {
  const char* env = std::getenv("RINGBENCH_SCENARIO_DIR");
  return env && *env ? env : std::string(RINGBENCH_SOURCE_DIR) + "/bench/scenarios";
}

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::invalid_argument("scenario " + where + ": " + what);
}

template <typename T>
T get_number(const json& j, const char* key, const std::string& where, T lo, T hi) {
  const json& v = j.at(key);
  if (!v.is_number()) bad(where, std::string(key) + " must be a number");
  const double d = v.get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    bad(where, std::string(key) + " out of range: " + v.dump());
  }
  if constexpr (std::is_integral_v<T>) {
    if (d != static_cast<double>(static_cast<T>(d))) bad(where, std::string(key) + " must be a whole number");
  }
  return static_cast<T>(d);
}

// Applies the cell fields present in `j` on top of `c`.
void apply_fields(CellSpec& c, const json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "expected an object");
  for (const auto& [key, _] : j.items()) {
    if (!kCellKeys.count(key) && key != "variants") bad(where, "unknown field '" + key + "'");
  }
  if (j.contains("variant")) c.variant = j.at("variant").get<std::string>();
  if (j.contains("label")) c.label = j.at("label").get<std::string>();
  if (j.contains("delay_ms")) c.delay_ms = get_number<uint32_t>(j, "delay_ms", where, 0, 60'000);
  if (j.contains("concurrency")) c.load.connections = get_number<uint32_t>(j, "concurrency", where, 1, 1'000'000);
  if (j.contains("requests")) c.load.requests = get_number<uint64_t>(j, "requests", where, 0, 1'000'000'000);
  if (j.contains("duration_s")) c.load.duration_s = get_number<double>(j, "duration_s", where, 0, 3600);
  if (j.contains("warmup_s")) c.load.warmup_s = get_number<double>(j, "warmup_s", where, 0, 600);
  if (j.contains("rate")) c.load.rate = get_number<double>(j, "rate", where, 0, 10'000'000);
  if (j.contains("ramp_s")) c.load.ramp_s = get_number<double>(j, "ramp_s", where, 0, 600);
  if (j.contains("client_lag")) {
    if (!j.at("client_lag").is_boolean()) bad(where, "client_lag must be true or false");
    c.load.client_lag = j.at("client_lag").get<bool>();
  }
  if (j.contains("path")) c.load.path = j.at("path").get<std::string>();
  if (j.contains("client_threads")) c.load.threads = get_number<uint32_t>(j, "client_threads", where, 1, 64);
  if (j.contains("reference")) {
    const json& r = j.at("reference");
    if (r.is_null()) {
      c.reference.reset();
    } else {
      c.reference = Reference{r.at("label").get<std::string>(), get_number<double>(r, "requests_per_s", where, 0, 1e9)};
    }
  }
}

void check_cell(const CellSpec& c, const std::string& where) {
  if (c.variant.empty()) bad(where, "no variant");
  parse_variant(c.variant);  // throws for an unknown backend or bad options
  if ((c.load.requests == 0) == (c.load.duration_s <= 0)) bad(where, "give exactly one of requests (-n) and duration_s (-z)");
  if (c.load.requests > 0 && c.load.requests < c.load.connections) bad(where, "requests must be at least concurrency");
  if (c.load.path.empty() || c.load.path[0] != '/') bad(where, "path must start with '/'");
}

}  // namespace

Scenario parse_scenario(const json& j) {
  Scenario s;
  try {
    s.name = j.at("name").get<std::string>();
    s.description = j.value("description", "");
    for (const auto& [key, _] : j.items()) {
      if (key != "name" && key != "description" && key != "defaults" && key != "labels" && key != "cells" &&
          key != "matrix") {
        bad(s.name, "unknown field '" + key + "'");
      }
    }
    CellSpec defaults;
    defaults.scenario = s.name;
    if (j.contains("defaults")) apply_fields(defaults, j.at("defaults"), s.name + " defaults");
    const json labels = j.value("labels", json::object());
    auto finish = [&](CellSpec c, const std::string& where) {
      if (c.label.empty()) c.label = labels.value(c.variant, c.variant);
      check_cell(c, where);
      s.cells.push_back(std::move(c));
    };
    std::size_t i = 0;
    for (const json& cj : j.value("cells", json::array())) {
      CellSpec c = defaults;
      apply_fields(c, cj, s.name + " cell " + std::to_string(++i));
      finish(std::move(c), s.name + " cell " + std::to_string(i));
    }
    i = 0;
    for (const json& mj : j.value("matrix", json::array())) {
      const std::string where = s.name + " matrix " + std::to_string(++i);
      CellSpec base = defaults;
      json fields = mj;
      fields.erase("variants");
      fields.erase("concurrency");
      apply_fields(base, fields, where);
      const json conc = mj.value("concurrency", json::array({base.load.connections}));
      for (const json& v : mj.at("variants")) {
        for (const json& c : conc) {
          CellSpec cell = base;
          cell.variant = v.get<std::string>();
          cell.load.connections = get_number<uint32_t>(json{{"concurrency", c}}, "concurrency", where, 1, 1'000'000);
          finish(std::move(cell), where);
        }
      }
    }
  } catch (const json::exception& e) {
    bad(s.name.empty() ? "?" : s.name, e.what());
  }
  if (s.cells.empty()) bad(s.name, "no cells");
  std::set<std::string> ids;
  for (const auto& c : s.cells) {
    if (!ids.insert(c.id()).second) bad(s.name, "two cells share the id " + c.id());
  }
  return s;
}

Scenario load_scenario(const std::string& name_or_path) {
  const bool is_path = name_or_path.size() > 5 && name_or_path.ends_with(".json");
  if (!is_path) {
    for (char ch : name_or_path) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') {
        throw std::invalid_argument("bad scenario name '" + name_or_path + "'");
      }
    }
  }
  const std::string path = is_path ? name_or_path : scenario_dir() + "/" + name_or_path + ".json";
  std::ifstream f(path);
  if (!f) {
    std::string known;
    for (const auto& n : scenario_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("no scenario '" + name_or_path + "' (" + path + "); available: " + known);
  }
  json j;
  try {
    j = json::parse(f);
  } catch (const json::exception& e) {
    throw std::invalid_argument("scenario file " + path + ": " + e.what());
  }
  return parse_scenario(j);
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> out;
  const std::string dir = scenario_dir();
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 5 && n.ends_with(".json")) out.push_back(n.substr(0, n.size() - 5));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ringbench::run
