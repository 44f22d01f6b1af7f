// run_cell_once() and run_scenario(): start a server, load it, sample its process tree, stop it.
#include "run/runner.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "core/net.hpp"
#include "core/stop_signal.hpp"
#include "load/engine.hpp"
#include "run/external_client.hpp"
#include "run/proc_tree.hpp"
#include "run/server_process.hpp"
#include "run/variant.hpp"

namespace ringbench::run {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kServerCpu = 0;
constexpr int kClientCpu = 1;
constexpr uint64_t kSpareFds = 64;  // the client's own descriptors beyond one per connection
constexpr std::chrono::milliseconds kSettlePoll{50};
constexpr std::chrono::milliseconds kSettleMax{2000};

// Samples the server tree while the load runs: RSS/threads peaks every period, and one full sample
// (per-task CPU and context switches) when the warm-up ends.
class TreeSampler {
 public:
  TreeSampler(pid_t pid, std::chrono::milliseconds period, double warmup_s)
      : pid_(pid), period_(period), start_(Clock::now()), edge_(start_ + to_duration(warmup_s)) {
    if (warmup_s <= 0) {
      window_start_ = sample_tree(pid_, true);
      have_start_ = true;
    }
    track(have_start_ ? window_start_ : sample_tree(pid_, false));
    thread_ = std::thread([this] { loop(); });
  }
  ~TreeSampler() { finish(); }
  TreeSampler(const TreeSampler&) = delete;
  TreeSampler& operator=(const TreeSampler&) = delete;

  // Stops sampling; the start-of-window sample (taken now if the warm-up never ended) and the peaks.
  void finish() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (!have_start_) window_start_ = sample_tree(pid_, true);
    have_start_ = true;
  }
  const TreeSample& window_start() const { return window_start_; }
  double peak_rss_kb() const { return peak_rss_kb_; }
  uint64_t peak_threads() const { return peak_threads_; }
  uint64_t peak_processes() const { return peak_processes_; }
  void track(const TreeSample& s) {
    peak_rss_kb_ = std::max({peak_rss_kb_, s.rss_kb, s.hwm_kb});
    peak_threads_ = std::max(peak_threads_, s.threads);
    peak_processes_ = std::max(peak_processes_, s.processes);
  }

 private:
  static Clock::duration to_duration(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      const auto next = have_start_ ? Clock::now() + period_ : std::min(Clock::now() + period_, edge_);
      if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
      if (!have_start_ && Clock::now() >= edge_) {
        window_start_ = sample_tree(pid_, true);
        have_start_ = true;
        track(window_start_);
      } else {
        track(sample_tree(pid_, false));
      }
    }
  }
  pid_t pid_;
  std::chrono::milliseconds period_;
  Clock::time_point start_, edge_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  TreeSample window_start_;
  bool have_start_ = false;
  double peak_rss_kb_ = 0;
  uint64_t peak_threads_ = 0, peak_processes_ = 0;
  std::thread thread_;
};

// Pins the calling thread (and the client threads it starts) to one CPU for its lifetime.
class ScopedAffinity {
 public:
  explicit ScopedAffinity(int cpu) {
    if (cpu < 0 || ::sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(static_cast<unsigned>(cpu), &one);
    active_ = ::sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~ScopedAffinity() {
    if (active_) ::sched_setaffinity(0, sizeof saved_, &saved_);
  }
  ScopedAffinity(const ScopedAffinity&) = delete;
  ScopedAffinity& operator=(const ScopedAffinity&) = delete;

 private:
  cpu_set_t saved_{};
  bool active_ = false;
};

// Preforked workers (and an external app's workers) start after the socket is bound: wait until the tree's
// process and thread counts hold still, so the baseline RSS and the load see the whole server.
TreeSample settled_tree(pid_t pid) {
  TreeSample prev = sample_tree(pid, false);
  const auto deadline = Clock::now() + kSettleMax;
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(kSettlePoll);
    const TreeSample cur = sample_tree(pid, false);
    if (cur.processes == prev.processes && cur.threads == prev.threads) return cur;
    prev = cur;
  }
  return prev;
}

LaunchSpec launch_spec(const CellSpec& cell, const RunnerOptions& opt) {
  LaunchSpec spec;
  spec.cpu = opt.pin ? kServerCpu : -1;
  if (cell.external()) {
    spec.readiness = Readiness::port_accepting;
    spec.port = pick_free_port();
    // exec: the command itself, not a shell, receives SIGTERM and is measured as the tree's root.
    spec.argv = {"/bin/sh", "-c", "exec " + substitute_port(cell.external_cmd, spec.port)};
    return spec;
  }
  const ParsedVariant v = parse_variant(cell.variant);
  spec.argv = {opt.server_bin.empty() ? self_binary() : opt.server_bin, "serve", v.backend, "--port", "0",
               "--delay-ms", std::to_string(cell.delay_ms)};
  spec.argv.insert(spec.argv.end(), v.args.begin(), v.args.end());
  spec.argv.insert(spec.argv.end(), opt.extra_server_args.begin(), opt.extra_server_args.end());
  return spec;
}

load::LoadOptions load_options(const CellSpec& cell, uint16_t port) {
  load::LoadOptions lo = cell.load;
  lo.host = "127.0.0.1";
  lo.port = port;
  lo.url = fmt::format("http://127.0.0.1:{}{}", port, cell.load.path);
  return lo;
}

// The load itself: the built-in engine in-process (warm-up on the same connections), or wrk/hey with a
// separate warm-up run first.
load::LoadResult run_client(const load::LoadOptions& lo, const RunnerOptions& opt, const std::function<void()>& at_edge) {
  const int cpu = opt.pin ? kClientCpu : -1;
  if (opt.client == ClientKind::builtin) {
    ScopedAffinity pin(cpu);
    return load::run_load(lo);
  }
  if (lo.rate > 0 || lo.ramp_s > 0 || lo.client_lag) {
    throw std::invalid_argument(
        "cells with rate, ramp_s or client_lag need the built-in client (wrk and hey have none of them)");
  }
  auto external = [&](load::LoadOptions o) {
    o.warmup_s = 0;
    return opt.client == ClientKind::wrk ? run_wrk(o, cpu) : run_hey(o, cpu);
  };
  if (lo.warmup_s > 0) {
    load::LoadOptions warm = lo;
    warm.requests = 0;
    warm.duration_s = lo.warmup_s;
    external(warm);
  }
  at_edge();
  return external(lo);
}

// `builtin`: the in-process client, whose own CPU and connects are known; wrk and hey report neither.
Figures figures_from(const load::LoadResult& r, const CellSpec& cell, bool builtin) {
  Figures f;
  f.requests_per_s = r.requests_per_s;
  if (auto bound = cell.bound_rps()) f.efficiency = r.requests_per_s / *bound;
  for (const char* p : {"p50", "p90", "p99", "p99.9"}) {
    const auto it = r.percentiles_s.find(p);
    f.latency_s[p] = it == r.percentiles_s.end() ? 0.0 : it->second;
  }
  f.latency_s["max"] = r.slowest_s;
  if (r.arrival_latency && r.client_lag) {
    f.latency_s["arrival_p99"] = r.arrival_latency->percentiles_s.at("p99");
    f.latency_s["client_lag_p99"] = r.client_lag->percentiles_s.at("p99");
  }
  f.completed = static_cast<double>(r.completed);
  for (const char* e : {"connect", "timeout", "read", "parse", "status"}) f.errors[e] = 0;
  for (const auto& [cls, n] : r.errors) {
    f.errors[cls] = static_cast<double>(n);
    f.error_total += static_cast<double>(n);
  }
  for (const auto& [status, n] : r.status_counts) {
    if (status < 200 || status > 299) f.non_2xx += static_cast<double>(n);
  }
  if (builtin && !r.thread_cpu_util.empty()) {
    f.client.cpu_util_max = *std::max_element(r.thread_cpu_util.begin(), r.thread_cpu_util.end());
  }
  f.client.client_bound = r.client_bound;
  if (builtin) f.client.connects = static_cast<double>(r.connects);
  return f;
}

std::string error_summary(const load::LoadResult& r) {
  std::string out;
  for (const auto& [cls, n] : r.errors) {
    if (n == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", cls, n);
  }
  for (const auto& [status, n] : r.status_counts) {
    if (status >= 200 && status <= 299) continue;
    out += fmt::format("{}HTTP {} ×{}", out.empty() ? "" : ", ", status, n);
  }
  return out.empty() ? "none recorded" : out;
}

std::string nofile_problem(const CellSpec& cell) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
  const uint64_t need = cell.load.connections + kSpareFds;
  if (lim.rlim_max != RLIM_INFINITY && need > lim.rlim_max) {
    return fmt::format("needs about {} open files per process, the hard RLIMIT_NOFILE is {} "
                       "(raise it: ulimit -Hn / limits.conf / systemd LimitNOFILE)",
                       need, static_cast<uint64_t>(lim.rlim_max));
  }
  return {};
}

// What one measured window saw: the client's result and the server tree's figures over the window.
struct Window {
  load::LoadResult load;
  std::string load_failure;
  // cpu_s and context switches. Threads that exit before the window's last sample (thread per connection:
  // the client closing its connections ends them) take their context-switch counts along: then unknown.
  ServerFigures server;
  NoiseRecord noise;
  double peak_rss_kb = 0;
  uint64_t peak_threads = 0, peak_processes = 0;
};

// Loads the server while sampling its tree. Built-in client: the sampler takes the window's first sample
// when the warm-up ends. wrk/hey: the window starts after their separate warm-up run.
Window measure(ServerProcess& server, const CellSpec& cell, const RunnerOptions& opt) {
  Window w;
  const bool inproc = opt.client == ClientKind::builtin;
  const NoiseMark noise_start = noise_mark();
  const double server_ticks_start = sample_tree(server.pid(), false).cpu_s_ticks;
  const auto started = Clock::now();
  TreeSampler sampler(server.pid(), opt.sample_period, inproc ? cell.load.warmup_s : 3600.0 * 24);
  TreeSample edge;
  auto at_edge = [&] { edge = sample_tree(server.pid(), true); };
  try {
    w.load = run_client(load_options(cell, server.port()), opt, at_edge);
  } catch (const std::exception& e) {
    w.load_failure = std::string("load failed: ") + e.what();
  }
  const NoiseMark noise_end = noise_mark();
  const double wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  const TreeSample window_end = sample_tree(server.pid(), true);
  w.noise = noise_between(noise_start, noise_end, window_end.cpu_s_ticks - server_ticks_start, wall_s);
  sampler.finish();
  sampler.track(window_end);
  const TreeSample& start = inproc ? sampler.window_start() : edge;
  w.server.cpu_s = cpu_between(start, window_end);
  const TaskCounters d = tasks_between(start, window_end);
  if (d.lost == 0) {
    w.server.ctx_voluntary = static_cast<double>(d.ctx_voluntary);
    w.server.ctx_involuntary = static_cast<double>(d.ctx_involuntary);
  }
  w.peak_rss_kb = sampler.peak_rss_kb();
  w.peak_threads = sampler.peak_threads();
  w.peak_processes = sampler.peak_processes();
  return w;
}

// The client's figures beside the server tree's, per request where a request count exists.
Figures window_figures(const Window& w, const CellSpec& cell, const TreeSample& at_ready, bool builtin) {
  Figures f = figures_from(w.load, cell, builtin);
  f.server = w.server;
  ServerFigures& s = f.server;
  s.peak_rss_kb = w.peak_rss_kb;
  s.rss_per_conn_kb = std::max(0.0, w.peak_rss_kb - at_ready.rss_kb) / cell.load.connections;
  s.threads = static_cast<double>(w.peak_threads);
  s.processes = static_cast<double>(w.peak_processes);
  if (w.load.completed > 0) {
    const auto completed = static_cast<double>(w.load.completed);
    s.cpu_us_per_req = s.cpu_s * 1e6 / completed;
    if (s.ctx_voluntary && s.ctx_involuntary) s.ctx_per_req = (*s.ctx_voluntary + *s.ctx_involuntary) / completed;
  }
  return f;
}

RunResult run_guarded(const CellSpec& cell, const RunnerOptions& opt) {
  try {
    return run_cell_once(cell, opt);
  } catch (const std::invalid_argument& e) {
    RunResult r;
    r.failure = e.what();
    return r;
  } catch (const std::system_error& e) {
    RunResult r;
    r.failure = e.what();
    return r;
  }
}

// The cells that have runs so far, summarized in the scenario's order.
ScenarioResult collect(const Scenario& s, uint32_t repeat, const std::vector<std::vector<RunResult>>& runs,
                       bool interrupted) {
  ScenarioResult out;
  out.scenario = s;
  out.repeat = repeat;
  out.interrupted = interrupted;
  for (std::size_t i = 0; i < s.cells.size(); ++i) {
    if (!runs[i].empty()) out.cells.push_back(summarize(s.cells[i], runs[i]));
  }
  return out;
}

}  // namespace

std::string self_binary() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(buf, static_cast<std::size_t>(n));
}

RunResult run_cell_once(const CellSpec& cell, const RunnerOptions& opt) {
  RunResult res;
  const LaunchSpec spec = launch_spec(cell, opt);  // throws for a bad spec: the caller's mistake
  raise_nofile_limit();
  if (std::string p = nofile_problem(cell); !p.empty()) {
    res.failure = p;
    return res;
  }
  ServerProcess server;
  if (!server.start(spec, opt.ready_timeout, res.failure)) return res;
  const TreeSample at_ready = settled_tree(server.pid());
  Window w = measure(server, cell, opt);

  // A server that died during the load is a crash, whatever the client saw.
  if (auto code = server.exited()) {
    res.exit_status = *code;
    res.failure = "crashed during the load (" + describe_status(*code) + ")";
    if (std::string tail = server.log_tail(); !tail.empty()) res.failure += ": " + tail;
    return res;
  }
  std::string stop_note;
  res.exit_status = server.stop(opt.stop_grace, stop_note);
  if (!w.load_failure.empty()) {
    res.failure = w.load_failure;
    return res;
  }
  res.figures = window_figures(w, cell, at_ready, opt.client == ClientKind::builtin);
  res.noise = w.noise;
  res.elapsed_s = w.load.elapsed_s;
  if (w.load.ok == 0) {
    res.failure = "no successful responses (errors: " + error_summary(w.load) + ")";
  } else if (res.exit_status != 0 || !stop_note.empty()) {
    res.failure = "unclean exit after SIGTERM (" + describe_status(res.exit_status) + ")";
    if (!stop_note.empty()) res.failure += ": " + stop_note;
    if (std::string tail = server.log_tail(); !tail.empty() && res.exit_status != 0) res.failure += ": " + tail;
  } else {
    res.ok = true;
  }
  return res;
}

ScenarioResult run_scenario(const Scenario& s, const RunnerOptions& opt, const ProgressFn& progress,
                            const std::function<void(const ScenarioResult&)>& on_run) {
  const uint32_t repeat = std::max<uint32_t>(1, opt.repeat);
  std::vector<std::vector<RunResult>> runs(s.cells.size());
  const std::size_t total = s.cells.size() * repeat;
  std::size_t index = 0;
  bool interrupted = false;
  for (uint32_t rep = 0; rep < repeat && !interrupted; ++rep) {
    for (std::size_t i = 0; i < s.cells.size(); ++i, ++index) {
      if (progress) progress(index, total, s.cells[i], nullptr);
      RunResult r = run_guarded(s.cells[i], opt);
      // A run cut short by SIGINT/SIGTERM measured nothing: it is left out, and so is everything after it.
      if (stop_requested()) {
        interrupted = true;
        break;
      }
      if (progress) progress(index, total, s.cells[i], &r);
      runs[i].push_back(std::move(r));
      if (on_run) on_run(collect(s, repeat, runs, false));
    }
  }
  return collect(s, repeat, runs, interrupted);
}

}  // namespace ringbench::run
