// Markdown summary of a gate decision, fit to paste into a pull request: verdict line, one table row per
// cell and metric (baseline, current, change, p-value, verdict), correctness failures and notes.
#pragma once
#include <string>

#include "gate/compare.hpp"

namespace ringbench::gate {

std::string render_markdown(const GateReport& report);

// One line for the terminal and CI logs: "gate: PASS (12 comparisons, 0 regressions, …)".
std::string summary_line(const GateReport& report);

}  // namespace ringbench::gate
