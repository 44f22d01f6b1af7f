// Unit tests of the runner's summaries and reports: medians over ok runs, best-cell marks, CSV and JSON.
#include <catch2/catch.hpp>

#include "run/report.hpp"
#include "run/runner.hpp"

using namespace ringbench::run;

namespace {

RunResult ok_run(double rps, double cpu_us) {
  RunResult r;
  r.ok = true;
  r.exit_status = 0;
  r.figures.requests_per_s = rps;
  r.figures.efficiency = rps / 40.0;
  r.figures.latency_s = {{"p50", 0.25}, {"p90", 0.26}, {"p99", 0.27}, {"p99.9", 0.28}, {"max", 0.3}};
  r.figures.completed = 50;
  r.figures.errors = {{"connect", 0}, {"timeout", 0}, {"read", 0}, {"parse", 0}, {"status", 0}};
  r.figures.server.cpu_us_per_req = cpu_us;
  return r;
}

CellSpec cell(const char* variant, uint32_t delay_ms = 250) {
  CellSpec c;
  c.scenario = "t";
  c.variant = c.label = variant;
  c.load.requests = 50;
  c.delay_ms = delay_ms;
  return c;
}

}  // namespace

TEST_CASE("run: median, min and max are taken over the ok runs only", "[run]") {
  RunResult failed;
  failed.failure = "crashed during the load (killed by SIGSEGV)";
  const CellResult c = summarize(cell("uring"), {ok_run(30, 5), failed, ok_run(39, 7), ok_run(36, 6)});
  REQUIRE(c.ok());
  CHECK(c.median->requests_per_s == Approx(36));
  CHECK(c.min->requests_per_s == Approx(30));
  CHECK(c.max->requests_per_s == Approx(39));
  CHECK(*c.median->efficiency == Approx(0.9));
  CHECK(*c.median->server.cpu_us_per_req == Approx(6));
  CHECK(c.runs.size() == 4);
}

TEST_CASE("run: a cell with no ok run is failed with the first reason", "[run]") {
  RunResult a, b;
  a.failure = "exited before it was ready (exit status 1): not built yet";
  b.failure = "other";
  const CellResult c = summarize(cell("epoll"), {a, b});
  CHECK_FALSE(c.ok());
  CHECK(c.failure() == a.failure);
  CHECK_FALSE(c.median);
  const auto j = to_json(c);
  CHECK(j["status"] == "failed");
  CHECK(j["median"].is_null());
  CHECK(j["runs"].size() == 2);
}

TEST_CASE("run: the best cell is the fastest under one load, or the cheapest at 0 ms", "[run]") {
  ScenarioResult s;
  s.cells.push_back(summarize(cell("blocking"), {ok_run(4, 50)}));
  s.cells.push_back(summarize(cell("uring"), {ok_run(39, 9)}));
  s.cells.push_back(summarize(cell("epoll"), {}));
  s.cells.push_back(summarize(cell("uring", 0), {ok_run(9000, 8)}));
  s.cells.push_back(summarize(cell("epoll", 0), {ok_run(9500, 10)}));
  const auto best = best_cells(s);
  CHECK(best == std::vector<bool>{false, true, false, true, false});
}

TEST_CASE("run: results JSON carries the schema's fields", "[run]") {
  ScenarioResult s;
  s.scenario.name = "t";
  CellSpec c = cell("uring");
  c.reference = Reference{"py", 38.7};
  s.cells.push_back(summarize(c, {ok_run(39, 9)}));
  const auto j = results_json(nlohmann::json{{"kernel", "k"}}, {s});
  CHECK(j["schema"] == "ringbench.results/1");
  const auto& jc = j["scenarios"][0]["cells"][0];
  for (const char* k : {"id", "scenario", "backend", "variant", "label", "delay_ms", "concurrency", "requests",
                        "duration_s", "path", "bound_rps", "reference", "status", "failure", "runs", "median", "min",
                        "max"}) {
    INFO(k);
    CHECK(jc.contains(k));
  }
  CHECK(jc["id"] == "t/uring/c=10/n=50");
  CHECK(jc["bound_rps"].get<double>() == Approx(40));
  CHECK(jc["reference"]["requests_per_s"].get<double>() == Approx(38.7));
  CHECK(jc["median"]["latency_s"]["p99.9"].get<double>() == Approx(0.28));
  CHECK(jc["runs"][0]["completed"].is_number_integer());
}

TEST_CASE("run: CSV has one row per run and one median row per ok cell", "[run]") {
  ScenarioResult s;
  s.scenario.name = "t";
  CellSpec c = cell("uring");
  c.label = "uring, \"quoted\"";
  s.cells.push_back(summarize(c, {ok_run(39, 9), ok_run(38, 9)}));
  const std::string csv = results_csv({s});
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(csv.find("\"uring, \"\"quoted\"\"\"") != std::string::npos);
  CHECK(csv.find(",median,ok,") != std::string::npos);
}
