// The gate's comparison and decision rule; see compare.hpp.
#include "gate/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "gate/stats.hpp"

namespace ringbench::gate {
namespace {

// Environment fields that make two results files incomparable if they differ (reported, not fatal).
constexpr const char* kEnvironmentKeys[] = {"cpu_model", "cores", "kernel", "build_type", "sanitizers", "mimalloc"};

// Names at most this many cells in a one-line message, then "and N more".
constexpr std::size_t kNamedCells = 3;

std::string name_cells(const std::vector<std::string>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size() && i < kNamedCells; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > kNamedCells) s += fmt::format(" and {} more", ids.size() - kNamedCells);
  return s;
}

std::vector<const MetricDef*> metrics_of(const GateOptions& opt) {
  if (!opt.metrics.empty()) return opt.metrics;
  std::vector<const MetricDef*> all;
  for (const auto& m : all_metrics()) all.push_back(&m);
  return all;
}

}  // namespace

void note_disturbed(GateReport& report, const std::string& cell_id, bool base, bool cur) {
  if (!base && !cur) return;
  const bool decided = std::any_of(report.comparisons.begin(), report.comparisons.end(), [&](const auto& c) {
    return c.cell_id == cell_id && c.verdict != Verdict::untested;
  });
  if (!decided) return;
  const char* where = base && cur ? "baseline and the current run" : base ? "baseline" : "current run";
  report.notes.push_back(fmt::format("{}: the runner flagged noise (noise.disturbed) in the {}; its verdicts rest "
                                     "on a disturbed machine and may reflect it rather than the code",
                                     cell_id, where));
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::regression: return "REGRESSION";
    case Verdict::improvement: return "improvement";
    case Verdict::untested: return "untested";
  }
  return "?";
}

std::size_t GateReport::regressions() const {
  return static_cast<std::size_t>(std::count_if(comparisons.begin(), comparisons.end(),
                                                [](const auto& c) { return c.verdict == Verdict::regression; }));
}

std::size_t GateReport::improvements() const {
  return static_cast<std::size_t>(std::count_if(comparisons.begin(), comparisons.end(),
                                                [](const auto& c) { return c.verdict == Verdict::improvement; }));
}

std::size_t GateReport::untested() const {
  return static_cast<std::size_t>(std::count_if(comparisons.begin(), comparisons.end(),
                                                [](const auto& c) { return c.verdict == Verdict::untested; }));
}

std::string GateReport::undecided_reason() const {
  if (comparisons.empty()) return "could not decide: no metric was measured in any compared cell";
  return fmt::format("could not decide: {} comparisons untested, need ≥ {} {}", untested(),
                     runs_needed(options.alpha, paired), paired ? "pairs (--repeat)" : "runs a side");
}

int GateReport::exit_status() const {
  if (failed()) return options.warn_only ? 0 : 1;
  return undecided() ? 2 : 0;
}

std::size_t runs_needed(double alpha, bool paired) {
  constexpr std::size_t kMaxRuns = 64;  // beyond any alpha the options accept
  for (std::size_t n = 1; n < kMaxRuns; ++n) {
    if ((paired ? sign_test_p(n, n) : min_achievable_p(n, n)) <= alpha) return n;
  }
  return kMaxRuns;
}

Verdict decide(double worse_pct, double p_worse, double p_better, const GateOptions& opt) {
  if (p_worse <= opt.alpha && worse_pct > opt.tolerance_pct) return Verdict::regression;
  if (p_better <= opt.alpha && -worse_pct > opt.tolerance_pct) return Verdict::improvement;
  return Verdict::pass;
}

bool suspected_regression(const MetricComparison& m, const GateOptions& opt) {
  return m.verdict == Verdict::regression || (m.verdict == Verdict::pass && m.worse_pct > opt.tolerance_pct);
}

MetricComparison compare_independent(const std::string& cell_id, const MetricDef& metric,
                                     const std::vector<double>& base, const std::vector<double>& cur,
                                     const GateOptions& opt) {
  MetricComparison c;
  c.cell_id = cell_id;
  c.metric = std::string(metric.name);
  c.better = metric.better;
  c.n_base = base.size();
  c.n_cur = cur.size();
  c.base_median = median(base);
  c.cur_median = median(cur);
  const double shift = hodges_lehmann_shift(base, cur);
  if (c.base_median != 0) {
    c.change_pct = 100.0 * shift / std::fabs(c.base_median);
  } else {
    c.change_pct = shift == 0 ? 0.0 : std::copysign(HUGE_VAL, shift);
  }
  c.worse_pct = metric.better == Better::lower ? c.change_pct : -c.change_pct;

  const MannWhitney mw = mann_whitney(base, cur);
  // p_greater: current larger than baseline, which is worse for lower-is-better metrics.
  const double p_worse = metric.better == Better::lower ? mw.p_greater : mw.p_less;
  const double p_better = metric.better == Better::lower ? mw.p_less : mw.p_greater;
  c.p_value = p_worse;
  c.p_better = p_better;
  c.test = mw.exact ? "Mann-Whitney U (exact)" : "Mann-Whitney U (normal, tie-corrected)";
  c.detail = fmt::format("{} vs {} runs, Hodges-Lehmann shift {:+.4g}, p better {:.3g}", c.n_base, c.n_cur, shift,
                         p_better);
  c.verdict = decide(c.worse_pct, p_worse, p_better, opt);
  if (c.verdict == Verdict::pass && min_achievable_p(c.n_base, c.n_cur) > opt.alpha) {
    c.verdict = Verdict::untested;
    c.detail = fmt::format("{} vs {} runs can never reach p <= {} (smallest possible p {:.3g}); use --repeat {} or "
                           "more",
                           c.n_base, c.n_cur, opt.alpha, min_achievable_p(c.n_base, c.n_cur),
                           runs_needed(opt.alpha, false));
  }
  return c;
}

MetricComparison compare_paired(const std::string& cell_id, const MetricDef& metric, const std::vector<double>& base,
                                const std::vector<double>& cur, const GateOptions& opt) {
  MetricComparison c;
  c.cell_id = cell_id;
  c.metric = std::string(metric.name);
  c.better = metric.better;
  const std::size_t n = std::min(base.size(), cur.size());
  std::vector<double> ratios;
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (base[i] > 0 && cur[i] > 0) {
      ratios.push_back(cur[i] / base[i]);
    } else if (cur[i] == base[i]) {
      ratios.push_back(1.0);
    } else {
      ++dropped;
    }
  }
  c.n_base = c.n_cur = ratios.size();
  c.base_median = median(base);
  c.cur_median = median(cur);
  const PairedRatios pr = paired_ratios(ratios, 1.0 - 2.0 * opt.alpha);
  c.change_pct = 100.0 * (pr.ratio - 1.0);
  c.worse_pct = metric.better == Better::lower ? c.change_pct : -c.change_pct;
  const double p_worse = metric.better == Better::lower ? pr.p_above : pr.p_below;
  const double p_better = metric.better == Better::lower ? pr.p_below : pr.p_above;
  c.p_value = p_worse;
  c.p_better = p_better;
  c.test = fmt::format("Wilcoxon signed-rank on {} paired log ratios ({})", ratios.size(),
                       pr.exact ? "exact" : "normal, tie-corrected");
  c.detail = fmt::format("Hodges-Lehmann ratio {:.3f}, p better {:.3g}; {} of {} pairs new > old (sign test p "
                         "{:.3g}); median ratio {:.3f}, {:.0f}% bootstrap CI {:.3f}..{:.3f}",
                         pr.ratio, p_better, pr.above, ratios.size(), pr.sign_p_above, pr.median_ratio,
                         100.0 * (1.0 - 2.0 * opt.alpha), pr.ci_low, pr.ci_high);
  if (dropped > 0) c.detail += fmt::format("; {} pairs dropped (one side 0)", dropped);
  c.verdict = decide(c.worse_pct, p_worse, p_better, opt);
  if (c.verdict == Verdict::pass && sign_test_p(ratios.size(), ratios.size()) > opt.alpha) {
    c.verdict = Verdict::untested;
    c.detail += fmt::format("; {} pairs can never reach p <= {}", ratios.size(), opt.alpha);
  }
  return c;
}

std::vector<CorrectnessFailure> check_correctness(const CellResults& cell) {
  std::vector<CorrectnessFailure> out;
  if (!cell.ok) out.push_back({cell.id, "cell failed: " + (cell.failure.empty() ? "no reason given" : cell.failure)});
  double errors = 0, non_2xx = 0;
  std::size_t failed_runs = 0;
  std::string first_failure;
  for (const auto& r : cell.runs) {
    errors += r.error_total;
    non_2xx += r.non_2xx;
    if (!r.ok) {
      if (failed_runs++ == 0) first_failure = r.failure;
    }
  }
  if (failed_runs > 0) {
    out.push_back({cell.id, fmt::format("{} of {} runs failed (first: {})", failed_runs, cell.runs.size(),
                                        first_failure.empty() ? "no reason given" : first_failure)});
  }
  if (errors > 0) out.push_back({cell.id, fmt::format("{:.0f} request errors", errors)});
  if (non_2xx > 0) out.push_back({cell.id, fmt::format("{:.0f} non-2xx answers", non_2xx)});
  if (cell.runs.empty()) out.push_back({cell.id, "no runs recorded"});
  return out;
}

GateReport compare_files(const ResultsFile& base, const ResultsFile& cur, const GateOptions& opt) {
  std::vector<std::string> missing;
  for (const auto& cell : base.cells) {
    if (!cur.find(cell.id)) missing.push_back(cell.id);
  }
  if (!missing.empty()) {
    throw GateInputError(fmt::format("{}: {} cell(s) of {} missing: {}", cur.source, missing.size(), base.source,
                                     name_cells(missing)));
  }

  GateReport report;
  report.options = opt;
  report.baseline_name = base.source;
  report.current_name = cur.source;
  report.title = fmt::format("ringbench gate: {} → {}", base.source, cur.source);

  for (const char* key : kEnvironmentKeys) {
    const auto a = base.environment.value(key, nlohmann::json());
    const auto b = cur.environment.value(key, nlohmann::json());
    if (a != b) report.notes.push_back(fmt::format("environment differs: {} {} vs {}", key, a.dump(), b.dump()));
  }
  std::vector<std::string> added;
  for (const auto& cell : cur.cells) {
    if (!base.find(cell.id)) added.push_back(cell.id);
  }
  if (!added.empty()) report.notes.push_back(fmt::format("{} new cell(s) not compared: {}", added.size(), name_cells(added)));

  for (const auto& bcell : base.cells) {
    const CellResults& ccell = *cur.find(bcell.id);
    report.cells.push_back(bcell.id);
    for (auto& f : check_correctness(ccell)) report.correctness.push_back(std::move(f));
    for (const MetricDef* m : metrics_of(opt)) {
      const auto xs = bcell.samples(m->name);
      const auto ys = ccell.samples(m->name);
      if (xs.empty() && ys.empty()) continue;  // not measured here (e.g. efficiency at 0 ms)
      if (xs.empty() || ys.empty()) {
        report.notes.push_back(fmt::format("{} {}: no ok runs in {}", bcell.id, m->name,
                                           xs.empty() ? base.source : cur.source));
        continue;
      }
      report.comparisons.push_back(compare_independent(bcell.id, *m, xs, ys, opt));
      report.comparisons.back().disturbed = bcell.disturbed || ccell.disturbed;
    }
    note_disturbed(report, bcell.id, bcell.disturbed, ccell.disturbed);
  }
  return report;
}

}  // namespace ringbench::gate
