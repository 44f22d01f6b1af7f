// Unit tests of the runner's summaries and reports: medians over ok runs, best-cell marks, CSV and JSON.
#include <catch2/catch.hpp>

#include "run/noise.hpp"
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

TEST_CASE("run: client-bound cells and cells that do not honour the delay are never starred", "[run]") {
  ScenarioResult s;
  RunResult fast = ok_run(900, 3);  // answers at once in a 250 ms scenario
  fast.figures.latency_s["p50"] = 0.002;
  RunResult bound = ok_run(60, 4);
  bound.figures.client.client_bound = true;
  s.cells.push_back(summarize(cell("nginx"), {fast}));
  s.cells.push_back(summarize(cell("uring"), {bound}));
  s.cells.push_back(summarize(cell("epoll"), {ok_run(39, 9)}));
  s.cells.push_back(summarize(cell("threads"), {ok_run(38, 9)}));
  CHECK(best_cells(s) == std::vector<bool>{false, false, true, false});
  CHECK(not_comparable(s.cells[0]).find("does not honour the delay") != std::string::npos);
  CHECK(not_comparable(s.cells[1]) == "client-bound");
  CHECK(not_comparable(s.cells[2]).empty());
  const auto j = to_json(s);
  CHECK(j["cells"][0]["comparable"] == false);
  CHECK(j["cells"][2]["comparable"] == true);
  const std::string md = markdown_table(s);
  CHECK(md.find("does not honour the delay") != std::string::npos);
  CHECK(md.find("RSS MiB") != std::string::npos);
}

TEST_CASE("run: cells that differ only in rate are ranked apart", "[run]") {
  ScenarioResult s;
  CellSpec slow = cell("uring"), fast = cell("epoll");
  slow.load.rate = 10;
  fast.load.rate = 20;
  s.cells.push_back(summarize(slow, {ok_run(10, 5)}));
  s.cells.push_back(summarize(fast, {ok_run(20, 9)}));
  CHECK(best_cells(s) == std::vector<bool>{false, false});  // one cell per load: nothing to rank
}

TEST_CASE("run: unknown figures are null in JSON and – in tables, never 0", "[run]") {
  RunResult r = ok_run(39, 9);  // no context switches, client CPU or connects measured
  r.noise.disturbed = true;
  r.noise.why = "other processes used 1.50 cores";
  ScenarioResult s;
  s.cells.push_back(summarize(cell("threads"), {r}));
  const auto j = to_json(s.cells[0]);
  for (const char* k : {"ctx_voluntary", "ctx_involuntary", "ctx_per_req"}) {
    INFO(k);
    CHECK(j["median"]["server"][k].is_null());
    CHECK(j["runs"][0]["server"][k].is_null());
  }
  CHECK(j["median"]["client"]["cpu_util_max"].is_null());
  CHECK(j["median"]["client"]["connects"].is_null());
  CHECK(j["disturbed"] == true);
  CHECK(j["runs"][0]["noise"]["disturbed"] == true);
  CHECK(j["runs"][0]["noise"]["loadavg_before"].is_null());

  RunResult no_cpu = ok_run(39, 9);
  no_cpu.figures.server.cpu_us_per_req.reset();
  s.cells.push_back(summarize(cell("epoll"), {no_cpu}));
  const std::string md = markdown_table(s);
  CHECK(md.find("| – |") != std::string::npos);
  CHECK(md.find("disturbed: other processes used 1.50 cores") != std::string::npos);
}

TEST_CASE("run: the noise record flags a window where others used the CPU", "[run]") {
  NoiseMark a, b;
  a.busy_s = 100;
  b.busy_s = 103;  // 3 CPU-seconds over 2 s, of which 0.5 s ours and 0.5 s the server's
  a.total_s = 200;
  b.total_s = 204;
  a.steal_s = b.steal_s = 1;
  a.self_cpu_s = 1;
  b.self_cpu_s = 1.5;
  const NoiseRecord n = noise_between(a, b, 0.5, 2.0);
  CHECK(*n.other_cpu_s == Approx(2.0));
  CHECK(*n.other_cores == Approx(1.0));
  CHECK(*n.steal == Approx(0.0));
  CHECK(n.disturbed);
  CHECK(n.why.find("1.00 cores") != std::string::npos);
  b.busy_s = 101.1;
  CHECK_FALSE(noise_between(a, b, 0.5, 2.0).disturbed);
}
