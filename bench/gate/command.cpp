// `ringbench gate`: the CI performance gate. Compares two `ringbench run` results files, or runs two builds
// interleaved (--ab), and exits 0 (pass), 1 (regression or correctness failure) or 2 (usage/input error).
// Example: ringbench gate base.json current.json --tolerance 5 --markdown gate.md --junit gate.xml
#include <cxxopts.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
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

constexpr const char* kExamples =
    "\nExamples:\n"
    "  ringbench run --scenario hello --repeat 5 --out base && ringbench run --scenario hello --repeat 5 --out cur\n"
    "  ringbench gate base/results.json cur/results.json --tolerance 5 --markdown gate.md\n"
    "  ringbench gate --ab old/ringbench build/ringbench --repeat 9 --junit gate.xml\n"
    "\nExit status: 0 pass, 1 regression or correctness failure, 2 bad input or nothing could be decided\n"
    "(every comparison untested: fewer than 3 runs a side at alpha 0.05).\n";

cxxopts::Options make_options() {
  cxxopts::Options o("ringbench gate", "CI performance gate: fails only on a change that is both significant and "
                                       "larger than the tolerance, or on any request error in the current build.");
  o.custom_help("[options]");
  // clang-format off
  o.add_options()
    ("files", "BASELINE.json CURRENT.json, or OLD_BINARY NEW_BINARY with --ab", cxxopts::value<std::vector<std::string>>())
    ("metric", "metrics to compare (repeat or comma-separate): requests_per_s, efficiency, p99, cpu_us_per_req, "
               "peak_rss_kb (default: all; with --ab: cpu_us_per_req)", cxxopts::value<std::vector<std::string>>())
    ("tolerance", "smallest change in percent that may fail the gate (0..1000)", cxxopts::value<std::string>()->default_value(kDefaultTolerancePct))
    ("alpha", "significance level of the one-sided test for 'worse' (Mann-Whitney U; --ab: Wilcoxon signed-rank), 1e-9..0.5", cxxopts::value<std::string>()->default_value(kDefaultAlpha))
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

// A real number from `lo` to `hi`; NaN and infinities are refused here, whatever the shared parser lets through.
double finite_option(const cxxopts::ParseResult& r, const char* name, double lo, double hi) {
  const std::string text = r[name].as<std::string>();
  const double v = parse_number<double>(name, text);
  if (!std::isfinite(v) || v < lo || v > hi) {
    throw std::invalid_argument(fmt::format("--{} must be a number from {} to {}, not {}", name, lo, hi, text));
  }
  return v;
}

gate::GateOptions gate_options(const cxxopts::ParseResult& r, bool ab) {
  gate::GateOptions g;
  g.tolerance_pct = finite_option(r, "tolerance", 0.0, 1000.0);
  g.alpha = finite_option(r, "alpha", 1e-9, 0.5);
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

bool ab_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--ab") return true;
  }
  return false;
}

// Everything the command line says, checked before anything runs.
struct GateArgs {
  std::vector<std::string> files;
  gate::GateOptions gate;
  gate::AbOptions ab;  // with --ab only
  std::string markdown, junit;
  bool quiet = false;
};

void check_ab_only(const cxxopts::ParseResult& r) {
  for (const char* ab_only : {"scenario", "no-pin", "no-remeasure", "results"}) {
    if (r.count(ab_only)) throw std::invalid_argument(fmt::format("--{} needs --ab", ab_only));
  }
  for (const char* ab_only : {"server-args", "old-args", "new-args"}) {
    if (!r[ab_only].as<std::string>().empty()) throw std::invalid_argument(fmt::format("--{} needs --ab", ab_only));
  }
}

gate::AbOptions ab_options(const cxxopts::ParseResult& r, const GateArgs& a) {
  gate::AbOptions ab;
  ab.old_bin = a.files[0];
  ab.new_bin = a.files[1];
  ab.scenario = r.count("scenario") ? r["scenario"].as<std::string>() : gate::default_ab_scenario();
  ab.repeat = parse_number<uint32_t>("repeat", r["repeat"].as<std::string>(), kMinAbRepeat, kMaxAbRepeat);
  ab.server_args = split_words(r["server-args"].as<std::string>());
  ab.old_args = split_words(r["old-args"].as<std::string>());
  ab.new_args = split_words(r["new-args"].as<std::string>());
  ab.pin = r.count("no-pin") == 0;
  ab.remeasure = r.count("no-remeasure") == 0;
  if (r.count("results")) ab.results_out = r["results"].as<std::string>();
  ab.gate = a.gate;
  return ab;
}

GateArgs parse_args(const cxxopts::ParseResult& r, bool ab) {
  GateArgs a;
  if (r.count("files")) a.files = r["files"].as<std::vector<std::string>>();
  if (a.files.size() != 2) {
    throw std::invalid_argument(ab ? "--ab needs OLD_BINARY NEW_BINARY"
                                   : "needs BASELINE.json CURRENT.json (or --ab OLD_BINARY NEW_BINARY)");
  }
  a.gate = gate_options(r, ab);
  if (ab) a.ab = ab_options(r, a);
  else check_ab_only(r);
  if (r.count("markdown")) a.markdown = r["markdown"].as<std::string>();
  if (r.count("junit")) a.junit = r["junit"].as<std::string>();
  a.quiet = r.count("quiet") > 0;
  return a;
}

gate::GateReport decide(const GateArgs& a, bool ab) {
  if (ab) return gate::run_ab(a.ab, stderr);
  const gate::ResultsFile base = gate::load_results(a.files[0]);
  const gate::ResultsFile cur = gate::load_results(a.files[1]);
  return gate::compare_files(base, cur, a.gate);
}

}  // namespace

int gate_main(int argc, char** argv) {
  const bool ab = ab_requested(argc, argv);
  GateArgs args;
  try {
    cxxopts::Options options = make_options();
    const cxxopts::ParseResult r = options.parse(argc, argv);
    if (r.count("help")) {
      std::fputs((options.help({"", "A/B"}) + kExamples).c_str(), stdout);
      return 0;
    }
    args = parse_args(r, ab);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench gate: %s\n", e.what());
    return 2;
  }

  const auto started = std::chrono::steady_clock::now();
  gate::GateReport report;
  try {
    report = decide(args, ab);
    report.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!args.markdown.empty()) write_file(args.markdown, gate::render_markdown(report));
    if (!args.junit.empty()) write_file(args.junit, gate::render_junit(report));
  } catch (const std::exception& e) {
    // Input errors (GateInputError), unusable scenarios: the gate could not decide.
    std::fprintf(stderr, "ringbench gate: %s\n", e.what());
    return 2;
  }
  if (!args.quiet) std::fputs(gate::render_markdown(report).c_str(), stdout);
  std::fprintf(stdout, "%s\n", gate::summary_line(report).c_str());
  const int status = report.exit_status();
  if (status == 2) std::fprintf(stderr, "ringbench gate: %s\n", report.undecided_reason().c_str());
  return status;
}

}  // namespace ringbench
