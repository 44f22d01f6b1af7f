// The io_uring event loop's turn; see loop.hpp. run() and the ring plumbing it calls live here; the
// rest of the loop is split by job: loop_accept.cpp (listening side and connection lifecycle),
// loop_reply.cpp (one request's receive, delay and reply), loop_timers.cpp (timers, deadlines, drain).
// Per-connection rules follow the blocking server (baselines/common/blocking_connection.cpp) one for one.
#include "uring_server/loop.hpp"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/clock.hpp"
#include "core/net.hpp"
#include "uring/uapi.hpp"

namespace ringbench {
namespace {

constexpr uint32_t kMaxFixedFiles = 65536;
constexpr unsigned kPureWaitMaxSqes = 2;      // a tick (re)arm and one more: microseconds of kernel work

io_uring_params ring_params(const UringPlan& plan) {
  io_uring_params p{};
  p.flags = plan.setup_flags;
  p.cq_entries = plan.cq_entries;
  p.sq_thread_idle = plan.use.sqpoll_idle_ms;
  return p;
}

}  // namespace

UringLoop::UringLoop(UringShared& shared, unsigned index, int listen_fd, int wake_fd)
    : shared_(shared),
      cfg_(shared.cfg),
      u_(shared.plan.use),
      handler_(shared.handler),
      index_(index),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      keepalive_ms_(effective_keepalive_ms(shared.cfg)),
      fixed_headroom_(shared.cfg.backlog + 1),
      now_ns_(monotonic_ns()),
      now_ms_(now_ns_ / 1'000'000),
      ring_(u_.ring_entries, ring_params(shared.plan)),
      wheel_(now_ms_),
      delays_(now_ns_, uint64_t{shared.cfg.timer_slack_us} * 1000) {
  // Registering the ring fd saves a descriptor lookup on every io_uring_enter. Optional: when it fails
  // (older kernel) liburing keeps using the plain ring fd, so the result only decides the fast path.
  const bool registered = io_uring_register_ring_fd(ring_.get()) >= 0;
  if (!registered) ++counters_.ring_fd_unregistered;
  min_wait_ = {u_.min_wait_us, u_.min_wait_batch, registered, u_.no_iowait ? uapi::kEnterNoIowait : 0u};
  if (u_.buf_ring) {
    bufs_.emplace(ring_.get(), kBufGroup, u_.buf_count, u_.buf_size, u_.buf_ring_inc);
  }
  if (u_.fixed_files) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) throw_errno("getrlimit(RLIMIT_NOFILE)");
    fixed_slots_ = u_.fixed_file_slots != 0 ? u_.fixed_file_slots
                                            : static_cast<uint32_t>(std::min<rlim_t>(rl.rlim_cur, kMaxFixedFiles));
    if (const int rc = io_uring_register_files_sparse(ring_.get(), fixed_slots_); rc < 0) {
      throw_errno("io_uring_register_files_sparse", -rc);
    }
  }
}

int UringLoop::run() {
  arm_accept();
  arm_wake();
  while (fatal_ == 0 && !give_up_ && !(draining_ && live_ == 0)) {
    arm_tick();
    // Only a call that submits (almost) nothing is a pure wait: one that also issues this turn's sends
    // spends their TCP work (and the loopback receive of the client) inside the same io_uring_enter. The
    // clock is read for those waits only: the ring timeout is absolute and needs no "now".
    const bool tick_due = tick_armed_ && io_uring_sq_ready(ring_.get()) <= kPureWaitMaxSqes;
    const uint64_t wait_began = tick_due ? monotonic_ns() : 0;
    const int rc = submit_and_wait();
    if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN && rc != -ETIME) {
      fatal_ = rc;
      break;
    }
    if (IO_URING_READ_ONCE(*ring_.get()->sq.kflags) & IORING_SQ_CQ_OVERFLOW) ++counters_.cq_overflow_turns;
    update_clock();
    if (tick_due) late_wakeups_.record(wait_began, tick_at_ns_, now_ns_);
    harvest();
    // Handlers may reap more completions (get_sqe on a full ring), which land at the end of backlog_.
    for (std::size_t i = 0; i < backlog_.size(); ++i) {
      const Completion cqe = backlog_[i];
      dispatch(cqe);
    }
    backlog_.clear();
    expire_timers();
  }
  if (fatal_ != 0) {
    std::fprintf(stderr, "ringbench serve uring: loop %u: io_uring_submit_and_wait: %s\n", index_,
                 std::strerror(-fatal_));
  }
  counters_.cq_dropped = IO_URING_READ_ONCE(*ring_.get()->cq.koverflow);
  report();
  return fatal_ == 0 ? 0 : 1;
}

void UringLoop::report() const {
  const LoopCounters& k = counters_;
  std::fprintf(stderr,
               "ringbench serve uring: loop %u: accepted %lu, refused_503 %lu, accept_out_of_fds %lu, "
               "accept_errors %lu, recv_enobufs %lu, recv_errors %lu, send_errors %lu, header_timeouts %lu, "
               "send_timeouts %lu, recv_paused %lu, ring_fd_unregistered %lu, close_errors %lu, "
               "late_wakeups %lu (%.1f ms in all, worst %.1f ms, of %lu timed waits)\n",
               index_, k.accepted, k.refused_503, k.accept_out_of_fds, k.accept_errors, k.recv_enobufs,
               k.recv_errors, k.send_errors, k.header_timeouts, k.send_timeouts, k.recv_paused,
               k.ring_fd_unregistered, k.close_errors, late_wakeups_.count(), late_wakeups_.total_ms(),
               late_wakeups_.worst_ms(), late_wakeups_.waits());
}

// ---- ring plumbing -------------------------------------------------------------------------------

io_uring_sqe* UringLoop::get_sqe() {
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(ring_.get())) return sqe;
    if (fatal_ != 0) return dummy_sqe_.get();
    // The submission queue is full: hand it to the kernel now. -EBUSY means completions are backed up
    // (overflow); take them off the ring first so the kernel can make progress.
    const int rc = io_uring_submit(ring_.get());
    ++counters_.enters;
    if (rc == -EBUSY || rc == -EAGAIN) {
      harvest();
    } else if (rc < 0 && rc != -EINTR) {
      fatal_ = rc;
    }
  }
}

int UringLoop::submit_and_wait() {
  ++counters_.enters;
  if (min_wait_.min_wait_us == 0 && min_wait_.enter_flags == 0) return io_uring_submit_and_wait(ring_.get(), 1);
  if (min_wait_.enter_flags & uapi::kEnterNoIowait) ++counters_.no_iowait_enters;
  return submit_and_wait_min(ring_.get(), min_wait_);
}

void UringLoop::submit_op(io_uring_sqe* sqe, Op op, const Conn* c) {
  io_uring_sqe_set_data64(sqe, encode_user_data(op, c ? c->slot : 0, c ? c->gen : 0));
  if (c && u_.fixed_files) sqe->flags |= IOSQE_FIXED_FILE;
}

void UringLoop::harvest() {
  unsigned head = 0;
  unsigned n = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(ring_.get(), head, cqe) {
    backlog_.push_back({cqe->user_data, cqe->res, cqe->flags});
    ++n;
  }
  io_uring_cq_advance(ring_.get(), n);
  counters_.cqes += n;
}

void UringLoop::update_clock() {
  now_ns_ = monotonic_ns();
  now_ms_ = now_ns_ / 1'000'000;
}

Conn* UringLoop::conn_for(UserData ud) {
  if (ud.slot >= conns_.size()) return nullptr;
  Conn* c = conns_[ud.slot].get();
  if (c == nullptr || c->gen != ud.gen || c->state == ConnState::free) return nullptr;
  return c;
}

void UringLoop::dispatch(const Completion& cqe) {
  const UserData ud = decode_user_data(cqe.user_data);
  switch (ud.op) {
    case Op::accept: on_accept(cqe.res, cqe.flags); return;
    case Op::tick: tick_armed_ = false; return;
    case Op::wake:
      if (cqe.res == -EINTR || cqe.res == -EAGAIN) {
        arm_wake();
      } else {
        begin_drain();
      }
      return;
    case Op::ignore: return;
    case Op::close_direct:
      --fixed_used_;
      if (!accept_armed_ && !accept_paused_ && !draining_) arm_accept();  // a queued client may come in now
      return;
    case Op::send_zc:
      // The notification may outlive its connection (its bytes are the process-lifetime pattern block).
      if (cqe.flags & IORING_CQE_F_NOTIF) {
        ++counters_.zc_sends;
        if (u_.zc_report_usage && (static_cast<uint32_t>(cqe.res) & uapi::kNotifUsageZcCopied)) ++counters_.zc_copied;
        return;
      }
      break;
    default: break;
  }
  Conn* c = conn_for(ud);
  if (c == nullptr) {
    // A bookkeeping bug if it happens, but the provided buffers it names must still go back.
    if (bufs_ && (cqe.flags & IORING_CQE_F_BUFFER)) {
      const auto bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      bufs_->consume(bid, cqe.res > 0 ? static_cast<std::size_t>(cqe.res) : 0, u_.recv_bundle, [](const char*, std::size_t) {});
    }
    return;
  }
  switch (ud.op) {
    case Op::recv: on_recv(*c, cqe); break;
    case Op::send: on_send(*c, cqe.res); break;
    case Op::send_zc: on_send(*c, cqe.res); break;
    case Op::shutdown: --c->inflight; break;
    case Op::delay:
      --c->inflight;
      c->ring_delay_armed = false;
      if (cqe.res == -ETIME && c->state == ConnState::delaying) start_send(*c);
      break;
    default: break;
  }
  settle(*c);
}

}  // namespace ringbench
