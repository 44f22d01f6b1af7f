// One client thread of the load generator: one event loop driving many connections (never a thread per
// connection), either edge-triggered epoll (worker.cpp) or io_uring (worker_uring.cpp), chosen by
// --engine. engine.cpp starts one per --threads and merges results.
#pragma once
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "load/completion_spread.hpp"
#include "load/engine.hpp"
#include "load/histogram.hpp"

namespace ringbench::load {

// Error classes, in report order. A request fails with exactly one; "status" and "body" are responses that
// arrived but did not match --expect-status / --expect-body.
enum class ErrorClass : uint8_t { connect, timeout, read, write, parse, status, body, count_ };
inline constexpr std::array<const char*, static_cast<std::size_t>(ErrorClass::count_)> kErrorClassNames = {
    "connect", "timeout", "read", "write", "parse", "status", "body"};

// Everything the workers share. Read-only while they run, except the atomics.
struct RunShared {
  const LoadOptions* opt = nullptr;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string request;          // the bytes of one request
  int64_t t0_ns = 0;            // run start (CLOCK_MONOTONIC)
  int64_t measure_start_ns = 0; // t0 + warm-up: completions before this are not recorded
  int64_t end_ns = 0;           // t0 + warm-up + -z; 0 when -n bounds the run
  std::atomic<bool> abort{false};           // stop now: signal or --max-errors exceeded
  std::atomic<uint64_t> measured_errors{0}; // across threads, for --max-errors
};

// What one worker is asked to do.
struct WorkerPlan {
  uint32_t index = 0;        // thread number, 0-based
  uint32_t connections = 0;  // connections this thread drives
  uint64_t requests = 0;     // request budget (UINT64_MAX: until end_ns)
  double rate = 0;           // open loop: requests/s for this thread (0: closed loop)
};

// Published with relaxed stores for the live progress line; exact figures come from WorkerResult.
struct WorkerProgress {
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> errors{0};
};

struct WorkerResult {
  LatencyHistogram latency;
  LatencyHistogram client_lag, arrival_latency;  // --client-lag only (see LoadResult)
  CompletionsPerMs per_ms;                       // measured completions by millisecond of the window
  uint64_t completed = 0, ok = 0, sent = 0, connects = 0;
  std::array<uint64_t, 600> status{};  // by status code; 0 holds codes outside 100..599
  std::array<uint64_t, static_cast<std::size_t>(ErrorClass::count_)> errors{};
  uint32_t peak_open = 0;
  double cpu_s = 0, wall_s = 0;
  int64_t finished_ns = 0;
};

// Runs the plan to completion (budget spent, end_ns reached or abort) and fills `out`. Never throws from the
// loop: a connection error closes that connection and counts; only an epoll/io_uring failure ends the run
// early, and that is reported in `fatal` (empty when none). run_worker is the epoll engine.
void run_worker(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out,
                std::string& fatal);
void run_worker_uring(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out,
                      std::string& fatal);

// Empty when this kernel gives the io_uring engine what it needs (a ring and a provided-buffer ring);
// otherwise one line saying why not. Creates and destroys a small ring.
std::string uring_engine_unavailable();

}  // namespace ringbench::load
