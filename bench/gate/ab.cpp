// The gate's A/B mode; see ab.hpp. Uses the scenario runner in-process, so both builds are driven by
// this process's load generator and measured the same way.
#include "gate/ab.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "gate/results.hpp"
#include "run/runner.hpp"

namespace ringbench::gate {
namespace {

struct CellRuns {
  run::CellSpec spec;
  std::vector<run::RunResult> old_runs, new_runs;  // index i of each forms pair i
};

std::vector<std::string> joined(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

void require_executable(const std::string& path, const char* which) {
  if (::access(path.c_str(), X_OK) != 0) {
    throw GateInputError(fmt::format("{} binary {}: {}", which, path, std::strerror(errno)));
  }
}

std::vector<const MetricDef*> metrics_of(const GateOptions& opt) {
  if (!opt.metrics.empty()) return opt.metrics;
  std::vector<const MetricDef*> all;
  for (const auto& m : all_metrics()) all.push_back(&m);
  return all;
}

class AbRunner {
 public:
  AbRunner(const AbOptions& opt, std::FILE* log) : opt_(opt), log_(log) {
    old_.server_bin = opt.old_bin;
    old_.pin = opt.pin;
    old_.extra_server_args = joined(opt.server_args, opt.old_args);
    new_ = old_;
    new_.server_bin = opt.new_bin;
    new_.extra_server_args = joined(opt.server_args, opt.new_args);
  }

  // Runs `pairs` more pairs of every cell in `cells`, cells interleaved within each round.
  void measure(std::vector<CellRuns*> cells, uint32_t pairs) {
    const std::size_t total = cells.size() * pairs * 2;
    std::size_t done = 0;
    for (uint32_t round = 0; round < pairs; ++round) {
      for (CellRuns* c : cells) {
        // Alternate which build goes first, so neither always runs on a machine warmed (or disturbed) by
        // the other.
        const bool old_first = c->old_runs.size() % 2 == 0;
        for (int k = 0; k < 2; ++k) {
          const bool is_old = (k == 0) == old_first;
          run::RunResult res = run::run_cell_once(c->spec, is_old ? old_ : new_);
          log_run(++done, total, *c, is_old, res);
          (is_old ? c->old_runs : c->new_runs).push_back(std::move(res));
        }
      }
    }
  }

 private:
  void log_run(std::size_t i, std::size_t total, const CellRuns& c, bool is_old, const run::RunResult& r) {
    if (!log_) return;
    std::string figure = r.ok ? "" : "FAILED: " + r.failure;
    if (r.ok) {
      const auto& s = r.figures.server;
      figure = fmt::format("{:.0f} req/s, cpu {} µs/req, errors {:.0f}, non-2xx {:.0f}", r.figures.requests_per_s,
                           s.cpu_us_per_req ? fmt::format("{:.3f}", *s.cpu_us_per_req) : "n/a",
                           r.figures.error_total, r.figures.non_2xx);
    }
    std::fprintf(log_, "[%zu/%zu] %s %s: %s\n", i, total, is_old ? "OLD" : "NEW", c.spec.id().c_str(),
                 figure.c_str());
    std::fflush(log_);
  }

  const AbOptions& opt_;
  std::FILE* log_;
  run::RunnerOptions old_, new_;
};

CellResults as_cell(const CellRuns& c, bool is_old) {
  CellResults cell;
  cell.id = c.spec.id();
  cell.label = c.spec.label.empty() ? c.spec.variant : c.spec.label;
  for (const auto& r : is_old ? c.old_runs : c.new_runs) cell.runs.push_back(run_figures_from_result(r));
  cell.ok = std::any_of(cell.runs.begin(), cell.runs.end(), [](const RunFigures& f) { return f.ok; });
  return cell;
}

// Decides one cell on its pairs; throws GateInputError when OLD never produced a usable run.
void evaluate_cell(const CellRuns& c, const GateOptions& gopt, GateReport& report) {
  const CellResults olds = as_cell(c, true), news = as_cell(c, false);
  if (!olds.ok) {
    throw GateInputError(fmt::format("OLD build failed every run of {}: {}", olds.id,
                                     c.old_runs.empty() ? "no runs" : c.old_runs.front().failure));
  }
  report.cells.push_back(olds.id);
  for (auto& f : check_correctness(news)) report.correctness.push_back(std::move(f));
  const std::size_t old_failed = static_cast<std::size_t>(
      std::count_if(olds.runs.begin(), olds.runs.end(), [](const RunFigures& f) { return !f.ok; }));
  if (old_failed > 0) {
    report.notes.push_back(fmt::format("{}: {} OLD runs failed; their pairs are left out", olds.id, old_failed));
  }
  for (const MetricDef* m : metrics_of(gopt)) {
    std::vector<double> a, b;
    for (std::size_t i = 0; i < olds.runs.size() && i < news.runs.size(); ++i) {
      const auto& ra = olds.runs[i];
      const auto& rb = news.runs[i];
      if (!ra.ok || !rb.ok) continue;
      const auto va = ra.values.find(m->name), vb = rb.values.find(m->name);
      if (va == ra.values.end() || vb == rb.values.end()) continue;
      a.push_back(va->second);
      b.push_back(vb->second);
    }
    if (a.empty()) continue;  // not measured in this cell (e.g. efficiency at 0 ms)
    report.comparisons.push_back(compare_paired(olds.id, *m, a, b, gopt));
  }
}

GateReport evaluate(const std::vector<CellRuns>& cells, const AbOptions& opt) {
  GateReport report;
  report.options = opt.gate;
  report.baseline_name = opt.old_bin;
  report.current_name = opt.new_bin;
  report.title = fmt::format("ringbench gate --ab: {} → {}", opt.old_bin, opt.new_bin);
  report.paired = true;
  for (const auto& c : cells) evaluate_cell(c, opt.gate, report);
  return report;
}

void write_results(const std::vector<CellRuns>& cells, const AbOptions& opt, const std::string& scenario_name) {
  for (const bool is_old : {true, false}) {
    run::ScenarioResult sr;
    sr.scenario.name = scenario_name;
    sr.scenario.description = is_old ? "gate --ab OLD build" : "gate --ab NEW build";
    sr.repeat = opt.repeat;
    for (const auto& c : cells) {
      sr.scenario.cells.push_back(c.spec);
      sr.cells.push_back(run::summarize(c.spec, is_old ? c.old_runs : c.new_runs));
    }
    const std::string& bin = is_old ? opt.old_bin : opt.new_bin;
    const auto doc = run::results_json(run::environment_json("ringbench gate --ab", bin), {sr});
    const std::string path = opt.results_out + (is_old ? "-old.json" : "-new.json");
    std::ofstream out(path, std::ios::trunc);
    out << doc.dump(2) << '\n';
    if (!out) throw GateInputError(fmt::format("{}: cannot write", path));
  }
}

}  // namespace

std::string default_ab_scenario() { return std::string(RINGBENCH_SOURCE_DIR) + "/bench/gate/ci-scenario.json"; }

GateReport run_ab(const AbOptions& opt, std::FILE* log) {
  require_executable(opt.old_bin, "OLD");
  require_executable(opt.new_bin, "NEW");
  run::Scenario scenario;
  try {
    scenario = run::load_scenario(opt.scenario);
  } catch (const std::invalid_argument& e) {
    throw GateInputError(fmt::format("--scenario {}: {}", opt.scenario, e.what()));
  }
  if (scenario.cells.empty()) throw GateInputError(fmt::format("--scenario {}: no cells", opt.scenario));

  std::vector<CellRuns> cells;
  for (const auto& spec : scenario.cells) cells.push_back(CellRuns{spec, {}, {}});
  std::vector<CellRuns*> all;
  for (auto& c : cells) all.push_back(&c);

  AbRunner runner(opt, log);
  try {
    runner.measure(all, opt.repeat);
  } catch (const std::invalid_argument& e) {
    throw GateInputError(fmt::format("--scenario {}: {}", opt.scenario, e.what()));
  }
  GateReport report = evaluate(cells, opt);

  std::vector<CellRuns*> suspects;
  for (auto& c : cells) {
    const std::string id = c.spec.id();
    const bool suspect = std::any_of(report.comparisons.begin(), report.comparisons.end(), [&](const auto& m) {
      return m.cell_id == id && suspected_regression(m, opt.gate);
    });
    if (suspect) suspects.push_back(&c);
  }
  if (opt.remeasure && !suspects.empty()) {
    if (log) std::fprintf(log, "suspected regression in %zu cell(s): re-measuring %u more pairs\n", suspects.size(), opt.repeat);
    runner.measure(suspects, opt.repeat);
    report = evaluate(cells, opt);
    report.notes.push_back(fmt::format("a suspected regression in {} cell(s) was re-measured with {} more pairs; "
                                       "the verdict uses all pairs",
                                       suspects.size(), opt.repeat));
  }
  if (!opt.old_args.empty() || !opt.new_args.empty()) {
    report.notes.push_back(fmt::format("server args differ: OLD +[{}], NEW +[{}]", fmt::join(opt.old_args, " "),
                                       fmt::join(opt.new_args, " ")));
  }
  if (!opt.results_out.empty()) write_results(cells, opt, scenario.name);
  return report;
}

}  // namespace ringbench::gate
