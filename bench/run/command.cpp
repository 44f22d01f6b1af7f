// `ringbench run`: runs scenarios (bench/scenarios/*.json) across server backends and reports.
// Run: build/ringbench run                       (the seed scenario, table on stdout)
//      build/ringbench run --scenario scale --repeat 3 --pin --out results/
#include <sys/resource.h>
#include <unistd.h>

#include <cxxopts.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <variant>

#include "core/cli_numbers.hpp"
#include "core/stop_signal.hpp"
#include "run/command.hpp"
#include "run/external_client.hpp"
#include "run/report.hpp"
#include "run/runner.hpp"
#include "run/server_process.hpp"
#include "run/variant.hpp"

namespace ringbench {
namespace {

using run::CellSpec;
using run::Scenario;

constexpr uint32_t kMaxRepeat = 100;
constexpr std::size_t kProgressWidth = 24;

cxxopts::Options make_options() {
  cxxopts::Options o("ringbench run",
                     "Run a benchmark scenario across server backends and report.\n"
                     "Example: ringbench run --scenario scale --backends uring,epoll --repeat 3 --pin --out results/\n"
                     "Exit status: 0 all cells ok; 1 a cell failed (with --allow-failures: every cell); "
                     "2 bad command line or --out; 130 interrupted (finished runs written).");
  // clang-format off
  o.add_options()
    ("scenario", "scenario NAME (bench/scenarios/NAME.json) or FILE.json; a comma list runs several", cxxopts::value<std::string>()->default_value("seed"))
    ("backends", "only these servers: BACKEND or VARIANT (e.g. uring,epoll:threads=2); a variant the scenario lacks is added at each of its loads", cxxopts::value<std::string>())
    ("external", "NAME=CMD: also run CMD (with {port}) at every load of the scenario (its concurrency, rate, path, duration); repeatable", cxxopts::value<std::vector<std::string>>())
    ("repeat", "run each cell K times, interleaved; report medians with min-max", cxxopts::value<std::string>()->default_value("1"))
    ("out", "write results.json, results.csv, report.md and charts into DIR (created; rewritten as each cell completes)", cxxopts::value<std::string>())
    ("pin", "server on CPU 0, client on CPU 1")
    ("client", "load client: builtin | wrk | hey (cross-checks, when installed)", cxxopts::value<std::string>()->default_value("builtin"))
    ("server-bin", "run built-in servers from this ringbench binary (default: this one)", cxxopts::value<std::string>())
    ("ready-timeout-ms", "how long a server may take to become ready", cxxopts::value<std::string>()->default_value("15000"))
    ("allow-failures", "exit 0 when some cells failed, as long as one succeeded (default: any failed cell exits 1)")
    ("list", "list the available scenarios and exit")
    ("h,help", "show this help");
  // clang-format on
  return o;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(sep, start);
    std::string item = s.substr(start, at == std::string::npos ? std::string::npos : at - start);
    if (!item.empty()) out.push_back(item);
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// --backends: "uring,threads:workers=4,pool=2" is two servers; a comma starts a new one only when what
// follows is not a `key=value` option of the variant before it (options hold '=', backend names do not).
std::vector<std::string> split_backends(const std::string& s) {
  std::vector<std::string> out;
  for (std::string& piece : split(s, ',')) {
    const bool option_of_previous = !out.empty() && out.back().find(':') != std::string::npos &&
                                    piece.find(':') == std::string::npos && piece.find('=') != std::string::npos;
    if (option_of_previous) {
      out.back() += "," + piece;
    } else {
      out.push_back(std::move(piece));
    }
  }
  return out;
}


// The distinct loads of a scenario (everything about a cell except the server: rate, path and duration
// too), in first-seen order.
std::vector<CellSpec> loads_of(const Scenario& s) {
  std::vector<CellSpec> out;
  std::set<std::string> seen;
  for (const CellSpec& c : s.cells) {
    CellSpec shape = c;
    shape.variant.clear();
    shape.label.clear();
    shape.reference.reset();
    const load::LoadOptions& l = c.load;
    const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", c.delay_ms, l.connections, l.requests, l.duration_s,
                                        l.warmup_s, l.path, l.threads, l.rate, l.ramp_s, l.client_lag);
    if (seen.insert(key).second) out.push_back(shape);
  }
  return out;
}

// --backends: keep the cells whose variant or backend is listed; a listed variant no cell has runs at
// every load of the scenario. --external: each command runs at every load.
void select_servers(Scenario& s, const std::vector<std::string>& backends,
                    const std::vector<std::pair<std::string, std::string>>& externals) {
  const std::vector<CellSpec> loads = loads_of(s);
  if (!backends.empty()) {
    std::vector<CellSpec> kept;
    for (const CellSpec& c : s.cells) {
      for (const auto& b : backends) {
        if (c.variant == b || (b.find(':') == std::string::npos && c.backend() == b)) {
          kept.push_back(c);
          break;
        }
      }
    }
    for (const auto& b : backends) {
      const bool present = std::any_of(s.cells.begin(), s.cells.end(), [&](const CellSpec& c) {
        return c.variant == b || (b.find(':') == std::string::npos && c.backend() == b);
      });
      if (present) continue;
      for (CellSpec c : loads) {
        c.variant = c.label = b;
        kept.push_back(c);
      }
    }
    s.cells = std::move(kept);
  }
  for (const auto& [name, cmd] : externals) {
    for (CellSpec c : loads) {
      c.variant = c.label = name;
      c.external_cmd = cmd;
      s.cells.push_back(c);
    }
  }
}

std::pair<std::string, std::string> parse_external(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--external wants NAME=CMD, not '" + text + "'");
  const std::string name = text.substr(0, eq), cmd = text.substr(eq + 1);
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      throw std::invalid_argument("--external NAME may hold letters, digits, '-', '_' and '.', not '" + name + "'");
    }
  }
  if (run::is_builtin_backend(name)) throw std::invalid_argument("--external NAME '" + name + "' is a built-in backend");
  run::substitute_port(cmd, 1);  // throws when {port} is missing
  return {name, cmd};
}

// A one-line progress bar on stderr, redrawn in place; only used when stderr is a terminal.
void draw_progress(const std::string& scenario, std::size_t index, std::size_t total, const CellSpec& cell,
                   const run::RunResult* done) {
  const std::size_t finished = index + (done ? 1 : 0);
  const std::size_t filled = total ? finished * kProgressWidth / total : 0;
  std::string bar(filled, '#');
  bar.resize(kProgressWidth, '-');
  std::string what = fmt::format("{}: {} c={} {}", scenario, cell.label, cell.load.connections,
                                 cell.load.requests ? fmt::format("n={}", cell.load.requests) : fmt::format("z={:g}s", cell.load.duration_s));
  if (done && !done->ok) what += " FAILED";
  if (what.size() > 60) what.resize(60);
  fmt::print(stderr, "\r[{}] {}/{} {:<60}", bar, finished, total, what);
  if (finished == total && done) fmt::print(stderr, "\r{:<{}}\r", "", kProgressWidth + 80);
  std::fflush(stderr);
}

std::string joined_command_line(int argc, char** argv) {
  std::string out = "ringbench";
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    out += " ";
    out += a.find_first_of(" \t'\"{}$") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

// Through a temporary file and a rename, so a reader (or an interrupt) never sees half a file.
void write_file(const std::filesystem::path& p, const std::string& text) {
  const std::filesystem::path tmp = p.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
    if (!f.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  if (ec) throw std::runtime_error("cannot write " + p.string() + ": " + ec.message());
}

// --out DIR: created and proven writable before the first cell, so no finished work waits on it.
std::string checked_out_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::invalid_argument("--out " + dir + ": " + ec.message());
  const std::filesystem::path probe = std::filesystem::path(dir) / ".ringbench-write-check";
  if (!std::ofstream(probe).good()) throw std::invalid_argument("--out " + dir + ": not writable");
  std::filesystem::remove(probe, ec);
  return dir;
}

// What the command line asks for, checked before anything runs.
struct Plan {
  std::vector<Scenario> scenarios;
  run::RunnerOptions runner;
  std::string out_dir;
  bool allow_failures = false;
};

run::ClientKind parse_client(const std::string& client) {
  if (client == "builtin") return run::ClientKind::builtin;
  if (client != "wrk" && client != "hey") throw std::invalid_argument("--client must be builtin, wrk or hey, not '" + client + "'");
  if (!run::tool_installed(client)) throw std::invalid_argument("--client " + client + ": not installed");
  return client == "wrk" ? run::ClientKind::wrk : run::ClientKind::hey;
}

run::RunnerOptions runner_options(const cxxopts::ParseResult& r) {
  run::RunnerOptions ropt;
  ropt.repeat = parse_number<uint32_t>("repeat", r["repeat"].as<std::string>(), 1, kMaxRepeat);
  ropt.pin = r.count("pin") > 0;
  ropt.ready_timeout = std::chrono::milliseconds(
      parse_number<uint32_t>("ready-timeout-ms", r["ready-timeout-ms"].as<std::string>(), 1, 600'000));
  ropt.client = parse_client(r["client"].as<std::string>());
  if (r.count("server-bin")) {
    ropt.server_bin = r["server-bin"].as<std::string>();
    if (::access(ropt.server_bin.c_str(), X_OK) != 0) {
      throw std::invalid_argument("--server-bin " + ropt.server_bin + ": not an executable file");
    }
  }
  if (ropt.pin && ::sysconf(_SC_NPROCESSORS_ONLN) < 2) throw std::invalid_argument("--pin needs at least 2 CPUs");
  return ropt;
}

// The scenarios with --backends and --external applied.
std::vector<Scenario> selected_scenarios(const cxxopts::ParseResult& r) {
  std::vector<std::string> backends;
  if (r.count("backends")) {
    backends = split_backends(r["backends"].as<std::string>());
    if (backends.empty()) throw std::invalid_argument("--backends is empty");
    for (const auto& b : backends) run::parse_variant(b);  // throws for an unknown backend
  }
  std::vector<std::pair<std::string, std::string>> externals;
  if (r.count("external")) {
    for (const auto& e : r["external"].as<std::vector<std::string>>()) externals.push_back(parse_external(e));
  }
  std::vector<Scenario> scenarios;
  for (const auto& name : split(r["scenario"].as<std::string>(), ',')) {
    Scenario s = run::load_scenario(name);
    select_servers(s, backends, externals);
    if (s.cells.empty()) throw std::invalid_argument("scenario " + s.name + ": no cells left after --backends");
    scenarios.push_back(std::move(s));
  }
  if (scenarios.empty()) throw std::invalid_argument("--scenario is empty");
  return scenarios;
}

void list_scenarios() {
  for (const auto& n : run::scenario_names()) {
    const Scenario s = run::load_scenario(n);
    fmt::print("{:<10} {} cells  {}\n", n, s.cells.size(), s.description);
  }
}

// The plan, or the exit code when there is nothing to run (help, --list) or the command line is wrong.
std::variant<Plan, int> parse_plan(int argc, char** argv) {
  try {
    cxxopts::Options options = make_options();
    const cxxopts::ParseResult r = options.parse(argc, argv);
    if (!r.unmatched().empty()) throw std::invalid_argument("unexpected argument '" + r.unmatched().front() + "'");
    if (r.count("help")) {
      std::fputs(options.help().c_str(), stdout);
      return 0;
    }
    if (r.count("list")) {
      list_scenarios();
      return 0;
    }
    Plan plan;
    plan.runner = runner_options(r);
    plan.allow_failures = r.count("allow-failures") > 0;
    plan.scenarios = selected_scenarios(r);
    if (r.count("out")) plan.out_dir = checked_out_dir(r["out"].as<std::string>());
    return plan;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench run: %s\n", e.what());
    return 2;
  }
}

// results.json, results.csv and report.md in `dir`, and the charts when `charts` is set; throws naming what
// could not be written.
void write_outputs(const std::string& dir, const nlohmann::json& env, const std::vector<run::ScenarioResult>& results,
                   bool charts) {
  const std::filesystem::path d(dir);
  write_file(d / "results.json", run::results_json(env, results).dump(2) + "\n");
  write_file(d / "results.csv", run::results_csv(results));
  const run::ChartsOutcome drawn = charts ? run::write_charts(dir, results) : run::ChartsOutcome{};
  write_file(d / "report.md", run::report_markdown(env, results, drawn.files, drawn.note));
  if (!charts) return;
  if (!drawn.note.empty()) fmt::print(stderr, "ringbench run: {}\n", drawn.note);
  fmt::print("\nwrote {}/results.json, results.csv, report.md{}\n", dir,
             drawn.files.empty() ? "" : fmt::format(" and {} chart files", drawn.files.size()));
}

// The one line and the exit status for the cells that failed: 1 when any did (or, with --allow-failures,
// when all did), 130 after SIGINT/SIGTERM.
int verdict(const std::vector<run::ScenarioResult>& results, bool allow_failures) {
  std::size_t cells = 0, failed = 0;
  std::string first_reason;
  for (const auto& s : results) {
    for (const auto& c : s.cells) {
      ++cells;
      if (c.ok()) continue;
      if (++failed == 1) first_reason = c.spec.label + ": " + c.failure();
    }
  }
  if (stop_requested()) {
    fmt::print(stderr, "ringbench run: interrupted after {} finished cells ({} failed)\n", cells, failed);
    return 130;
  }
  if (failed == 0) return 0;
  fmt::print(stderr, "ringbench run: {} of {} cells failed (first: {})\n", failed, cells, first_reason);
  return (failed == cells || !allow_failures) ? 1 : 0;
}

run::ProgressFn progress_bar(const std::string& scenario) {
  if (::isatty(STDERR_FILENO) != 1) return {};
  return [scenario](std::size_t i, std::size_t n, const CellSpec& c, const run::RunResult* r) {
    draw_progress(scenario, i, n, c, r);
  };
}

}  // namespace

int run_main(int argc, char** argv) {
  auto parsed = parse_plan(argc, argv);
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  const Plan& plan = std::get<Plan>(parsed);
  run::kill_servers_on_signal();
  const std::string server_bin = plan.runner.server_bin.empty() ? run::self_binary() : plan.runner.server_bin;
  const nlohmann::json env = run::environment_json(joined_command_line(argc, argv), server_bin);
  std::vector<run::ScenarioResult> results;
  try {
    for (const Scenario& s : plan.scenarios) {
      if (stop_requested()) break;
      results.emplace_back();
      // Each finished run is on disk at once; the charts wait for the scenario's end.
      auto on_run = [&](const run::ScenarioResult& so_far) {
        results.back() = so_far;
        if (!plan.out_dir.empty()) write_outputs(plan.out_dir, env, results, false);
      };
      results.back() = run::run_scenario(s, plan.runner, progress_bar(s.name), on_run);
      run::print_table(stdout, results.back());
    }
    if (!plan.out_dir.empty()) write_outputs(plan.out_dir, env, results, true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench run: %s\n", e.what());
    return 1;
  }
  return verdict(results, plan.allow_failures);
}

}  // namespace ringbench
