// What both load-generator engines share (worker.cpp: epoll, worker_uring.cpp: io_uring): the
// connection slots, the llhttp response callbacks, each slot's ring of request start times, recording a
// completion, error classes, reconnect and timeout policy, ramp, retry and the open-loop schedule.
//
// ConnCore owns no event loop and never waits. An engine derives from it, supplies the three socket
// operations below and runs its own loop, calling before_wait() once per turn and the on_* entry points as
// its I/O completes.
#pragma once
#include <llhttp.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "load/worker.hpp"

namespace ringbench::load {

enum class ConnState : uint8_t { closed, connecting, open };

// One client connection slot. Requests assigned to it and not yet answered sit in its ring of start times
// (ConnCore::starts_, `pipeline` entries per slot): send time in the closed loop, intended send time in the
// open loop (coordinated-omission correction, as wrk2).
struct Conn {
  llhttp_t parser;
  class ConnCore* core = nullptr;
  int fd = -1;
  uint32_t index = 0;
  uint32_t gen = 0;           // bumped on close: events/completions of an earlier socket in this slot are dropped
  ConnState state = ConnState::closed;
  bool in_idle = false;       // open loop: on the idle stack
  bool msg_started = false;   // some byte of the current response has arrived
  bool close_after = false;   // the last response said the server closes (Connection: close, HTTP/1.0)
  bool body_bad = false;
  uint32_t head = 0;          // ring index of the oldest unanswered request
  uint32_t inflight = 0;      // requests assigned and unanswered (written or not)
  uint32_t issued = 0;        // requests assigned on this socket (for --requests-per-conn)
  uint32_t answered = 0;      // responses completed on this socket
  std::size_t pending = 0;    // request bytes still to write
  std::size_t write_off = 0;  // position inside the request bytes of the next byte to write
  std::size_t body_off = 0;
  int64_t busy_since = 0;     // last progress while requests are in flight (timeout base)
  int64_t retry_at = 0;       // closed and waiting to reconnect after a failed connect (0: not waiting)
};

int64_t now_ns();  // CLOCK_MONOTONIC
// CLOCK_REALTIME minus CLOCK_MONOTONIC: converts a kernel receive timestamp (realtime) to now_ns()'s clock.
int64_t realtime_offset_ns();
// The SCM_TIMESTAMPNS receive time in `msg`'s control data, on now_ns()'s clock; 0 when it carries none.
// Stops at a zeroed header, so a control buffer cleared before the read needs no msg_controllen update
// (io_uring's recvmsg leaves the caller's msg_controllen as it was).
int64_t rx_timestamp_ns(const msghdr& msg, int64_t realtime_offset);

class ConnCore {
 public:
  ConnCore(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out);
  virtual ~ConnCore() = default;
  ConnCore(const ConnCore&) = delete;
  ConnCore& operator=(const ConnCore&) = delete;

 protected:
  // ---- what an engine supplies ----
  // Start connecting `c` (new_socket() makes the descriptor); on failure call connect_failed(c).
  virtual void open_socket(Conn& c) = 0;
  // Release c.fd (it is >= 0); ConnCore does the slot's bookkeeping afterwards.
  virtual void close_socket(Conn& c) = 0;
  // Write (or submit) c.pending bytes starting at write_span(c); report progress with wrote().
  virtual void start_send(Conn& c) = 0;
  // After send_after_reads() ran on_drained(c) and the socket stayed: an engine whose reads are one-shot
  // arms the next one here, not before, so a socket that on_drained() closes has no read queued on it.
  virtual void keep_reading(Conn& /*c*/) {}

  // ---- what an engine calls ----
  // One loop turn's housekeeping at now_: ramp, retries, open-loop dispatch, timeouts, progress. False when
  // the loop should end (budget spent, end of -z, abort).
  bool before_wait();
  int64_t next_deadline() const;  // when before_wait() next has work, at the latest the next timeout sweep
  void begin_run();
  void end_run();

  // A socket descriptor for slot `c` (SOCK_NONBLOCK or 0 in `flags`), counted and marked connecting;
  // -errno when socket() fails.
  int new_socket(Conn& c, int flags);
  void connected(Conn& c);     // the connect succeeded: sends what the slot has
  void connect_failed(Conn& c);
  // Response bytes arrived. False when the socket is done (closing reply, garbage): it has been reopened.
  bool on_data(Conn& c, const char* data, std::size_t n);
  void on_eof(Conn& c);        // the peer closed
  void on_drained(Conn& c);    // all arrived bytes are parsed: close (--requests-per-conn) or send more
  // A turn reads every arrived response before it sends (see worker.cpp): an engine marks a connection
  // whose bytes are all parsed with read_done() and calls send_after_reads() once its reads are over, which
  // runs on_drained() for each, on a fresh now_ so a request's start time is when it leaves.
  void read_done(const Conn& c) { drained_.push_back((uint64_t{c.gen} << 32) | c.index); }
  void send_after_reads();
  void lost(Conn& c, ErrorClass cls);  // a read or write failed
  std::size_t write_len(const Conn& c) const;  // bytes of the next write, from write_span(c)
  const char* write_span(const Conn& c) const { return wbuf_.data() + c.write_off; }
  void wrote(Conn& c, std::size_t n);
  bool wants_socket(const Conn& c) const {
    return (c.inflight > 0 || budget_ > 0) && !sh_.abort.load(std::memory_order_relaxed);
  }
  void open_conn(Conn& c);

  RunShared& sh_;
  std::vector<Conn> conns_;  // fixed size: llhttp keeps pointers to its Conn
  int64_t now_ = 0;          // time of the latest read or wake-up
  // With --client-lag: when the bytes now being parsed arrived in the socket (kernel receive time, on
  // now_'s clock); 0 when unknown. Responses completed by those bytes record now_ - rx_ns_ as client lag.
  int64_t rx_ns_ = 0;

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t len);
  static int on_message_complete(llhttp_t* p);
  int response_done(Conn& c, int status, bool keep_alive);

  void close_conn(Conn& c);
  void reopen(Conn& c);
  void fail_inflight(Conn& c, ErrorClass cls);
  void fill(Conn& c);
  void assign(Conn& c, int64_t start_ns);
  void make_idle(Conn& c);
  bool may_issue(const Conn& c) const {
    return budget_ > 0 && (per_conn_ == 0 || c.issued < per_conn_);
  }
  bool measuring(int64_t t) const { return t >= sh_.measure_start_ns && (sh_.end_ns == 0 || t < sh_.end_ns); }
  void count_error(ErrorClass cls, uint64_t n = 1);
  void start_ramped();
  void retry_connects();
  void dispatch_open_loop();
  void sweep_timeouts();
  bool finished() const { return budget_ == 0 && total_inflight_ == 0; }
  int64_t ramp_start(uint32_t slot) const;

  const LoadOptions& opt_;
  const WorkerPlan plan_;
  WorkerProgress& progress_;
  WorkerResult& out_;
  const uint32_t pipeline_;
  const uint32_t per_conn_;   // requests per socket (0: unlimited)
  const std::size_t req_len_;
  uint64_t budget_;           // requests not yet assigned
  std::vector<int64_t> starts_;
  std::string wbuf_;          // pipeline_+1 copies of the request; immutable while the run lasts
  llhttp_settings_t settings_{};
  bool head_request_ = false;
  int64_t timeout_ns_ = 0;
  int64_t sweep_every_ns_ = 0;
  int64_t next_sweep_ = 0;
  double interval_ns_ = 0;    // open loop: between intended send times
  double next_intended_ = 0;  // open loop: intended send time of the next request (ns)
  std::vector<uint32_t> idle_;   // open loop: open connections with room for another request
  std::vector<uint32_t> retry_;  // slots waiting to reconnect
  std::vector<uint64_t> drained_;  // this turn's fully read connections (generation, slot), to send on
  uint32_t next_ramp_ = 0;       // slots [0, next_ramp_) have been started
  uint64_t total_inflight_ = 0;
  uint32_t open_now_ = 0;
  double cpu0_ = 0;
  int64_t wall0_ = 0;
};

}  // namespace ringbench::load
