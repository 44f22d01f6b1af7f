// The scenario runner, usable in-process: `ringbench run` (command.cpp) and the gate's A/B mode call it.
// One cell = one server variant under one load shape. run_cell_once() starts the server from any binary
// (so OLD and NEW builds can alternate), waits for readiness, warms up, loads it with run_load(), samples
// the server's process tree from /proc, stops it and returns the figures; it never throws for a server
// that fails — the failure is in RunResult::status/failure. JSON: "ringbench.results/1" (results_json.cpp).
#pragma once
#include <nlohmann/json.hpp>

#include "load/engine.hpp"
#include "run/noise.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ringbench::run {

inline constexpr const char* kResultsSchema = "ringbench.results/1";

// The seed's published figure (or any peer's) shown beside a cell.
struct Reference {
  std::string label;
  double requests_per_s = 0;
};

// What to run: a server variant and a load shape. Scenario files (bench/scenarios/*.json) are lists of these.
struct CellSpec {
  std::string scenario;
  // Built-in: "BACKEND[:key=value,key,...]" (uring, epoll, threads, blocking); `key=value` becomes
  // `--key value` and a bare `key` becomes `--key` on `ringbench serve BACKEND`.
  // External: the NAME given with --external NAME=CMD, and external_cmd holds CMD.
  std::string variant;
  std::string external_cmd;  // non-empty: run `/bin/sh -c "exec CMD"` with every {port} replaced
  std::string label;         // for tables; defaults to the variant
  uint32_t delay_ms = 250;   // built-ins get --delay-ms; the Little's-law bound uses it for every server
  // The load shape, handed to the client as it is (host, port and url are filled in per run). The scenario
  // fields map onto it: concurrency → connections, requests (-n), duration_s (-z), warmup_s, rate (open
  // loop: requests/s offered in total, whatever the server does; a fixed offered load keeps the server's
  // batching the same between builds, so CPU per request then tracks the cost of a request), ramp_s,
  // client_lag (built-in client only: p99 at arrival in the client's socket and the p99 time responses
  // waited there, as latency_s "arrival_p99" and "client_lag_p99"), path, client_threads → threads.
  load::LoadOptions load = default_load();
  std::optional<Reference> reference;

  bool external() const { return !external_cmd.empty(); }
  std::string backend() const;  // "uring" … or "external"
  // Stable across runs: scenario/variant/c=C/n=N (or z=Ds), plus /path=P when the path is not "/".
  std::string id() const;
  std::optional<double> bound_rps() const;  // concurrency / delay (or the open-loop rate); none at 0 ms closed

  static load::LoadOptions default_load() {
    load::LoadOptions o;
    o.connections = 10;
    return o;
  }
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<CellSpec> cells;
};

enum class ClientKind { builtin, wrk, hey };

struct RunnerOptions {
  std::string server_bin;           // empty: this process's own binary (/proc/self/exe)
  uint32_t repeat = 1;              // run_scenario(): each cell K times, interleaved (ABCABC…)
  bool pin = false;                 // server on CPU 0, client on CPU 1
  ClientKind client = ClientKind::builtin;
  std::chrono::milliseconds ready_timeout{15'000};  // start-up until readiness
  std::chrono::milliseconds stop_grace{10'000};     // SIGTERM → SIGKILL
  std::chrono::milliseconds sample_period{100};     // RSS/threads sampling during the load
  std::vector<std::string> extra_server_args;       // appended to every built-in `serve` command line
};

struct ServerFigures {
  double cpu_s = 0;                    // utime+stime of the process tree during the measured window
  std::optional<double> cpu_us_per_req;
  double peak_rss_kb = 0;              // sum of VmHWM over the tree (or sampled RSS peak, whichever is larger)
  double rss_per_conn_kb = 0;          // (peak − RSS at readiness) / concurrency
  double threads = 0;                  // most threads seen across the tree
  double processes = 0;                // most processes seen in the tree
  // During the measured window, summed over live tasks; unknown when tasks exited inside the window
  // (thread per connection) and took their counts along.
  std::optional<double> ctx_voluntary;
  std::optional<double> ctx_involuntary;
  std::optional<double> ctx_per_req;
};

struct ClientFigures {
  std::optional<double> cpu_util_max;  // busiest client thread, 0..1 of a core; unknown for wrk and hey
  bool client_bound = false;
  std::optional<double> connects;      // sockets the client opened (reconnects show here); unknown for wrk, hey
};

// The numeric figures of one run; also used for the per-cell median/min/max.
struct Figures {
  double requests_per_s = 0;
  std::optional<double> efficiency;          // requests_per_s / bound; none at 0 ms
  std::map<std::string, double> latency_s;   // p50, p90, p99, p99.9, max
  double completed = 0;
  std::map<std::string, double> errors;      // connect, timeout, read, parse, status
  double error_total = 0;
  double non_2xx = 0;
  ServerFigures server;
  ClientFigures client;
};

struct RunResult {
  bool ok = false;
  std::string failure;      // why it failed: start-up, crash, no responses, unclean exit …
  Figures figures;          // as far as measured (zero when the server never started)
  int exit_status = -1;     // server's exit status after SIGTERM (128+N for signal N; -1 unknown)
  double elapsed_s = 0;     // measured window
  NoiseRecord noise;        // what else the machine did meanwhile
};

struct CellResult {
  CellSpec spec;
  std::vector<RunResult> runs;  // in the order run
  bool ok() const;              // at least one run ok
  std::string failure() const;  // first failure reason when no run was ok
  // Over ok runs; empty when none.
  std::optional<Figures> median, min, max;
};

struct ScenarioResult {
  Scenario scenario;
  uint32_t repeat = 1;
  std::vector<CellResult> cells;  // the cells with at least one finished run
  bool interrupted = false;       // SIGINT/SIGTERM ended it early
};

// Called before and after each run: (index of the run, total runs, cell, result or nullptr before).
using ProgressFn = std::function<void(std::size_t, std::size_t, const CellSpec&, const RunResult*)>;

// Scenario files: NAME looks in $RINGBENCH_SCENARIO_DIR, then <source>/bench/scenarios; a path ending in
// .json is read as is. Throws std::invalid_argument naming the problem.
Scenario load_scenario(const std::string& name_or_path);
Scenario parse_scenario(const nlohmann::json& j);  // same format, already parsed
std::vector<std::string> scenario_names();         // available in the default directory

// Runs one cell once. Never throws for server or load failures; throws std::invalid_argument for a bad
// spec (unknown backend, malformed variant, external command without {port}).
RunResult run_cell_once(const CellSpec& cell, const RunnerOptions& opt);

// Median/min/max over the ok runs of `runs`.
CellResult summarize(const CellSpec& cell, std::vector<RunResult> runs);

// Runs every cell opt.repeat times, interleaved, and summarizes. `on_run`, when given, gets the results so
// far after each run. SIGINT/SIGTERM (core/stop_signal.hpp) ends it after the run in progress, which is
// dropped: the result is marked interrupted.
ScenarioResult run_scenario(const Scenario& s, const RunnerOptions& opt, const ProgressFn& progress = {},
                            const std::function<void(const ScenarioResult&)>& on_run = {});

// Environment metadata (kernel, CPU, cores, liburing, compiler, build type, sanitizers, mimalloc, git
// revision, date, command line, hostname, server_bin).
nlohmann::json environment_json(const std::string& command_line, const std::string& server_bin);

nlohmann::json to_json(const Figures& f);
nlohmann::json to_json(const RunResult& r);
nlohmann::json to_json(const CellResult& c);
nlohmann::json to_json(const ScenarioResult& s);
// The whole results.json document.
nlohmann::json results_json(const nlohmann::json& environment, const std::vector<ScenarioResult>& scenarios);

// The binary a server variant runs from when RunnerOptions::server_bin is empty.
std::string self_binary();

}  // namespace ringbench::run
