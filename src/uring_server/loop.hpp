// The io_uring event loop: one per thread, one ring each, no locks on the hot path. run() reads top to
// bottom: submit and wait once, take every completion off the ring, dispatch each to a short handler,
// fire due timers, repeat. HTTP parsing and replies come from the shared core; this file only does I/O.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/config.hpp"
#include "core/delay_timers.hpp"
#include "core/handler.hpp"
#include "core/timer_wheel.hpp"
#include "core/wait_lateness.hpp"
#include "uring/features.hpp"
#include "uring/ring.hpp"
#include "uring/user_data.hpp"
#include "uring/wait.hpp"
#include "uring_server/conn.hpp"

namespace ringbench {

// State the loops of one process share (read-only but for the connection count).
struct UringShared {
  const ServerConfig& cfg;
  const UringPlan& plan;
  const Handler& handler;
  std::atomic<uint32_t> open_connections{0};  // for --max-connections, across loops
};

// Named counters of what went wrong (or was refused); printed once when the loop ends.
struct LoopCounters {
  uint64_t accepted = 0;
  uint64_t refused_503 = 0;
  uint64_t accept_out_of_fds = 0;   // EMFILE/ENFILE/ENOBUFS/ENOMEM: accept paused, then retried
  uint64_t accept_errors = 0;
  uint64_t recv_enobufs = 0;        // buffer ring ran dry: multishot recv re-armed
  uint64_t recv_errors = 0;
  uint64_t send_errors = 0;
  uint64_t header_timeouts = 0;
  uint64_t send_timeouts = 0;
  uint64_t recv_paused = 0;         // pipelined input over the per-connection bound: reading paused
  uint64_t ring_fd_unregistered = 0;  // io_uring_register_ring_fd failed: every enter looks the fd up
  uint64_t close_errors = 0;
  uint64_t accept_table_full = 0;   // --fixed-files: times the table was full and clients waited in the backlog
  // What the loop did with the ring (the ringbench-stats line).
  uint64_t enters = 0;              // submit / submit-and-wait calls into io_uring_enter
  uint64_t no_iowait_enters = 0;    // of those, waits made with IORING_ENTER_NO_IOWAIT
  uint64_t cqes = 0;                // completions taken off the ring
  uint64_t cq_overflow_turns = 0;   // waits after which the kernel flagged IORING_SQ_CQ_OVERFLOW
  uint64_t cq_dropped = 0;          // completions the kernel could not keep (the CQ ring's overflow count)
  uint64_t recv_multi_buffer = 0;   // recv completions that spanned more than one provided buffer (bundles)
  uint64_t recv_buffers = 0;        // provided buffers those completions spanned in all
  uint64_t recv_buf_kept = 0;       // completions whose buffer stayed with the kernel (IORING_CQE_F_BUF_MORE)
  uint64_t zc_sends = 0;            // zero-copy sends notified complete
  uint64_t zc_copied = 0;           // of those, sends the kernel reported as copied (IORING_NOTIF_USAGE_ZC_COPIED)
};

class UringLoop {
 public:
  // Creates the ring in the calling thread (SINGLE_ISSUER ties the ring to it). Throws std::system_error.
  UringLoop(UringShared& shared, unsigned index, int listen_fd, int wake_fd);
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;

  // Serves until a wake-up on `wake_fd` starts the drain and the last connection is gone.
  // Returns 0, or 1 when the ring itself failed.
  int run();
  const LoopCounters& counters() const { return counters_; }

 private:
  struct Completion {  // a CQE copied off the ring, so handlers may submit (and reap) freely
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
  };

  static constexpr uint16_t kBufGroup = 0;  // the provided-buffer group of multishot recv

  void report() const;  // the named counters, one stderr line

  // Ring plumbing.
  io_uring_sqe* get_sqe();
  void submit_op(io_uring_sqe* sqe, Op op, const Conn* c);
  int submit_and_wait();
  void harvest();
  void update_clock();
  void arm_tick();
  void expire_timers();
  void dispatch(const Completion& cqe);
  Conn* conn_for(UserData ud);

  // Listening side and stop.
  void arm_accept();
  void cancel_accept();
  void arm_wake();
  void on_accept(int res, uint32_t flags);
  void open_conn(int fd);
  void begin_drain();
  void on_drain_end();

  // One connection.
  void arm_recv(Conn& c);
  bool wants_recv(const Conn& c) const;
  void on_recv(Conn& c, const Completion& cqe);
  void on_bytes(Conn& c, const char* data, std::size_t len);
  void parse_fresh(Conn& c, std::string_view input);
  void parse_pending(Conn& c);
  void after_need_more(Conn& c);
  void start_action(Conn& c, const Action& action);
  void arm_delay(Conn& c, uint32_t delay_ms);
  void start_send(Conn& c);
  void submit_send(Conn& c);
  void on_send(Conn& c, int res);
  void on_reply_sent(Conn& c);
  void begin_linger(Conn& c);
  void set_deadline(Conn& c, DeadlineKind kind, uint64_t at_ms);
  void set_read_deadline(Conn& c);
  void on_deadline(Conn& c);
  void close_conn(Conn& c);
  void settle(Conn& c);
  void release(Conn& c);

  UringShared& shared_;
  const ServerConfig& cfg_;
  const UringConfig& u_;
  const Handler& handler_;
  const unsigned index_;
  const int listen_fd_;
  const int wake_fd_;
  const uint32_t keepalive_ms_;
  // Free table slots below which multishot accept gives way to one accept at a time: a multishot accept
  // takes the whole accept queue (up to the backlog) in one go, whatever the table has room for.
  const uint32_t fixed_headroom_;
  uint64_t now_ns_ = 0;
  uint64_t now_ms_ = 0;
  Ring ring_;
  std::optional<BufRing> bufs_;  // declared after ring_: unregistered before the ring goes away
  TimerWheel wheel_;              // timeouts, backoffs and the drain (1 ms slots)
  DelayTimers delays_;            // the handler's delays with --timer wheel (100 µs slots)
  MinWait min_wait_;              // --min-wait-us, --no-iowait; neither: liburing's plain submit-and-wait
  WaitLateness late_wakeups_;     // pure waits that ended more than a tolerance past the armed tick
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<uint32_t> free_slots_;
  std::vector<Completion> backlog_;
  uint32_t live_ = 0;             // slots in use
  uint64_t wake_value_ = 0;       // the eventfd read's buffer: the kernel writes it until the read completes
  __kernel_timespec tick_ts_{};   // the tick timeout's absolute time, read by the kernel at submission
  uint64_t tick_at_ns_ = 0;       // when the armed tick fires (CLOCK_MONOTONIC ns)
  bool tick_armed_ = false;
  bool accept_armed_ = false;
  bool accept_multishot_ = false; // the armed accept is multishot
  bool accept_cancel_sent_ = false;
  uint32_t fixed_slots_ = 0;      // --fixed-files: the ring's direct descriptor table
  uint32_t fixed_used_ = 0;       // direct descriptors accepted and not yet closed (close completed)
  bool accept_paused_ = false;
  bool draining_ = false;
  bool drain_forced_ = false;     // --drain-ms ran out: every connection was closed
  bool give_up_ = false;          // closes did not complete within a grace period after that
  int fatal_ = 0;                 // -errno of a failed submit: ends the loop
  // Handed out only after a fatal ring error, so callers never see null; the loop ends that turn.
  std::unique_ptr<io_uring_sqe> dummy_sqe_ = std::make_unique<io_uring_sqe>();
  LoopCounters counters_;
};

}  // namespace ringbench
