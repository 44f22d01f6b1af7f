// `ringbench gate`: the CI performance gate. Compares two `ringbench run` results files, or runs two builds
// interleaved (--ab), and exits 0 (pass), 1 (regression or correctness failure) or 2 (usage/input error).
// Example: ringbench gate base.json current.json --tolerance 5 --markdown gate.md --junit gate.xml
#include <cxxopts.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cli_numbers.hpp"
#include "gate/ab.hpp"
#include "gate/command.hpp"
#include "gate/compare.hpp"
#include "gate/junit.hpp"
#include "gate/markdown.hpp"
#include "gate/results.hpp"

namespace ringbench {
namespace {

using gate::GateInputError;

// Defaults: the tolerance is the smallest change worth failing a build for; alpha the accepted false-alarm
// risk per comparison.
constexpr const char* kDefaultTolerancePct = "5";
constexpr const char* kDefaultAlpha = "0.05";
constexpr const char* kDefaultRepeat = "9";
// The A/B mode needs a few pairs before a sign test can say anything: 5 pairs reach p = 0.031.
constexpr uint32_t kMinAbRepeat = 5;
constexpr uint32_t kMaxAbRepeat = 1000;

cxxopts::Options make_options() {
  cxxopts::Options o("ringbench gate", "CI performance gate: fails only on a change that is both significant and "
                                       "larger than the tolerance, or on any request error in the current build.");
  o.custom_help("[options]");
  // clang-format off
  o.add_options()
    ("files", "BASELINE.json CURRENT.json, or OLD_BINARY NEW_BINARY with --ab", cxxopts::value<std::vector<std::string>>())
    ("metric", "metrics to compare (repeat or comma-separate): requests_per_s, efficiency, p99, cpu_us_per_req, "
               "peak_rss_kb (default: all; with --ab: cpu_us_per_req)", cxxopts::value<std::vector<std::string>>())
    ("tolerance", "smallest change in percent that may fail the gate", cxxopts::value<std::string>()->default_value(kDefaultTolerancePct))
    ("alpha", "significance level of the one-sided test", cxxopts::value<std::string>()->default_value(kDefaultAlpha))
    ("warn-only", "report regressions but exit 0 (main-branch tracking)")
    ("markdown", "write the Markdown summary to FILE", cxxopts::value<std::string>())
    ("junit", "write JUnit XML to FILE", cxxopts::value<std::string>())
    ("q,quiet", "print only the one-line verdict, not the Markdown table")
    ("h,help", "show this help");
  o.add_options("A/B")
    ("ab", "run OLD_BINARY and NEW_BINARY interleaved in this job and decide on paired ratios")
    ("scenario", "scenario name or .json file for --ab (default: the gate's small 0 ms CPU-per-request cell)", cxxopts::value<std::string>())
    ("repeat", "pairs per cell for --ab", cxxopts::value<std::string>()->default_value(kDefaultRepeat))
    ("server-args", "extra `serve` arguments for both builds", cxxopts::value<std::string>()->default_value(""))
    ("old-args", "extra `serve` arguments for OLD only", cxxopts::value<std::string>()->default_value(""))
    ("new-args", "extra `serve` arguments for NEW only (e.g. \"--spin-us 1\" to inject a regression)", cxxopts::value<std::string>()->default_value(""))
    ("no-pin", "do not pin the server to CPU 0 and the client to CPU 1")
    ("no-remeasure", "fail on the first suspected regression without re-measuring")
    ("results", "write every run of both builds to FILE as results JSON", cxxopts::value<std::string>());
  // clang-format on
  o.parse_positional({"files"});
  o.positional_help("BASELINE.json CURRENT.json  |  --ab OLD_BINARY NEW_BINARY");
  return o;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

gate::GateOptions gate_options(const cxxopts::ParseResult& r, bool ab) {
  gate::GateOptions g;
  g.tolerance_pct = parse_number<double>("tolerance", r["tolerance"].as<std::string>(), 0.0, 1000.0);
  g.alpha = parse_number<double>("alpha", r["alpha"].as<std::string>(), 1e-9, 0.5);
  g.warn_only = r.count("warn-only") > 0;
  std::vector<std::string> names;
  if (r.count("metric")) names = r["metric"].as<std::vector<std::string>>();
  else if (ab) names = {"cpu_us_per_req"};
  for (const auto& n : names) {
    const gate::MetricDef* m = gate::find_metric(n);
    if (!m) {
      throw std::invalid_argument(fmt::format(
          "--metric: unknown metric '{}' (requests_per_s, efficiency, p99, cpu_us_per_req, peak_rss_kb)", n));
    }
    g.metrics.push_back(m);
  }
  return g;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw GateInputError(fmt::format("{}: cannot write", path));
}

}  // namespace

int gate_main(int argc, char** argv) {
  cxxopts::Options options = make_options();
  cxxopts::ParseResult r;
  std::vector<std::string> files;
  gate::GateOptions gopt;
  const bool ab_requested = [&] {
    for (int i = 1; i < argc; ++i) {
      if (std::string_view(argv[i]) == "--ab") return true;
    }
    return false;
  }();
  try {
    r = options.parse(argc, argv);
    if (r.count("help")) {
      std::fputs(options.help({"", "A/B"}).c_str(), stdout);
      return 0;
    }
    if (r.count("files")) files = r["files"].as<std::vector<std::string>>();
    if (files.size() != 2) {
      throw std::invalid_argument(ab_requested ? "--ab needs OLD_BINARY NEW_BINARY"
                                               : "needs BASELINE.json CURRENT.json (or --ab OLD_BINARY NEW_BINARY)");
    }
    gopt = gate_options(r, ab_requested);
    if (!ab_requested) {
      for (const char* ab_only : {"scenario", "no-pin", "no-remeasure", "results"}) {
        if (r.count(ab_only)) throw std::invalid_argument(fmt::format("--{} needs --ab", ab_only));
      }
      for (const char* ab_only : {"server-args", "old-args", "new-args"}) {
        if (!r[ab_only].as<std::string>().empty()) throw std::invalid_argument(fmt::format("--{} needs --ab", ab_only));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench gate: %s\n", e.what());
    return 2;
  }

  const auto started = std::chrono::steady_clock::now();
  gate::GateReport report;
  try {
    if (ab_requested) {
      gate::AbOptions ab;
      ab.old_bin = files[0];
      ab.new_bin = files[1];
      ab.scenario = r.count("scenario") ? r["scenario"].as<std::string>() : gate::default_ab_scenario();
      ab.repeat = parse_number<uint32_t>("repeat", r["repeat"].as<std::string>(), kMinAbRepeat, kMaxAbRepeat);
      ab.server_args = split_words(r["server-args"].as<std::string>());
      ab.old_args = split_words(r["old-args"].as<std::string>());
      ab.new_args = split_words(r["new-args"].as<std::string>());
      ab.pin = r.count("no-pin") == 0;
      ab.remeasure = r.count("no-remeasure") == 0;
      if (r.count("results")) ab.results_out = r["results"].as<std::string>();
      ab.gate = gopt;
      report = gate::run_ab(ab, stderr);
    } else {
      const gate::ResultsFile base = gate::load_results(files[0]);
      const gate::ResultsFile cur = gate::load_results(files[1]);
      report = gate::compare_files(base, cur, gopt);
    }
    report.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (r.count("markdown")) write_file(r["markdown"].as<std::string>(), gate::render_markdown(report));
    if (r.count("junit")) write_file(r["junit"].as<std::string>(), gate::render_junit(report));
  } catch (const std::exception& e) {
    // Input errors (GateInputError), bad --repeat, unusable scenarios: the gate could not decide.
    std::fprintf(stderr, "ringbench gate: %s\n", e.what());
    return 2;
  }
  if (r.count("quiet") == 0) std::fputs(gate::render_markdown(report).c_str(), stdout);
  std::fprintf(stdout, "%s\n", gate::summary_line(report).c_str());
  return report.exit_status();
}

}  // namespace ringbench
