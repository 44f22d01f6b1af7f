// One request's path through the io_uring loop: receive (multishot with provided buffers, or single
// recv), parse, wait out the handler's delay, send the reply (copying or zero-copy), keep-alive or
// linger after it. See loop.hpp.
#include "uring_server/loop.hpp"

#include <algorithm>

#include "uring/uapi.hpp"

namespace ringbench {
namespace {

// Pipelined bytes a connection may hold while it answers a request; past this it stops reading, so a
// client that floods pipelined requests meets TCP back-pressure as with the blocking server.
constexpr std::size_t kMaxPendingBytes = 64 * 1024;
// Below this a body is cheaper to copy than to pin: SENDMSG_ZC is used for larger bodies only.
constexpr uint64_t kZcMinBodyBytes = 16 * 1024;

}  // namespace

void UringLoop::arm_recv(Conn& c) {
  io_uring_sqe* sqe = get_sqe();
  if (u_.multishot_recv) {
    // Provided buffers: the kernel picks one per completion; it is ours until recycled.
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufGroup;
    // A bundle fills several buffers (consecutive ring entries) in one completion.
    if (u_.recv_bundle) sqe->ioprio |= uapi::kRecvSendBundle;
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
      // Every byte is parsed or copied into c.pending before consume() gives the buffers back.
      const auto bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      const uint32_t spanned = bufs_->consume(bid, len, u_.recv_bundle,
                                              [&](const char* data, std::size_t n) { on_bytes(c, data, n); });
      if (spanned > 1) {
        ++counters_.recv_multi_buffer;
        counters_.recv_buffers += spanned;
      }
      if (cqe.flags & uapi::kCqeFBufMore) ++counters_.recv_buf_kept;
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
      if (u_.zc_report_usage) sqe->ioprio |= uapi::kSendZcReportUsage;  // the notification says if it copied
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

}  // namespace ringbench
