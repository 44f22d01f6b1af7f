// The io_uring event loop; see loop.hpp. Per-connection rules follow the blocking server
// (baselines/common/blocking_connection.cpp) one for one: keep-alive, pipelined requests answered in order with
// their delays, header timeout -> 408 then linger, error reply -> linger, SIGTERM drain bounded by --drain-ms.
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

namespace ringbench {
namespace {

constexpr uint16_t kBufGroup = 0;
// Pipelined bytes a connection may hold while it answers a request; past this it stops reading, so a
// client that floods pipelined requests meets TCP back-pressure as with the blocking server.
constexpr std::size_t kMaxPendingBytes = 64 * 1024;
// Below this a body is cheaper to copy than to pin: SENDMSG_ZC is used for larger bodies only.
constexpr uint64_t kZcMinBodyBytes = 16 * 1024;
constexpr uint64_t kDrainGraceMs = 1000;      // after --drain-ms: how long cancelled closes may take
constexpr std::size_t kKeptStringBytes = 4096;  // larger per-connection strings are freed on release
constexpr uint32_t kMaxFixedFiles = 65536;
constexpr unsigned kPureWaitMaxSqes = 2;      // a tick (re)arm and one more: microseconds of kernel work

io_uring_params ring_params(const UringPlan& plan) {
  io_uring_params p{};
  p.flags = plan.setup_flags;
  p.cq_entries = plan.cq_entries;
  p.sq_thread_idle = plan.use.sqpoll_idle_ms;
  return p;
}

void trim(std::string& s) {
  s.clear();
  if (s.capacity() > kKeptStringBytes) s.shrink_to_fit();
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
      now_ns_(monotonic_ns()),
      now_ms_(now_ns_ / 1'000'000),
      ring_(u_.ring_entries, ring_params(shared.plan)),
      wheel_(now_ms_),
      delays_(now_ns_, uint64_t{shared.cfg.timer_slack_us} * 1000) {
  // Registering the ring fd saves a descriptor lookup on every io_uring_enter. Optional: when it fails
  // (older kernel) liburing keeps using the plain ring fd, so the result only decides the fast path.
  const bool registered = io_uring_register_ring_fd(ring_.get()) >= 0;
  if (!registered) ++counters_.ring_fd_unregistered;
  min_wait_ = {u_.min_wait_us, u_.min_wait_batch, registered};
  if (u_.buf_ring) {
    bufs_.emplace(ring_.get(), kBufGroup, u_.buf_count, u_.buf_size);
  }
  if (u_.fixed_files) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) throw_errno("getrlimit(RLIMIT_NOFILE)");
    const auto slots = static_cast<unsigned>(std::min<rlim_t>(rl.rlim_cur, kMaxFixedFiles));
    if (const int rc = io_uring_register_files_sparse(ring_.get(), slots); rc < 0) {
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
  return fatal_ == 0 ? 0 : 1;
}

// ---- ring plumbing -------------------------------------------------------------------------------

io_uring_sqe* UringLoop::get_sqe() {
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(ring_.get())) return sqe;
    if (fatal_ != 0) return dummy_sqe_.get();
    // The submission queue is full: hand it to the kernel now. -EBUSY means completions are backed up
    // (overflow); take them off the ring first so the kernel can make progress.
    const int rc = io_uring_submit(ring_.get());
    if (rc == -EBUSY || rc == -EAGAIN) {
      harvest();
    } else if (rc < 0 && rc != -EINTR) {
      fatal_ = rc;
    }
  }
}

int UringLoop::submit_and_wait() {
  if (min_wait_.min_wait_us == 0) return io_uring_submit_and_wait(ring_.get(), 1);
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
}

void UringLoop::update_clock() {
  now_ns_ = monotonic_ns();
  now_ms_ = now_ns_ / 1'000'000;
}

// One ring timeout stands for both wheels: armed (absolute time, ns) for the nearest deadline, and moved
// earlier with a timeout update when a nearer deadline appears. A tick that fires early pops nothing.
void UringLoop::arm_tick() {
  const std::optional<uint64_t> next = earliest_deadline_ns(wheel_, delays_);
  if (!next || (tick_armed_ && tick_at_ns_ <= *next)) return;
  tick_ts_.tv_sec = static_cast<int64_t>(*next / 1'000'000'000);
  tick_ts_.tv_nsec = static_cast<long long>(*next % 1'000'000'000);
  io_uring_sqe* sqe = get_sqe();
  if (tick_armed_) {
    io_uring_prep_timeout_update(sqe, &tick_ts_, encode_user_data(Op::tick, 0, 0), IORING_TIMEOUT_ABS);
    submit_op(sqe, Op::ignore, nullptr);
  } else {
    io_uring_prep_timeout(sqe, &tick_ts_, 0, IORING_TIMEOUT_ABS);
    submit_op(sqe, Op::tick, nullptr);
    tick_armed_ = true;
  }
  tick_at_ns_ = *next;
}

void UringLoop::expire_timers() {
  uint64_t token = 0;
  while (delays_.pop_expired(now_ns_, token)) {
    if (Conn* c = conn_for(decode_user_data(token))) {
      c->delay_timer = {};
      if (c->state == ConnState::delaying) start_send(*c);
      settle(*c);
    }
  }
  while (wheel_.pop_expired(now_ms_, token)) {
    const UserData ud = decode_user_data(token);
    switch (ud.op) {
      case Op::drain_end: on_drain_end(); break;
      case Op::accept_retry:
        accept_paused_ = false;
        if (!accept_armed_ && !draining_) arm_accept();
        break;
      case Op::deadline:
        if (Conn* c = conn_for(ud)) {
          on_deadline(*c);
          settle(*c);
        }
        break;
      default: break;
    }
  }
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
    default: break;
  }
  Conn* c = conn_for(ud);
  if (c == nullptr) {
    // A zero-copy notification may outlive its connection (its bytes are the process-lifetime pattern
    // block); anything else here would be a bookkeeping bug, but a provided buffer must still go back.
    if (bufs_ && (cqe.flags & IORING_CQE_F_BUFFER)) bufs_->recycle(static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    return;
  }
  switch (ud.op) {
    case Op::recv: on_recv(*c, cqe); break;
    case Op::send: on_send(*c, cqe.res); break;
    case Op::send_zc:
      if (!(cqe.flags & IORING_CQE_F_NOTIF)) on_send(*c, cqe.res);
      break;
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

// ---- listening side and stop ---------------------------------------------------------------------

void UringLoop::arm_accept() {
  io_uring_sqe* sqe = get_sqe();
  if (u_.fixed_files) {
    if (u_.multishot_accept) {
      io_uring_prep_multishot_accept_direct(sqe, listen_fd_, nullptr, nullptr, 0);
    } else {
      io_uring_prep_accept_direct(sqe, listen_fd_, nullptr, nullptr, 0, IORING_FILE_INDEX_ALLOC);
    }
  } else if (u_.multishot_accept) {
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }
  submit_op(sqe, Op::accept, nullptr);
  accept_armed_ = true;
}

void UringLoop::arm_wake() {
  // wake_value_ is the loop's own member: it outlives the read.
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof wake_value_, 0);
  submit_op(sqe, Op::wake, nullptr);
}

void UringLoop::on_accept(int res, uint32_t flags) {
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) accept_armed_ = false;
  if (res >= 0) {
    open_conn(res);
  } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
    // Out of descriptors: the connection stays in the backlog. Pause accepting for a moment instead of
    // retrying at once, which would spin on the same error.
    ++counters_.accept_out_of_fds;
    if (more) {
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_cancel64(sqe, encode_user_data(Op::accept, 0, 0), 0);
      submit_op(sqe, Op::ignore, nullptr);
    }
    if (!accept_paused_) {
      accept_paused_ = true;
      wheel_.insert(now_ms_ + kAcceptBackoffMs, encode_user_data(Op::accept_retry, 0, 0));
    }
  } else if (res != -ECANCELED) {
    ++counters_.accept_errors;  // ECONNABORTED and the like: that connection is gone, keep accepting
  }
  if (!accept_armed_ && !accept_paused_ && !draining_) arm_accept();
}

// A connection accepted while draining is served too (its request is on its way), as by the blocking
// server; --drain-ms bounds it like every other.
void UringLoop::open_conn(int fd) {
  ++counters_.accepted;
  // TCP_NODELAY is inherited from the listening socket (set in server.cpp): no syscall here.
  uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(conns_.size());
    conns_.push_back(std::make_unique<Conn>(cfg_.limits, slot));
  }
  Conn& c = *conns_[slot];
  ++live_;
  c.fd = fd;
  c.state = ConnState::reading;
  c.refused = shared_.open_connections.fetch_add(1, std::memory_order_relaxed) >= cfg_.max_connections;
  if (c.refused) {
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    ++counters_.refused_503;
    start_action(c, Action{0, Handler::error(503)});
    return;
  }
  c.idle_deadline = now_ms_ + cfg_.header_timeout_ms;  // the first request must start this soon
  set_read_deadline(c);
  arm_recv(c);
}

void UringLoop::begin_drain() {
  if (draining_) return;
  draining_ = true;
  wheel_.insert(now_ms_ + cfg_.drain_ms, encode_user_data(Op::drain_end, 0, 0));
  if (accept_armed_) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, encode_user_data(Op::accept, 0, 0), 0);
    submit_op(sqe, Op::ignore, nullptr);
  }
  // Connections already queued in the backlog are taken and served, as the blocking server does; new
  // ones are not waited for. (Direct descriptors cannot come from accept4: with --fixed-files the
  // backlog is left to the kernel.)
  if (!u_.fixed_files && set_nonblocking(listen_fd_) == 0) {
    for (int fd; (fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) open_conn(fd);
  }
  // Idle connections close at once; the others finish what they have started (bounded by --drain-ms).
  for (const std::unique_ptr<Conn>& p : conns_) {
    Conn& c = *p;
    if (c.state == ConnState::reading && c.served_any && !c.parser.mid_request() && c.pending.empty()) {
      close_conn(c);
      settle(c);
    }
  }
}

void UringLoop::on_drain_end() {
  if (drain_forced_) {
    give_up_ = true;
    return;
  }
  drain_forced_ = true;
  for (const std::unique_ptr<Conn>& p : conns_) {
    if (p->state == ConnState::free) continue;
    close_conn(*p);
    settle(*p);
  }
  wheel_.insert(now_ms_ + kDrainGraceMs, encode_user_data(Op::drain_end, 0, 0));
}

// ---- one connection ------------------------------------------------------------------------------

void UringLoop::arm_recv(Conn& c) {
  io_uring_sqe* sqe = get_sqe();
  if (u_.multishot_recv) {
    // Provided buffers: the kernel picks one per completion; it is ours until recycled.
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufGroup;
  } else {
    // c.recv_buf belongs to the connection until this recv completes (it is freed only with the slot).
    if (!c.recv_buf) c.recv_buf.reset(new char[u_.buf_size]);
    io_uring_prep_recv(sqe, c.fd, c.recv_buf.get(), u_.buf_size, 0);
  }
  submit_op(sqe, Op::recv, &c);
  ++c.inflight;
  c.recv_armed = true;
  c.recv_cancel_sent = false;
}

bool UringLoop::wants_recv(const Conn& c) const {
  switch (c.state) {
    case ConnState::reading:
    case ConnState::lingering: return !c.peer_eof;
    case ConnState::delaying:
    case ConnState::sending: return !c.peer_eof && c.pending.size() < kMaxPendingBytes;
    case ConnState::free:
    case ConnState::closing: break;
  }
  return false;
}

void UringLoop::on_recv(Conn& c, const Completion& cqe) {
  if (!(cqe.flags & IORING_CQE_F_MORE)) {
    c.recv_armed = false;
    --c.inflight;
  }
  if (cqe.res > 0) {
    const auto len = static_cast<std::size_t>(cqe.res);
    if (cqe.flags & IORING_CQE_F_BUFFER) {
      const auto bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      on_bytes(c, bufs_->buffer(bid), len);
      bufs_->recycle(bid);  // every byte is parsed or copied into c.pending by now
    } else {
      on_bytes(c, c.recv_buf.get(), len);
    }
  } else if (cqe.res == 0) {
    // The client shut down its side. A request already received is still answered (it may be reading).
    c.peer_eof = true;
    if (c.state == ConnState::reading || c.state == ConnState::lingering) close_conn(c);
  } else if (cqe.res == -ENOBUFS) {
    ++counters_.recv_enobufs;  // the data waits in the socket; re-armed below once buffers are back
  } else if (cqe.res != -ECANCELED) {
    ++counters_.recv_errors;  // ECONNRESET and the like: free everything now, even mid-delay
    close_conn(c);
  }
  if (!c.recv_armed && wants_recv(c)) arm_recv(c);
}

void UringLoop::on_bytes(Conn& c, const char* data, std::size_t len) {
  switch (c.state) {
    case ConnState::reading: parse_fresh(c, std::string_view(data, len)); return;
    case ConnState::delaying:
    case ConnState::sending:
      // A pipelined request: answered in order once the current reply is out.
      c.pending.append(data, len);
      if (c.pending.size() >= kMaxPendingBytes && c.recv_armed && u_.multishot_recv && !c.recv_cancel_sent) {
        ++counters_.recv_paused;
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel64(sqe, encode_user_data(Op::recv, c.slot, c.gen), 0);
        submit_op(sqe, Op::ignore, nullptr);
        c.recv_cancel_sent = true;
      }
      return;
    case ConnState::lingering:
    case ConnState::closing:
    case ConnState::free: return;  // discarded
  }
}

void UringLoop::parse_fresh(Conn& c, std::string_view input) {
  const bool force_close = keepalive_ms_ == 0 || draining_;
  std::optional<Action> action = handler_.next(c.parser, input, force_close, c.scratch);
  if (!action) {
    after_need_more(c);
    return;
  }
  c.pending.append(input.data(), input.size());
  start_action(c, *action);
}

void UringLoop::parse_pending(Conn& c) {
  const bool force_close = keepalive_ms_ == 0 || draining_;
  std::string_view input = c.pending;
  std::optional<Action> action = handler_.next(c.parser, input, force_close, c.scratch);
  if (!action) {
    c.pending.clear();
    after_need_more(c);
    return;
  }
  c.pending.erase(0, c.pending.size() - input.size());
  start_action(c, *action);
}

// Every byte was parsed and the request is not complete: the header timeout runs from its first byte.
void UringLoop::after_need_more(Conn& c) {
  if (c.parser.mid_request() && c.request_deadline == 0) c.request_deadline = now_ms_ + cfg_.header_timeout_ms;
  set_read_deadline(c);
}

void UringLoop::start_action(Conn& c, const Action& action) {
  set_deadline(c, DeadlineKind::none, 0);  // as the blocking server: no timeout while a request waits
  c.reply = action.reply;
  if (action.delay_ms > 0) {
    c.state = ConnState::delaying;
    arm_delay(c, action.delay_ms);
  } else {
    start_send(c);
  }
}

void UringLoop::arm_delay(Conn& c, uint32_t delay_ms) {
  if (u_.timer == TimerKind::ring) {
    // c.delay_ts belongs to the connection until the timeout's completion arrives.
    c.delay_ts.tv_sec = delay_ms / 1000;
    c.delay_ts.tv_nsec = static_cast<long long>(delay_ms % 1000) * 1'000'000;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_timeout(sqe, &c.delay_ts, 0, 0);
    submit_op(sqe, Op::delay, &c);
    sqe->flags &= static_cast<uint8_t>(~IOSQE_FIXED_FILE);  // a timeout names no file
    ++c.inflight;
    c.ring_delay_armed = true;
    return;
  }
  // From the current time, rounded up to the delay wheel's slots: a delay never ends early.
  update_clock();
  c.delay_timer = delays_.insert(now_ns_, delay_ms, encode_user_data(Op::delay, c.slot, c.gen));
}

void UringLoop::start_send(Conn& c) {
  c.state = ConnState::sending;
  c.sent = 0;
  set_deadline(c, DeadlineKind::send, now_ms_ + cfg_.send_timeout_ms);
  submit_send(c);
}

void UringLoop::submit_send(Conn& c) {
  const Reply& r = c.reply;
  const uint64_t head_len = r.head.size();
  const bool zc_body = u_.send_zc && r.body_len >= kZcMinBodyBytes;
  io_uring_sqe* sqe = get_sqe();
  // Reply bytes live in the response table, in c.scratch or in the pattern block; c.sendvec lives in
  // the connection. All of it outlives the send's completion.
  if (c.sent < head_len && (r.body_len == 0 || zc_body)) {
    // Fixed replies go out in one send; a zero-copy body is preceded by its (copied) head.
    io_uring_prep_send(sqe, c.fd, r.head.data() + c.sent, head_len - c.sent, MSG_NOSIGNAL);
    submit_op(sqe, Op::send, &c);
  } else {
    if (!c.sendvec) c.sendvec = std::make_unique<SendVec>();
    SendVec& v = *c.sendvec;
    std::size_t n = 0;
    if (c.sent < head_len) {
      v.iov[n++] = iovec{const_cast<char*>(r.head.data() + c.sent), head_len - c.sent};
    }
    const uint64_t body_off = c.sent > head_len ? c.sent - head_len : 0;
    n += pattern_iovecs(body_off, r.body_len - body_off, v.iov.data() + n, v.iov.size() - n);
    v.msg = msghdr{};
    v.msg.msg_iov = v.iov.data();
    v.msg.msg_iovlen = n;
    if (zc_body) {
      // The notification CQE may arrive after the connection is gone; the pattern block it pins is
      // process-lifetime memory, so only the send's own completion is waited for.
      io_uring_prep_sendmsg_zc(sqe, c.fd, &v.msg, MSG_NOSIGNAL);
      submit_op(sqe, Op::send_zc, &c);
    } else {
      io_uring_prep_sendmsg(sqe, c.fd, &v.msg, MSG_NOSIGNAL);
      submit_op(sqe, Op::send, &c);
    }
  }
  ++c.inflight;
}

void UringLoop::on_send(Conn& c, int res) {
  --c.inflight;
  if (c.state != ConnState::sending) return;
  if (res <= 0) {
    ++counters_.send_errors;  // EPIPE, ECONNRESET, ECANCELED: the client is gone
    close_conn(c);
    return;
  }
  c.sent += static_cast<uint64_t>(res);
  if (c.sent < c.reply.head.size() + c.reply.body_len) {
    set_deadline(c, DeadlineKind::send, now_ms_ + cfg_.send_timeout_ms);  // progress restarts the clock
    submit_send(c);
    return;
  }
  on_reply_sent(c);
}

void UringLoop::on_reply_sent(Conn& c) {
  if (c.reply.close) {
    if (c.reply.status >= 400) {
      begin_linger(c);
    } else {
      close_conn(c);
    }
    return;
  }
  c.state = ConnState::reading;
  c.served_any = true;
  c.request_deadline = 0;
  c.idle_deadline = now_ms_ + keepalive_ms_;
  // Answer every complete request already received before reading more.
  if (!c.pending.empty()) {
    parse_pending(c);
    if (c.state != ConnState::reading) return;
  }
  // Between requests a stop closes at once; so does a client that has shut down its side.
  if (c.peer_eof || (draining_ && !c.parser.mid_request())) {
    close_conn(c);
    return;
  }
  set_read_deadline(c);
  if (!c.recv_armed) arm_recv(c);
}

void UringLoop::begin_linger(Conn& c) {
  c.state = ConnState::lingering;
  c.pending.clear();
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_shutdown(sqe, c.fd, SHUT_WR);
  submit_op(sqe, Op::shutdown, &c);
  ++c.inflight;
  if (c.peer_eof) {
    close_conn(c);
    return;
  }
  set_deadline(c, DeadlineKind::linger, now_ms_ + cfg_.linger_ms);
  if (!c.recv_armed) arm_recv(c);
}

// Deadlines move lazily: the wheel entry stays where it is while the new deadline is later (it fires,
// sees the later deadline and re-inserts itself), so a keep-alive request costs no wheel operation.
void UringLoop::set_deadline(Conn& c, DeadlineKind kind, uint64_t at_ms) {
  c.deadline_kind = kind;
  c.deadline_at = at_ms;
  if (kind == DeadlineKind::none) return;
  if (wheel_.pending(c.deadline_timer) && c.deadline_armed_at <= at_ms) return;
  wheel_.cancel(c.deadline_timer);
  c.deadline_timer = wheel_.insert(at_ms, encode_user_data(Op::deadline, c.slot, c.gen));
  c.deadline_armed_at = at_ms;
}

void UringLoop::set_read_deadline(Conn& c) {
  set_deadline(c, DeadlineKind::read, c.parser.mid_request() ? c.request_deadline : c.idle_deadline);
}

void UringLoop::on_deadline(Conn& c) {
  c.deadline_timer = {};
  if (c.deadline_kind == DeadlineKind::none || c.state == ConnState::closing) return;
  if (now_ms_ < c.deadline_at) {
    c.deadline_timer = wheel_.insert(c.deadline_at, encode_user_data(Op::deadline, c.slot, c.gen));
    c.deadline_armed_at = c.deadline_at;
    return;
  }
  switch (c.deadline_kind) {
    case DeadlineKind::read:
      // A client cut off mid-request is told why; an idle keep-alive one is just closed.
      if (c.parser.mid_request()) {
        ++counters_.header_timeouts;
        c.pending.clear();
        start_action(c, Action{0, Handler::error(408)});
      } else {
        close_conn(c);
      }
      return;
    case DeadlineKind::send: ++counters_.send_timeouts; close_conn(c); return;
    case DeadlineKind::linger: close_conn(c); return;
    case DeadlineKind::none: return;
  }
}

// Starts closing: cancels everything in flight. The slot is released (settle) after the last completion.
void UringLoop::close_conn(Conn& c) {
  if (c.state == ConnState::closing || c.state == ConnState::free) return;
  c.state = ConnState::closing;
  wheel_.cancel(c.deadline_timer);
  c.deadline_timer = {};
  delays_.cancel(c.delay_timer);
  c.delay_timer = {};
  if (c.ring_delay_armed) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_timeout_remove(sqe, encode_user_data(Op::delay, c.slot, c.gen), 0);
    submit_op(sqe, Op::ignore, nullptr);
  }
  if (c.inflight > (c.ring_delay_armed ? 1 : 0)) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel_fd(sqe, c.fd, IORING_ASYNC_CANCEL_ALL | (u_.fixed_files ? IORING_ASYNC_CANCEL_FD_FIXED : 0));
    submit_op(sqe, Op::ignore, nullptr);
    sqe->flags &= static_cast<uint8_t>(~IOSQE_FIXED_FILE);  // the cancel's flag names the fd kind
  }
}

void UringLoop::settle(Conn& c) {
  if (c.state == ConnState::closing && c.inflight == 0) release(c);
}

void UringLoop::release(Conn& c) {
  if (u_.fixed_files) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_close_direct(sqe, static_cast<unsigned>(c.fd));
    submit_op(sqe, Op::ignore, nullptr);
  } else if (::close(c.fd) != 0) {
    ++counters_.close_errors;  // the descriptor is gone either way (Linux never retries a close)
  }
  if (!c.refused) shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  c.gen = next_generation(c.gen);  // completions still naming the old generation are now stale
  c.state = ConnState::free;
  c.fd = -1;
  c.parser.reset();
  trim(c.scratch);
  trim(c.pending);
  c.reply = Reply{};
  c.sent = 0;
  c.idle_deadline = c.request_deadline = c.deadline_at = c.deadline_armed_at = 0;
  c.deadline_kind = DeadlineKind::none;
  c.recv_armed = c.recv_cancel_sent = c.ring_delay_armed = c.peer_eof = c.refused = c.served_any = false;
  free_slots_.push_back(c.slot);
  --live_;
}

}  // namespace ringbench
