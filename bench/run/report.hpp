// Human-facing reports of a run: the terminal table, results.csv, report.md, and gnuplot charts.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "run/runner.hpp"

namespace ringbench::run {

// Why a cell must not be ranked against its neighbours ("client-bound", "does not honour the delay …"),
// or empty when it may.
std::string not_comparable(const CellResult& cell);
// "disturbed: …" when the noise record of any of its runs exceeded a limit (run/noise.hpp), else empty.
std::string disturbed(const CellResult& cell);

// The best comparable ok cell in each group of cells under the same load (delay, concurrency, n/z, rate,
// path): highest req/s, or lowest server CPU-µs/request at 0 ms. Groups with fewer than two have none.
std::vector<bool> best_cells(const ScenarioResult& s);

// The terminal table of one scenario.
void print_table(std::FILE* out, const ScenarioResult& s);
std::string markdown_table(const ScenarioResult& s);

// One row per run plus one "median" row per cell.
std::string results_csv(const std::vector<ScenarioResult>& scenarios);
std::string report_markdown(const nlohmann::json& environment, const std::vector<ScenarioResult>& scenarios,
                            const std::vector<std::string>& charts, const std::string& charts_note);

struct ChartsOutcome {
  std::vector<std::string> files;  // relative to the output directory
  std::string note;                // why charts were skipped, or empty
};
// Writes <scenario>-throughput, -latency and -cpu as PNG and SVG with gnuplot into `dir`.
ChartsOutcome write_charts(const std::string& dir, const std::vector<ScenarioResult>& scenarios);

}  // namespace ringbench::run
