// The gate's decision: compares figures cell by cell and metric by metric, and says pass, regression or
// improvement. A change fails the gate only when it is both significant (one-sided p <= alpha) and larger
// than the tolerance; any request error, non-2xx answer or failed run in the candidate fails it outright.
// A gate whose every comparison is untested decided nothing: it exits 2, never passes.
#pragma once
#include <string>
#include <vector>

#include "gate/results.hpp"

namespace ringbench::gate {

enum class Verdict {
  pass,         // no significant change beyond the tolerance
  regression,   // significantly worse by more than the tolerance
  improvement,  // significantly better by more than the tolerance
  untested,     // too few runs for the test ever to reach alpha: reported, never fails
};

const char* verdict_name(Verdict v);

struct GateOptions {
  std::vector<const MetricDef*> metrics;  // empty: every metric
  double tolerance_pct = 5.0;
  double alpha = 0.05;
  bool warn_only = false;  // report, but exit 0 on regressions
};

struct MetricComparison {
  std::string cell_id;
  std::string metric;
  Better better = Better::lower;
  std::size_t n_base = 0, n_cur = 0;
  double base_median = 0, cur_median = 0;
  // Hodges–Lehmann estimate of the change of the value itself (+ = larger), the figure the decision uses;
  // it can differ from the ratio of medians. Its sign says nothing of good or bad.
  double change_pct = 0;
  double worse_pct = 0;   // the same change oriented so that positive means worse
  double p_value = 1;     // one-sided p for "current is worse", whichever way worse points for this metric
  double p_better = 1;    // one-sided p for "current is better" (improvements are decided on it)
  bool disturbed = false; // the runner flagged noise in a run of this cell (baseline or current)
  std::string test;       // which test produced p_value
  std::string detail;     // interval, run counts or why it is untested
  Verdict verdict = Verdict::pass;
};

struct CorrectnessFailure {
  std::string cell_id;
  std::string what;
};

struct GateReport {
  std::string title;
  std::string baseline_name = "baseline", current_name = "current";
  GateOptions options;
  std::vector<std::string> cells;  // ids of the cells compared, in order
  std::vector<MetricComparison> comparisons;
  std::vector<CorrectnessFailure> correctness;
  std::vector<std::string> notes;  // environment differences, new cells, re-measurements
  double duration_s = 0;
  bool paired = false;  // --ab: samples are pairs, not independent runs

  std::size_t regressions() const;
  std::size_t improvements() const;
  std::size_t untested() const;
  bool failed() const { return regressions() > 0 || !correctness.empty(); }
  // Nothing to decide on: no comparison at all, or every one untested (a correctness failure still decides).
  bool undecided() const { return correctness.empty() && untested() == comparisons.size(); }
  // One line for an undecided gate: how many comparisons were untested and how many runs a side it needs.
  std::string undecided_reason() const;
  // 0 pass, 1 regression or correctness failure (0 with warn_only), 2 nothing could be decided.
  int exit_status() const;
};

// Runs a side (pairs with `paired`) the test needs before its smallest possible p reaches `alpha`.
std::size_t runs_needed(double alpha, bool paired);

// The verdict for a change of `worse_pct` (positive = worse) with one-sided p-values for each direction.
Verdict decide(double worse_pct, double p_worse, double p_better, const GateOptions& opt);

// Worth a second look before deciding: a regression, or a change estimated beyond the tolerance whose
// test has not reached alpha yet (a real 10 % slowdown on a noisy runner often looks like that after 9
// pairs). The A/B mode re-measures such cells once and decides on all pairs.
bool suspected_regression(const MetricComparison& m, const GateOptions& opt);

// Independent samples (two results files): Mann–Whitney U plus Hodges–Lehmann shift relative to the
// baseline median.
MetricComparison compare_independent(const std::string& cell_id, const MetricDef& metric,
                                     const std::vector<double>& base, const std::vector<double>& cur,
                                     const GateOptions& opt);

// Paired samples (--ab: base[i] and cur[i] measured back to back): Wilcoxon signed-rank test and
// Hodges–Lehmann estimate on the log ratios cur[i] / base[i]; the sign test and a bootstrap interval of the
// median ratio go into `detail`. Pairs with a 0 on one side only are dropped (and counted in `detail`).
MetricComparison compare_paired(const std::string& cell_id, const MetricDef& metric, const std::vector<double>& base,
                                const std::vector<double>& cur, const GateOptions& opt);

// Adds a note when the runner flagged noise in cell `cell_id` (baseline and/or current) and the gate decided
// on that cell: a verdict resting on a disturbed machine is said to be so.
void note_disturbed(GateReport& report, const std::string& cell_id, bool base, bool cur);

// Correctness of one candidate cell: failed cell or runs, request errors, non-2xx answers.
std::vector<CorrectnessFailure> check_correctness(const CellResults& cell);

// Compares two results files. Throws GateInputError when a baseline cell is missing from the current file.
GateReport compare_files(const ResultsFile& base, const ResultsFile& cur, const GateOptions& opt);

}  // namespace ringbench::gate
