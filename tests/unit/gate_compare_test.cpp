// Unit tests of the gate's decisions on synthetic results files (bench/gate/compare.hpp, results.hpp)
// and of its Markdown and JUnit reports.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gate/compare.hpp"
#include "gate/junit.hpp"
#include "gate/markdown.hpp"
#include "gate/results.hpp"
#include "run/runner.hpp"

using namespace ringbench::gate;
using nlohmann::json;

namespace {

struct SyntheticCell {
  std::string id;
  std::vector<double> cpu_us;  // one run per value; req/s is derived so the two move together
  double error_total = 0;      // in the first run only
  double non_2xx = 0;          // in the first run only
};

json run_json(double cpu_us, double errors, double non_2xx) {
  return {{"status", "ok"},
          {"failure", ""},
          {"requests_per_s", 1e6 / (cpu_us * 10)},
          {"efficiency", nullptr},
          {"latency_s", {{"p50", 0.001}, {"p90", 0.002}, {"p99", 0.004}, {"p99.9", 0.005}, {"max", 0.01}}},
          {"completed", 10000},
          {"error_total", errors},
          {"non_2xx", non_2xx},
          {"server", {{"cpu_s", cpu_us * 0.01}, {"cpu_us_per_req", cpu_us}, {"peak_rss_kb", 4000}}}};
}

json results(const std::vector<SyntheticCell>& cells) {
  json jcells = json::array();
  for (const auto& c : cells) {
    json runs = json::array();
    for (double v : c.cpu_us) runs.push_back(runs.empty() ? run_json(v, c.error_total, c.non_2xx) : run_json(v, 0, 0));
    jcells.push_back({{"id", c.id}, {"label", c.id}, {"status", "ok"}, {"failure", ""}, {"runs", runs}});
  }
  return {{"schema", "ringbench.results/1"},
          {"environment", {{"cpu_model", "test"}, {"build_type", "Release"}}},
          {"scenarios", json::array({{{"name", "hello"}, {"cells", jcells}}})}};
}

GateReport gate_of(const json& base, const json& cur, GateOptions opt = {}) {
  return compare_files(results_from_json(base, "base.json"), results_from_json(cur, "cur.json"), opt);
}

const MetricComparison* find(const GateReport& r, const std::string& metric) {
  for (const auto& c : r.comparisons) {
    if (c.metric == metric) return &c;
  }
  return nullptr;
}

const std::vector<double> kBase = {10.0, 10.2, 9.9, 10.1, 10.0};

}  // namespace

TEST_CASE("identical results pass", "[gate]") {
  const json doc = results({{"hello/uring/c=50/n=1000", kBase}});
  const GateReport r = gate_of(doc, doc);
  CHECK_FALSE(r.failed());
  CHECK(r.exit_status() == 0);
  CHECK(r.regressions() == 0);
  REQUIRE(find(r, "cpu_us_per_req"));
  CHECK(find(r, "cpu_us_per_req")->verdict == Verdict::pass);
  CHECK(find(r, "efficiency") == nullptr);  // null at 0 ms: not compared
}

TEST_CASE("a clear CPU regression fails", "[gate]") {
  const GateReport r = gate_of(results({{"c", kBase}}), results({{"c", {12.0, 12.3, 11.9, 12.1, 12.2}}}));
  const auto* cpu = find(r, "cpu_us_per_req");
  REQUIRE(cpu);
  CHECK(cpu->verdict == Verdict::regression);
  CHECK(cpu->worse_pct > 15);
  CHECK(cpu->p_value < 0.05);
  // req/s fell with it (higher is better).
  CHECK(find(r, "requests_per_s")->verdict == Verdict::regression);
  CHECK(r.exit_status() == 1);

  GateOptions warn;
  warn.warn_only = true;
  CHECK(gate_of(results({{"c", kBase}}), results({{"c", {12.0, 12.3, 11.9, 12.1, 12.2}}}), warn).exit_status() == 0);
}

TEST_CASE("a significant change smaller than the tolerance passes", "[gate]") {
  // Every current run is 2 % slower: significant, but under the 5 % tolerance.
  std::vector<double> cur;
  for (double v : kBase) cur.push_back(v * 1.02);
  const GateReport r = gate_of(results({{"c", kBase}}), results({{"c", cur}}));
  const auto* cpu = find(r, "cpu_us_per_req");
  REQUIRE(cpu);
  CHECK(cpu->p_value <= 0.05);
  CHECK(cpu->verdict == Verdict::pass);
  CHECK(r.exit_status() == 0);
}

TEST_CASE("a large but noisy difference that is not significant passes", "[gate]") {
  // Medians differ by more than the tolerance, but the samples overlap: noise, not a regression.
  const GateReport r = gate_of(results({{"c", {8, 10, 12, 9, 11}}}), results({{"c", {9, 12, 13, 8, 11.5}}}));
  const auto* cpu = find(r, "cpu_us_per_req");
  REQUIRE(cpu);
  CHECK(cpu->p_value > 0.05);
  CHECK(cpu->verdict == Verdict::pass);
  CHECK_FALSE(r.failed());
}

TEST_CASE("an improvement is reported and passes", "[gate]") {
  const GateReport r = gate_of(results({{"c", kBase}}), results({{"c", {8.0, 8.1, 7.9, 8.0, 8.2}}}));
  CHECK(find(r, "cpu_us_per_req")->verdict == Verdict::improvement);
  CHECK(r.exit_status() == 0);
}

TEST_CASE("too few runs are untested, and a gate with nothing but untested comparisons cannot decide", "[gate]") {
  const GateReport r = gate_of(results({{"c", {10, 10.1}}}), results({{"c", {20, 20.1}}}));
  CHECK(find(r, "cpu_us_per_req")->verdict == Verdict::untested);
  CHECK(r.untested() == r.comparisons.size());
  CHECK(r.undecided());
  CHECK_FALSE(r.failed());
  CHECK(r.exit_status() == 2);
  CHECK(r.undecided_reason() == "could not decide: 4 comparisons untested, need ≥ 3 runs a side");
  CHECK(summary_line(r).find("COULD NOT DECIDE") != std::string::npos);
  CHECK(summary_line(r).find("PASS") == std::string::npos);
  // A correctness failure is a decision even when no figure could be tested.
  CHECK(gate_of(results({{"c", {10, 10.1}}}), results({{"c", {10, 10.1}, 2, 0}})).exit_status() == 1);
  // One decided cell beside an untested one: the gate decides on what it could test.
  const json two_cells = results({{"a", kBase}, {"b", {10, 10.1}}});
  const GateReport mixed = gate_of(two_cells, two_cells);
  CHECK(mixed.untested() == 4);
  CHECK(mixed.exit_status() == 0);
}

TEST_CASE("the runs a side needed follow alpha and the kind of test", "[gate]") {
  CHECK(runs_needed(0.05, false) == 3);  // 1 / C(6,3) = 0.05
  CHECK(runs_needed(0.01, false) == 5);  // 1 / C(8,4) = 0.014 is not enough
  CHECK(runs_needed(0.05, true) == 5);   // 2^-5 = 0.031
}

namespace {

// One cell whose runs have the given peak RSS and req/s, everything else equal.
json rss_results(const std::vector<double>& rss_kb, const std::vector<double>& rps) {
  json doc = results({{"c", std::vector<double>(rss_kb.size(), 10.0)}});
  auto& runs = doc["scenarios"][0]["cells"][0]["runs"];
  for (std::size_t i = 0; i < rss_kb.size(); ++i) {
    runs[i]["server"]["peak_rss_kb"] = rss_kb[i];
    runs[i]["requests_per_s"] = rps[i];
  }
  return doc;
}

}  // namespace

TEST_CASE("p is one-sided for 'worse', whichever way worse points", "[gate]") {
  // RSS (lower is better) fell in every run and req/s (higher is better) fell in every run.
  const GateReport r = gate_of(rss_results({4000, 4010, 4020}, {1000, 1010, 1020}),
                               rss_results({3000, 3010, 3020}, {800, 810, 820}));
  const MetricComparison* rss = find(r, "peak_rss_kb");
  REQUIRE(rss);
  CHECK(rss->p_value == Approx(1.0));    // falling RSS is no evidence of a regression at all
  CHECK(rss->p_better == Approx(0.05));  // … and as strong as 3 runs allow for an improvement
  CHECK(rss->verdict == Verdict::improvement);
  const MetricComparison* rps = find(r, "requests_per_s");
  REQUIRE(rps);
  CHECK(rps->p_value == Approx(0.05));   // falling req/s is the bad direction
  CHECK(rps->p_better == Approx(1.0));
  CHECK(rps->verdict == Verdict::regression);
  // The mirror image: RSS rising, req/s rising.
  const GateReport m = gate_of(rss_results({3000, 3010, 3020}, {800, 810, 820}),
                               rss_results({4000, 4010, 4020}, {1000, 1010, 1020}));
  CHECK(find(m, "peak_rss_kb")->p_value == Approx(0.05));
  CHECK(find(m, "peak_rss_kb")->verdict == Verdict::regression);
  CHECK(find(m, "requests_per_s")->p_value == Approx(1.0));
}

TEST_CASE("the table shows the ratio of medians beside the Hodges-Lehmann change it decides on", "[gate]") {
  // Medians 14.94 vs 14.79 (ratio 0.990) while most pairwise differences are positive: the two figures can
  // point different ways, so both are shown and named.
  const GateReport r = gate_of(results({{"c", {14.0, 14.1, 14.94, 15.9, 16.0}}}),
                               results({{"c", {14.7, 14.75, 14.79, 16.5, 16.6}}}));
  const MetricComparison* cpu = find(r, "cpu_us_per_req");
  REQUIRE(cpu);
  CHECK(cpu->cur_median / cpu->base_median == Approx(14.79 / 14.94));
  CHECK(cpu->change_pct > 0);
  const std::string md = render_markdown(r);
  CHECK(md.find("| ratio of medians | change (Hodges–Lehmann) | p (worse) |") != std::string::npos);
  CHECK(md.find("| 0.990 |") != std::string::npos);
  CHECK(md.find("Mann–Whitney U p-value for \"current is worse\"") != std::string::npos);
}

TEST_CASE("a malformed or missing metric is an input error naming the file and cell, never skipped", "[gate]") {
  const json good = results({{"hello/uring/c=50/n=1000", kBase}});
  const auto broken = [&](const std::function<void(json&)>& damage) {
    json doc = good;
    damage(doc["scenarios"][0]["cells"][0]["runs"][1]);
    return doc;
  };
  for (const auto& [what, damage] : std::vector<std::pair<std::string, std::function<void(json&)>>>{
           {"string", [](json& run) { run["server"]["cpu_us_per_req"] = "6.0"; }},
           {"negative", [](json& run) { run["requests_per_s"] = -1; }},
           {"object", [](json& run) { run["latency_s"]["p99"] = json::object(); }},
           {"missing", [](json& run) { run["server"].erase("peak_rss_kb"); }},
           {"missing parent", [](json& run) { run.erase("latency_s"); }},
       }) {
    INFO(what);
    CHECK_THROWS_WITH(results_from_json(broken(damage), "cur.json"),
                      Catch::Contains("cur.json") && Catch::Contains("cell hello/uring/c=50/n=1000 run 2") &&
                          Catch::Contains("metric"));
  }
  // null means "not measured" (efficiency at 0 ms), and a failed run's figures are not read at all.
  CHECK_NOTHROW(results_from_json(good, "cur.json"));
  json failed = good;
  failed["scenarios"][0]["cells"][0]["runs"][1] = {{"status", "failed"}, {"failure", "crashed"}};
  CHECK_NOTHROW(results_from_json(failed, "cur.json"));
}

TEST_CASE("a cell the runner flagged as disturbed is said so when the gate decides on it", "[gate]") {
  json noisy = results({{"c", {12.0, 12.3, 11.9, 12.1, 12.2}}});
  noisy["scenarios"][0]["cells"][0]["noise"] = {{"disturbed", true}};
  const GateReport r = gate_of(results({{"c", kBase}}), noisy);
  REQUIRE(find(r, "cpu_us_per_req"));
  CHECK(find(r, "cpu_us_per_req")->disturbed);
  CHECK(std::any_of(r.notes.begin(), r.notes.end(),
                    [](const std::string& n) { return n.find("noise.disturbed") != std::string::npos; }));
  CHECK(render_markdown(r).find("(noisy machine)") != std::string::npos);
  // A flag on one run of the baseline counts for the cell; absent or false flags say nothing.
  json base = results({{"c", kBase}});
  base["scenarios"][0]["cells"][0]["runs"][2]["noise"] = {{"disturbed", true}};
  CHECK(find(gate_of(base, results({{"c", kBase}})), "cpu_us_per_req")->disturbed);
  json quiet = results({{"c", kBase}});
  quiet["scenarios"][0]["cells"][0]["noise"] = {{"disturbed", false}};
  const GateReport q = gate_of(results({{"c", kBase}}), quiet);
  CHECK_FALSE(find(q, "cpu_us_per_req")->disturbed);
  CHECK(q.notes.empty());
}

TEST_CASE("request errors or non-2xx answers in the current build fail whatever the speed", "[gate]") {
  const json base = results({{"c", kBase}});
  const GateReport errors = gate_of(base, results({{"c", kBase, 3, 0}}));
  REQUIRE(errors.correctness.size() == 1);
  CHECK(errors.correctness[0].what.find("3 request errors") != std::string::npos);
  CHECK(errors.exit_status() == 1);
  const GateReport non2xx = gate_of(base, results({{"c", kBase, 0, 5}}));
  CHECK(non2xx.exit_status() == 1);
  // Errors in the baseline alone do not fail the candidate.
  CHECK(gate_of(results({{"c", kBase, 3, 0}}), base).exit_status() == 0);
}

TEST_CASE("a baseline cell missing from the current file is an input error naming it", "[gate]") {
  const json base = results({{"a", kBase}, {"b/uring/c=10/n=100", kBase}});
  const json cur = results({{"a", kBase}});
  try {
    gate_of(base, cur);
    FAIL("no GateInputError");
  } catch (const GateInputError& e) {
    CHECK(std::string(e.what()).find("b/uring/c=10/n=100") != std::string::npos);
    CHECK(std::string(e.what()).find("cur.json") != std::string::npos);
  }
  // A new cell in the current file is only noted.
  const GateReport r = gate_of(cur, base);
  CHECK_FALSE(r.notes.empty());
  CHECK(r.exit_status() == 0);
}

TEST_CASE("wrong schema, duplicate ids and corrupt JSON are input errors", "[gate]") {
  json other = results({{"a", kBase}});
  other["schema"] = "ringbench.results/2";
  CHECK_THROWS_WITH(results_from_json(other, "x.json"), Catch::Contains("schema") && Catch::Contains("x.json"));
  CHECK_THROWS_AS(results_from_json(json::array(), "x.json"), GateInputError);
  CHECK_THROWS_WITH(results_from_json(results({{"a", kBase}, {"a", kBase}}), "x.json"), Catch::Contains("twice"));

  char path[] = "/tmp/ringbench-gate-unit-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << "{\"schema\": \"ringbench.results/1\", \"scenarios\": [";
  CHECK_THROWS_WITH(load_results(path), Catch::Contains("corrupt JSON") && Catch::Contains(path));
  std::remove(path);
  CHECK_THROWS_WITH(load_results("/nonexistent/gate.json"), Catch::Contains("cannot open"));
}

TEST_CASE("paired comparison: a consistent 10 % slowdown fails, 2 % passes", "[gate]") {
  const std::vector<double> a = {10, 10.3, 9.8, 10.1, 10.4, 9.9, 10.0, 10.2, 9.7};
  std::vector<double> slow, slight;
  for (std::size_t i = 0; i < a.size(); ++i) {
    slow.push_back(a[i] * (i == 4 ? 0.99 : 1.10));  // one pair goes the other way: still caught
    slight.push_back(a[i] * 1.02);
  }
  const MetricDef& cpu = *find_metric("cpu_us_per_req");
  const GateOptions opt;
  const auto r = compare_paired("c", cpu, a, slow, opt);
  CHECK(r.verdict == Verdict::regression);
  CHECK(r.p_value < 0.01);
  CHECK(r.change_pct == Approx(10.0).epsilon(0.01));
  CHECK(compare_paired("c", cpu, a, slight, opt).verdict == Verdict::pass);
  CHECK(compare_paired("c", cpu, a, a, opt).verdict == Verdict::pass);
  // Higher-is-better metrics flip the direction.
  CHECK(compare_paired("c", *find_metric("requests_per_s"), a, slow, opt).verdict == Verdict::improvement);
}

TEST_CASE("paired comparison: a noisy slowdown beyond the tolerance is suspected, not yet failed", "[gate]") {
  // Seven pairs show +20 %, then two noisy pairs go far the other way: the estimate stays above 5 % but the
  // signed-rank test cannot reach 0.05 on 9 pairs. The A/B mode re-measures this.
  const std::vector<double> a = {10, 10, 10, 10, 10, 10, 10, 10, 10};
  const std::vector<double> b = {12, 12, 12, 12, 12, 12, 12, 7.0, 7.2};
  const GateOptions opt;
  const auto noisy = compare_paired("c", *find_metric("cpu_us_per_req"), a, b, opt);
  CHECK(noisy.verdict == Verdict::pass);
  CHECK(noisy.worse_pct > opt.tolerance_pct);
  CHECK(suspected_regression(noisy, opt));
  // Within the tolerance, or better: nothing to re-measure.
  const std::vector<double> same = {10.1, 9.9, 10.2, 9.8, 10.0, 10.1, 9.9, 10.0, 10.2};
  CHECK_FALSE(suspected_regression(compare_paired("c", *find_metric("cpu_us_per_req"), a, same, opt), opt));
  CHECK_FALSE(suspected_regression(compare_paired("c", *find_metric("requests_per_s"), a, b, opt), opt));
}

TEST_CASE("Markdown and JUnit reports carry the verdicts", "[gate]") {
  const GateReport r = gate_of(results({{"hello/uring/c=50/n=1000", kBase}}),
                               results({{"hello/uring/c=50/n=1000", {12.0, 12.3, 11.9, 12.1, 12.2}, 1, 0}}));
  const std::string md = render_markdown(r);
  CHECK(md.find("| cell | metric | baseline | current | ratio of medians | change (Hodges–Lehmann) | p (worse) | "
                "verdict |") != std::string::npos);
  CHECK(md.find("REGRESSION") != std::string::npos);
  CHECK(md.find("1 request errors") != std::string::npos);
  CHECK(summary_line(r).find("FAIL") != std::string::npos);

  const std::string xml = render_junit(r);
  CHECK(xml.rfind("<?xml", 0) == 0);
  CHECK(xml.find("type=\"regression\"") != std::string::npos);
  CHECK(xml.find("type=\"correctness\"") != std::string::npos);
  // cpu, req/s regress, p99 and RSS pass, plus the correctness case: 5 cases, 3 failures.
  CHECK(xml.find("tests=\"5\" failures=\"3\"") != std::string::npos);
  CHECK(xml_escape("a<b & \"c\"\x01") == "a&lt;b &amp; &quot;c&quot;");
}

TEST_CASE("the A/B mode reads the runner's results in-process exactly as a results file would give them", "[gate]") {
  ringbench::run::RunResult run;
  run.ok = true;
  run.figures.requests_per_s = 12345.5;
  run.figures.latency_s = {{"p50", 0.001}, {"p99", 0.0042}};
  run.figures.error_total = 2;
  run.figures.non_2xx = 1;
  run.figures.server.cpu_us_per_req = 6.25;
  run.figures.server.peak_rss_kb = 4096;
  const RunFigures direct = run_figures_from_result(run);
  const RunFigures via_json = run_figures_from_json(ringbench::run::to_json(run), "x");
  CHECK(direct.values == via_json.values);
  CHECK(direct.values.count("efficiency") == 0);  // not measured at 0 ms, in both paths
  CHECK(direct.values.at("p99") == 0.0042);
  CHECK(direct.error_total == via_json.error_total);
  CHECK(direct.non_2xx == via_json.non_2xx);
  CHECK(direct.ok == via_json.ok);
}
