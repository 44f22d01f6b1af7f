// Reads `ringbench run` results files (schema run::kResultsSchema) into what the gate compares: cells by id,
// each with its repetitions' figures. Anything the gate cannot trust (a malformed or missing metric included)
// throws GateInputError with one line naming the file, the cell and the problem; the command turns that into
// exit status 2. The A/B mode builds the same structures from the runner's in-process results instead.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ringbench::run {
struct Figures;
struct RunResult;
}  // namespace ringbench::run

namespace ringbench::gate {

struct GateInputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Better { higher, lower };

struct MetricDef {
  std::string_view name;     // as given to --metric
  Better better;
  std::string_view pointer;  // JSON pointer inside one run object
  std::string_view unit;     // for reports
  // The same figure from the runner's in-process result; nullopt when not measured (e.g. efficiency at 0 ms).
  std::optional<double> (*of)(const run::Figures&);
};

// The gate's metrics, in report order.
const std::vector<MetricDef>& all_metrics();
// nullptr when `name` is not a metric.
const MetricDef* find_metric(std::string_view name);

struct RunFigures {
  bool ok = true;
  std::string failure;
  std::map<std::string, double, std::less<>> values;  // metric name → value (absent when null or missing)
  double error_total = 0;
  double non_2xx = 0;
  bool disturbed = false;  // the runner flagged this run's machine as noisy (noise.disturbed)
};

struct CellResults {
  std::string id;
  std::string label;
  bool ok = true;            // the cell's own status
  std::string failure;
  bool disturbed = false;    // noise.disturbed on the cell or on any of its runs
  std::vector<RunFigures> runs;

  // Values of `metric` over the runs that finished ok, in run order.
  std::vector<double> samples(std::string_view metric) const;
};

struct ResultsFile {
  std::string source;  // path, for messages
  nlohmann::json environment;
  std::vector<CellResults> cells;  // in file order
  std::map<std::string, std::size_t, std::less<>> index;  // id → position in `cells`

  const CellResults* find(std::string_view id) const;
};

// Validates and converts parsed JSON; `source` names it in error messages.
ResultsFile results_from_json(const nlohmann::json& doc, const std::string& source);
// Reads and parses `path`, then results_from_json.
ResultsFile load_results(const std::string& path);

// Figures of one run object (the "runs" entries of the schema). A metric must be a finite number >= 0 or
// null (not measured); absent or anything else throws GateInputError naming `where` (file and cell).
RunFigures run_figures_from_json(const nlohmann::json& run, const std::string& where);

// Figures of one run measured in this process (the A/B mode): no JSON in between.
RunFigures run_figures_from_result(const run::RunResult& run);

}  // namespace ringbench::gate
