// Server configuration shared by every backend: one struct, filled by the CLI, passed down by const&.
// Every limit a server enforces is a named field here with its default, so it is also a named option.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ringbench {

enum class TimerKind { ring, wheel };

// io_uring feature switches (src/uring_server/server.cpp); ignored by the other backends.
struct UringConfig {
  bool sqpoll = false;
  uint32_t sqpoll_idle_ms = 1000;
  bool multishot_accept = true;
  bool multishot_recv = true;
  bool buf_ring = true;
  bool fixed_files = false;
  bool defer_taskrun = true;  // SINGLE_ISSUER|DEFER_TASKRUN where the kernel has it
  bool coop_taskrun = false;
  bool send_zc = false;
  uint32_t ring_entries = 4096;
  uint32_t buf_count = 1024;   // provided buffers per ring (each touched page stays resident: keep it small)
  uint32_t buf_size = 4096;    // bytes per provided buffer
  TimerKind timer = TimerKind::wheel;
  // Batched wake-ups (IORING_FEAT_MIN_TIMEOUT): sleep at least this long unless min_wait_batch completions
  // come first. Each request may wait up to this long before it is read or answered. 0 = off.
  uint32_t min_wait_us = 0;
  uint32_t min_wait_batch = 32;
  bool recv_bundle = false;      // IORING_RECVSEND_BUNDLE: one multishot recv completion may fill several buffers
  bool buf_ring_inc = false;     // IOU_PBUF_RING_INC: a provided buffer is consumed a little at a time
  bool no_iowait = false;        // IORING_ENTER_NO_IOWAIT: waits are not counted as iowait
  bool zc_report_usage = true;   // with send_zc: count the zero-copy sends the kernel copied
  uint32_t fixed_file_slots = 0; // with fixed_files: direct descriptors per ring; 0 = RLIMIT_NOFILE (at most 65536)
};

struct Limits {
  std::size_t max_header_bytes = 8 * 1024;         // request line + headers -> 431
  std::size_t max_url_bytes = 4 * 1024;            // request target -> 414
  std::size_t max_body_bytes = 1024 * 1024;        // Content-Length or chunked total -> 413
  uint64_t max_response_bytes = 256ull << 20;      // GET /bytes/<n> bound -> 400
  uint32_t max_delay_ms = 60'000;                  // GET /delay/<ms> bound -> 400
};

struct ServerConfig {
  std::string backend;
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  uint32_t delay_ms = 250;
  uint32_t threads = 1;        // event loops (uring, epoll)
  uint32_t workers = 1;        // preforked processes (blocking, threads)
  uint32_t pool = 0;           // threads backend: 0 = one thread per connection
  uint32_t stack_kb = 64;      // threads backend: per-thread stack
  uint32_t header_timeout_ms = 10'000;  // a request must be complete this long after its first byte
  int64_t keepalive_ms = -1;   // idle keep-alive bound; 0 = close after each response; -1 = backend default
  uint32_t drain_ms = 5'000;   // SIGTERM: how long in-flight requests may still take
  uint32_t send_timeout_ms = 30'000;  // a client that stops reading its reply is cut off after this
  uint32_t linger_ms = 1'000;  // after an error reply: read and discard this long so the reply is not lost to an RST
  uint32_t max_connections = 100'000;
  uint32_t backlog = 4096;
  bool reuseport = true;       // one listening socket per loop thread
  uint64_t spin_ns = 0;        // burn this much CPU per request (to inject a regression on purpose)
  // Event loops (epoll, uring --timer wheel): the grid delays are answered on. Delays ending within one
  // slot share a wake-up; a finer grid answers closer to the delay and costs more wake-ups.
  uint32_t timer_slack_us = 100;
  Limits limits;
  UringConfig uring;
};

// Backends differ in what an idle keep-alive connection costs them: the blocking server holds its only
// worker, and a fixed thread pool one of its N threads, so both close after each response unless told
// otherwise (gunicorn's sync worker does the same; its gthread worker parks idle connections in a poller,
// which is an event loop, not this model).
inline uint32_t effective_keepalive_ms(const ServerConfig& c) {
  if (c.keepalive_ms >= 0) return static_cast<uint32_t>(c.keepalive_ms);
  const bool holds_a_worker = c.backend == "blocking" || (c.backend == "threads" && c.pool > 0);
  return holds_a_worker ? 0 : 60'000;
}

}  // namespace ringbench
