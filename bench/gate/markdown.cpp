// Markdown writer for the gate; see markdown.hpp.
#include "gate/markdown.hpp"

#include <fmt/format.h>

#include <cmath>

namespace ringbench::gate {
namespace {

constexpr const char* kIndependentLegend =
    "\n↓ lower is better, ↑ higher is better. Baseline and current are medians. The change is the "
    "Hodges–Lehmann estimate the decision uses (the median of all differences current − baseline, relative to "
    "the baseline median), so it can differ from the ratio of medians. p is the one-sided Mann–Whitney U p-value "
    "for \"current is worse\" (larger for ↓ metrics, smaller for ↑ ones).\n";
constexpr const char* kPairedLegend =
    "\n↓ lower is better, ↑ higher is better. Baseline and current are medians. The change is the "
    "Hodges–Lehmann estimate the decision uses (the pseudo-median of the paired ratios new/old), so it can "
    "differ from the ratio of medians. p is the one-sided Wilcoxon signed-rank p-value for \"new is worse\" "
    "(larger for ↓ metrics, smaller for ↑ ones).\n";

std::string value_text(double v, std::string_view unit) {
  if (unit.empty()) return fmt::format("{:.4g}", v);
  if (unit == "s") return fmt::format("{:.4g} ms", v * 1e3);  // latencies read better in ms
  return fmt::format("{:.4g} {}", v, unit);
}

std::string change_text(double pct) {
  if (std::isinf(pct)) return pct > 0 ? "+∞" : "-∞";
  return fmt::format("{:+.1f} %", pct);
}

// Ratio of the medians current / baseline, shown beside the Hodges–Lehmann change the decision uses.
std::string ratio_text(double base, double cur) {
  if (base == 0) return cur == 0 ? "1.000" : "∞";
  return fmt::format("{:.3f}", cur / base);
}

std::string p_text(double p) { return p < 0.001 ? "<0.001" : fmt::format("{:.3f}", p); }

// Cell ids contain '|' nowhere by contract, but escape it so a stray one cannot break the table.
std::string cell_text(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else out += ch;
  }
  return out;
}

const char* verdict_mark(Verdict v) {
  switch (v) {
    case Verdict::pass: return "✅ pass";
    case Verdict::regression: return "❌ **REGRESSION**";
    case Verdict::improvement: return "🚀 improvement";
    case Verdict::untested: return "⚠️ untested";
  }
  return "?";
}

}  // namespace

std::string summary_line(const GateReport& r) {
  const char* state = r.failed() ? (r.options.warn_only ? "WARN (regression, --warn-only)" : "FAIL")
                                 : (r.undecided() ? "COULD NOT DECIDE" : "PASS");
  return fmt::format("gate: {} — {} comparisons, {} regressions, {} improvements, {} correctness failures "
                     "(tolerance {} %, alpha {})",
                     state, r.comparisons.size(), r.regressions(), r.improvements(), r.correctness.size(),
                     r.options.tolerance_pct, r.options.alpha);
}

std::string render_markdown(const GateReport& r) {
  std::string md = fmt::format("### {}\n\n**{}**\n\n", r.title, summary_line(r));
  md += "A change fails only when it is both significant (one-sided p ≤ alpha) and larger than the tolerance; "
        "any request error or non-2xx answer in the current build fails regardless.\n\n";
  if (!r.comparisons.empty()) {
    md += "| cell | metric | baseline | current | ratio of medians | change (Hodges–Lehmann) | p (worse) "
          "| verdict |\n";
    md += "|---|---|---|---|---:|---:|---:|---|\n";
    for (const auto& c : r.comparisons) {
      const auto* def = find_metric(c.metric);
      const std::string_view unit = def ? def->unit : "";
      md += fmt::format("| {} | {} {} | {} | {} | {} | {} | {} | {}{} |\n", cell_text(c.cell_id), c.metric,
                        c.better == Better::lower ? "↓" : "↑", value_text(c.base_median, unit),
                        value_text(c.cur_median, unit), ratio_text(c.base_median, c.cur_median),
                        change_text(c.change_pct), p_text(c.p_value), verdict_mark(c.verdict),
                        c.disturbed ? " (noisy machine)" : "");
    }
    md += r.paired ? kPairedLegend : kIndependentLegend;
  }
  if (!r.correctness.empty()) {
    md += "\n**Correctness failures (hard gate):**\n\n";
    for (const auto& f : r.correctness) md += fmt::format("- `{}`: {}\n", f.cell_id, f.what);
  }
  if (!r.notes.empty()) {
    md += "\n**Notes:**\n\n";
    for (const auto& n : r.notes) md += fmt::format("- {}\n", n);
  }
  if (!r.comparisons.empty()) {
    md += "\n<details><summary>Test details</summary>\n\n";
    for (const auto& c : r.comparisons) {
      md += fmt::format("- `{}` {}: {}; {}\n", c.cell_id, c.metric, c.test, c.detail);
    }
    md += "\n</details>\n";
  }
  if (r.duration_s > 0) md += fmt::format("\nGate run took {:.1f} s.\n", r.duration_s);
  return md;
}

}  // namespace ringbench::gate
