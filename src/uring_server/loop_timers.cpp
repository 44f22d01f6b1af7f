// The io_uring loop's timers and stop: the one ring timeout ("tick") that stands for both timer wheels,
// expiry of delays, deadlines and back-offs, each connection's deadline, and the SIGTERM drain bounded
// by --drain-ms. See loop.hpp.
#include "uring_server/loop.hpp"

#include <sys/socket.h>

#include "core/net.hpp"

namespace ringbench {
namespace {

constexpr uint64_t kDrainGraceMs = 1000;      // after --drain-ms: how long cancelled closes may take

}  // namespace

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

}  // namespace ringbench
