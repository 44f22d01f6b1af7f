// run_load(): validates the options, resolves and probes the target, splits connections, requests and rate
// over the client threads (worker.cpp, or worker_uring.cpp with --engine uring), shows live
// progress, and merges the per-thread results.
#include "load/engine.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/stop_signal.hpp"
#include "load/conn.hpp"
#include "load/histogram.hpp"
#include "load/url.hpp"
#include "load/worker.hpp"

namespace ringbench::load {
namespace {

constexpr double kClientBoundUtil = 0.90;          // a thread this busy may be what limits the numbers
// Responses that waited this long (p99) in the client's sockets make the client part of the latency.
constexpr double kClientLagWarnS = 0.001;
constexpr uint32_t kSpareDescriptors = 64;          // stdio, epoll, the JSON file, ...
constexpr double kPreflightTimeoutS = 5.0;
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kProgressInterval = std::chrono::seconds(1);

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}

bool is_token(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr;
  });
}

bool has_header(const LoadOptions& opt, const char* name) {
  const std::size_t n = std::strlen(name);
  return std::any_of(opt.headers.begin(), opt.headers.end(),
                     [&](const std::string& h) { return h.size() > n && h[n] == ':' && strncasecmp(h.c_str(), name, n) == 0; });
}

void validate(LoadOptions& opt) {
  require(opt.connections >= 1, "-c must be at least 1");
  require(opt.requests > 0 || opt.duration_s > 0, "give -n REQUESTS or -z DURATION");
  require(opt.duration_s > 0 || opt.requests >= opt.connections,
          fmt::format("-n ({}) must be at least -c ({}): every connection needs a request", opt.requests, opt.connections));
  require(opt.threads >= 1, "--threads must be at least 1");
  require(opt.pipeline >= 1, "--pipeline must be at least 1");
  require(opt.rate >= 0 && opt.timeout_s >= 0 && opt.warmup_s >= 0 && opt.ramp_s >= 0 && opt.duration_s >= 0,
          "durations and --rate must not be negative");
  require(opt.expect_status == 0 || (opt.expect_status >= 100 && opt.expect_status <= 599),
          "--expect-status must be 100..599");
  require(opt.engine == "epoll" || opt.engine == "uring",
          fmt::format("--engine must be epoll or uring, not '{}'", opt.engine));
  require(is_token(opt.method), fmt::format("-m '{}' is not an HTTP method token", opt.method));
  for (const auto& h : opt.headers) {
    const auto colon = h.find(':');
    require(colon != std::string::npos && is_token(h.substr(0, colon)) &&
                h.find_first_of("\r\n") == std::string::npos,
            fmt::format("-H '{}' is not a 'Name: value' header", h));
  }
  opt.threads = std::min(opt.threads, opt.connections);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    require(uint64_t{opt.connections} + kSpareDescriptors <= rl.rlim_cur,
            fmt::format("-c {} needs {} descriptors but the open-files limit is {} (raise it with ulimit -n)",
                        opt.connections, opt.connections + kSpareDescriptors, rl.rlim_cur));
  }
}

sockaddr_storage resolve(const LoadOptions& opt, socklen_t& len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(opt.port);
  if (const int rc = ::getaddrinfo(opt.host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    throw std::system_error(EHOSTUNREACH, std::generic_category(),
                            fmt::format("cannot resolve host '{}': {}", opt.host, gai_strerror(rc)));
  }
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return ss;
}

// One connection before the run: an unreachable host is a clear start-up error, not a run full of errors.
void preflight(const LoadOptions& opt, const sockaddr_storage& addr, socklen_t len) {
  const std::string where = fmt::format("{}:{}", opt.host, opt.port);
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  int err = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const double t = opt.timeout_s > 0 ? std::min(opt.timeout_s, kPreflightTimeoutS) : kPreflightTimeoutS;
      const int r = ::poll(&p, 1, static_cast<int>(t * 1000));
      socklen_t el = sizeof err;
      if (r == 0) {
        err = ETIMEDOUT;
      } else if (r < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) {
        err = errno;
      }
    }
  }
  ::close(fd);
  if (err != 0) throw std::system_error(err, std::generic_category(), "cannot connect to " + where);
}

std::string build_request(const LoadOptions& opt, const sockaddr_storage& addr) {
  std::string r = fmt::format("{} {} HTTP/1.1\r\n", opt.method, opt.path);
  if (!has_header(opt, "host")) {
    const std::string host = addr.ss_family == AF_INET6 && opt.host.find(':') != std::string::npos
                                 ? "[" + opt.host + "]" : opt.host;
    r += opt.port == 80 ? fmt::format("Host: {}\r\n", host) : fmt::format("Host: {}:{}\r\n", host, opt.port);
  }
  if (!has_header(opt, "user-agent")) r += "User-Agent: ringbench-load\r\n";
  for (const auto& h : opt.headers) r += h + "\r\n";
  if (!opt.body.empty() || opt.method == "POST" || opt.method == "PUT") {
    r += fmt::format("Content-Length: {}\r\n", opt.body.size());
  }
  if (!opt.keepalive && !has_header(opt, "connection")) r += "Connection: close\r\n";
  r += "\r\n";
  r += opt.body;
  return r;
}

template <typename T>
T share(T total, uint32_t parts, uint32_t i) {
  return static_cast<T>(total / parts + (i < total % parts ? 1 : 0));
}

void print_progress(const RunShared& sh, const std::deque<WorkerProgress>& progress, double& last_done,
                    int64_t& last_ns) {
  uint64_t done = 0;
  for (const auto& p : progress) done += p.completed.load(std::memory_order_relaxed);
  const int64_t now = now_ns();
  const double rate = static_cast<double>(done) - last_done;
  const double secs = static_cast<double>(now - last_ns) / 1e9;
  std::fprintf(stderr, "\r%s %10llu done  %10.0f req/s  %6llu errors  %6.1f s ",
               now < sh.measure_start_ns ? "warm-up" : "load   ", static_cast<unsigned long long>(done),
               secs > 0 ? rate / secs : 0.0,
               static_cast<unsigned long long>(sh.measured_errors.load(std::memory_order_relaxed)),
               static_cast<double>(now - sh.t0_ns) / 1e9);
  last_done = static_cast<double>(done);
  last_ns = now;
}

TimeDistribution describe(const LatencyHistogram& h) {
  TimeDistribution d;
  d.count = h.count();
  d.fastest_s = static_cast<double>(h.min()) / 1e9;
  d.slowest_s = static_cast<double>(h.max()) / 1e9;
  d.average_s = h.mean() / 1e9;
  for (const auto& [name, p] : std::initializer_list<std::pair<const char*, double>>{
           {"p10", 10}, {"p25", 25}, {"p50", 50}, {"p75", 75}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p99.9", 99.9}}) {
    d.percentiles_s[name] = static_cast<double>(h.value_at_percentile(p)) / 1e9;
  }
  return d;
}

// Options checked, target resolved and probed, request built, the clock started.
LoadOptions prepare(const LoadOptions& in, RunShared& sh) {
  LoadOptions opt = in;
  if (!opt.url.empty()) {
    const Url u = parse_url(opt.url);
    opt.host = u.host;
    opt.port = u.port;
    opt.path = u.path;
  }
  validate(opt);
  if (opt.engine == "uring") {
    const std::string why = uring_engine_unavailable();
    require(why.empty(), "--engine uring: io_uring unavailable: " + why);
  }
  sh.addr = resolve(opt, sh.addr_len);
  preflight(opt, sh.addr, sh.addr_len);
  sh.request = build_request(opt, sh.addr);
  return opt;
}

void start_clock(const LoadOptions& opt, RunShared& sh) {
  sh.t0_ns = now_ns();
  sh.measure_start_ns = sh.t0_ns + static_cast<int64_t>(opt.warmup_s * 1e9);
  sh.end_ns = opt.duration_s > 0 ? sh.measure_start_ns + static_cast<int64_t>(opt.duration_s * 1e9) : 0;
}

// What the threads of one run hand back. progress holds atomics (not movable), hence a deque.
struct Workers {
  explicit Workers(uint32_t n) : progress(n), results(n), fatal(n), running(n) {}
  std::deque<WorkerProgress> progress;
  std::vector<WorkerResult> results;
  std::vector<std::string> fatal;
  std::atomic<uint32_t> running;
  std::vector<std::thread> pool;
};

void start_workers(const LoadOptions& opt, RunShared& sh, Workers& w) {
  const uint32_t threads = opt.threads;
  const bool uring = opt.engine == "uring";
  w.pool.reserve(threads);
  for (uint32_t i = 0; i < threads; ++i) {
    WorkerPlan plan;
    plan.index = i;
    plan.connections = share(opt.connections, threads, i);
    plan.requests = opt.requests > 0 ? share<uint64_t>(opt.requests, threads, i) : UINT64_MAX;
    plan.rate = opt.rate / threads;
    w.pool.emplace_back([&sh, &w, plan, i, uring] {
      if (uring) {
        run_worker_uring(sh, plan, w.progress[i], w.results[i], w.fatal[i]);
      } else {
        run_worker(sh, plan, w.progress[i], w.results[i], w.fatal[i]);
      }
      w.running.fetch_sub(1, std::memory_order_release);
    });
  }
}

// Waits for the workers: calls at_measure_start at the window's edge, turns a stop signal into an abort and
// shows progress. Returns whether the run was interrupted.
bool supervise(const LoadOptions& opt, RunShared& sh, Workers& w) {
  bool interrupted = false;
  double last_done = 0;
  int64_t last_ns = sh.t0_ns;
  auto next_progress = std::chrono::steady_clock::now() + kProgressInterval;
  bool edge_called = false;
  const auto call_edge = [&] {
    if (!edge_called && opt.at_measure_start) opt.at_measure_start();
    edge_called = true;
  };
  if (opt.warmup_s == 0) call_edge();
  while (w.running.load(std::memory_order_acquire) > 0) {
    std::this_thread::sleep_for(kPollInterval);
    if (!edge_called && now_ns() >= sh.measure_start_ns) call_edge();
    if (stop_requested() && !interrupted) {
      interrupted = true;
      sh.abort.store(true, std::memory_order_relaxed);
    }
    if (opt.progress && std::chrono::steady_clock::now() >= next_progress) {
      print_progress(sh, w.progress, last_done, last_ns);
      next_progress += kProgressInterval;
    }
  }
  for (auto& t : w.pool) t.join();
  if (opt.progress) std::fputs("\r\033[K", stderr);
  return interrupted;
}

// Histograms merged over the threads.
struct Merged {
  LatencyHistogram hist, lag, arrival;
  CompletionsPerMs per_ms;
  int64_t finished_ns = 0;
};

// Sums the threads' counts into `res` and their histograms into the returned Merged.
Merged merge_counts(const RunShared& sh, const Workers& w, LoadResult& res) {
  Merged m;
  m.finished_ns = sh.measure_start_ns;
  std::array<uint64_t, 600> status{};
  std::array<uint64_t, kErrorClassNames.size()> errors{};
  for (std::size_t i = 0; i < w.results.size(); ++i) {
    const WorkerResult& r = w.results[i];
    m.hist.merge(r.latency);
    m.lag.merge(r.client_lag);
    m.arrival.merge(r.arrival_latency);
    m.per_ms.merge(r.per_ms);
    res.completed += r.completed;
    res.ok += r.ok;
    res.sent += r.sent;
    res.connects += r.connects;
    res.connections_used += r.peak_open;
    for (std::size_t s = 0; s < status.size(); ++s) status[s] += r.status[s];
    for (std::size_t e = 0; e < errors.size(); ++e) errors[e] += r.errors[e];
    m.finished_ns = std::max(m.finished_ns, r.finished_ns);
    const double util = r.wall_s > 0 ? r.cpu_s / r.wall_s : 0;
    res.thread_cpu_util.push_back(util);
    if (util > kClientBoundUtil) res.client_bound = true;
    if (!w.fatal[i].empty()) res.warnings.push_back(fmt::format("client thread {} stopped early: {}", i, w.fatal[i]));
  }
  for (std::size_t s = 0; s < status.size(); ++s) {
    if (status[s]) res.status_counts[static_cast<int>(s)] = status[s];
  }
  for (std::size_t e = 0; e < errors.size(); ++e) res.errors[kErrorClassNames[e]] = errors[e];
  return m;
}

// Rates over the measured window and the latency distributions.
void describe_window(const RunShared& sh, Merged& m, LoadResult& res) {
  const int64_t finished = sh.end_ns != 0 ? std::min(m.finished_ns, sh.end_ns) : m.finished_ns;
  res.elapsed_s = static_cast<double>(std::max<int64_t>(0, finished - sh.measure_start_ns)) / 1e9;
  res.requests_per_s = res.elapsed_s > 0 ? static_cast<double>(res.completed) / res.elapsed_s : 0;
  res.send_rate_per_s = res.elapsed_s > 0 ? static_cast<double>(res.sent) / res.elapsed_s : 0;
  res.completions_per_ms = describe_spread(m.per_ms, static_cast<uint64_t>(res.elapsed_s * 1000));
  TimeDistribution latency = describe(m.hist);
  res.fastest_s = latency.fastest_s;
  res.slowest_s = latency.slowest_s;
  res.average_s = latency.average_s;
  res.percentiles_s = std::move(latency.percentiles_s);
  if (m.lag.count() > 0) {
    res.client_lag = describe(m.lag);
    res.arrival_latency = describe(m.arrival);
  }
  for (const auto& [upper, count] : m.hist.buckets()) {
    res.histogram.emplace_back(static_cast<double>(upper) / 1e9, count);
  }
}

void add_warnings(const LoadOptions& opt, LoadResult& res) {
  if (res.client_bound) {
    res.warnings.push_back(fmt::format(
        "a client thread used more than {:.0f} % of a core: the client may be the bottleneck (try --threads)",
        kClientBoundUtil * 100));
  }
  if (res.client_lag && res.client_lag->percentiles_s.at("p99") >= kClientLagWarnS) {
    res.warnings.push_back(fmt::format(
        "responses waited up to {:.1f} ms (p99) in the client's sockets before it read them: the latency above "
        "includes the client's own queueing; the latency at arrival does not",
        res.client_lag->percentiles_s.at("p99") * 1e3));
  }
  if (const CompletionSpread& s = res.completions_per_ms;
      s.mean >= kSpreadMinMean && s.empty_share >= kBunchedEmptyShare) {
    res.warnings.push_back(fmt::format(
        "completions came in bursts: {:.0f} % of the window's milliseconds had none at {:.1f} per ms on average "
        "(busiest {}): the load has bunched, and the latency tail includes the queueing behind each burst",
        s.empty_share * 100, s.mean, s.max));
  }
  if (opt.ramp_s > 0 && opt.warmup_s < opt.ramp_s) {
    res.warnings.push_back("--warmup is shorter than --ramp: the measured window includes connections still starting");
  }
}

}  // namespace

LoadResult run_load(const LoadOptions& in) {
  RunShared sh;
  const LoadOptions opt = prepare(in, sh);
  sh.opt = &opt;
  start_clock(opt, sh);
  Workers workers(opt.threads);
  start_workers(opt, sh, workers);
  const bool interrupted = supervise(opt, sh, workers);

  LoadResult res;
  Merged merged = merge_counts(sh, workers, res);
  describe_window(sh, merged, res);
  res.mode = opt.rate > 0 ? "open" : "closed";
  res.threads = opt.threads;
  if (interrupted) {
    res.stopped_by = "interrupted";
  } else if (sh.measured_errors.load() > opt.max_errors) {
    res.stopped_by = "max-errors";
  }
  add_warnings(opt, res);
  return res;
}

}  // namespace ringbench::load
