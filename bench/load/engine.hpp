// The load generator's engine, usable in-process: `ringbench load` (command.cpp) and the scenario
// runner (bench/run/) both call run_load() and read the same LoadResult.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "load/completion_spread.hpp"

namespace ringbench::load {

struct LoadOptions {
  std::string url;                   // http://HOST:PORT/PATH (the command validates it)
  std::string host = "127.0.0.1";
  uint16_t port = 80;
  std::string path = "/";
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  uint64_t requests = 0;             // -n: closed loop, total requests (0: run for `duration_s`)
  double duration_s = 0;             // -z
  uint32_t connections = 1;          // -c
  double rate = 0;                   // --rate: open loop, requests/s in total (0: closed loop)
  double timeout_s = 20;             // -t: per request
  uint32_t threads = 1;              // --threads: client threads
  double warmup_s = 0;               // --warmup: requests completed in this first window are not recorded
  double ramp_s = 0;                 // --ramp: stagger connection starts over this long
  bool keepalive = true;             // --disable-keepalive: a new connection per request
  uint32_t requests_per_conn = 0;    // --requests-per-conn: reconnect after N (0: never)
  uint32_t pipeline = 1;             // --pipeline: requests in flight per connection
  int expect_status = 0;             // --expect-status: other statuses count as errors (0: any 2xx)
  std::string expect_body;           // --expect-body: responses must equal this body
  uint64_t max_errors = UINT64_MAX;  // --max-errors: exit non-zero above this
  bool progress = false;             // live progress on stderr
  std::string engine = "epoll";      // --engine: each thread's loop, "epoll" or "uring" (io_uring)
  // --client-lag: read each response with its kernel receive time (SO_TIMESTAMPNS) and report how long it
  // waited in the socket before the client read it.
  bool client_lag = false;
  // Called once on run_load's own thread when the warm-up ends and the measured window starts (within
  // ~20 ms), e.g. to sample the server's CPU time at the window's edge. May be empty.
  std::function<void()> at_measure_start;
};

// A distribution of times, in seconds.
struct TimeDistribution {
  uint64_t count = 0;
  double fastest_s = 0, slowest_s = 0, average_s = 0;
  std::map<std::string, double> percentiles_s;  // "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9"
  nlohmann::json to_json() const;
};

struct LoadResult {
  uint64_t completed = 0;                  // responses received in the measured window
  uint64_t ok = 0;                         // of those, with the expected status/body
  std::map<int, uint64_t> status_counts;
  std::map<std::string, uint64_t> errors;  // by class: connect, timeout, read, parse, status
  double elapsed_s = 0;                    // measured window (after warm-up)
  double requests_per_s = 0;
  // Latencies in seconds.
  double fastest_s = 0, slowest_s = 0, average_s = 0;
  std::map<std::string, double> percentiles_s;  // "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9"
  std::vector<std::pair<double, uint64_t>> histogram;  // (upper bound s, count) buckets for charts
  std::vector<double> thread_cpu_util;     // per client thread, 0..1 of one core
  bool client_bound = false;               // some client thread was above ~90 % CPU: numbers are the client's
  uint32_t connections_used = 0;
  // Added by the engine: send side, connection churn, and what the reader should know.
  std::string mode = "closed";             // "closed" (-n/-z) or "open" (--rate, latency from intended send time)
  uint64_t sent = 0;                       // requests assigned to a socket in the measured window
  double send_rate_per_s = 0;              // sent / elapsed_s: in the open loop, the rate actually offered
  uint64_t connects = 0;                   // sockets opened over the whole run (reconnects included)
  uint32_t threads = 0;                    // client threads used
  std::string stopped_by;                  // "" (ran to the end), "interrupted" or "max-errors"
  std::vector<std::string> warnings;       // e.g. the client-bound warning; also printed in the summary
  // With --client-lag (and responses that carried a receive time): how long each response waited in the
  // socket before the client read it, and the latency up to its arrival in the socket (the latency above
  // minus that wait, i.e. without the client's own queueing).
  std::optional<TimeDistribution> client_lag, arrival_latency;
  // How the window's completions spread over its milliseconds (see completion_spread.hpp).
  CompletionSpread completions_per_ms;
  uint64_t total_errors() const;
  nlohmann::json to_json() const;
};

// Runs the load and returns the figures. Throws std::invalid_argument for bad options, std::system_error for
// set-up failures (e.g. host unreachable before any request succeeds).
LoadResult run_load(const LoadOptions& opt);

}  // namespace ringbench::load
