// The io_uring loop's listening side and connection lifecycle: accept (multishot or single, plain or
// direct descriptors), the wake-up read, opening a connection into the slot table, and closing it
// (cancel what is in flight, release the slot after its last completion). See loop.hpp.
#include "uring_server/loop.hpp"

#include <unistd.h>

#include "core/net.hpp"

namespace ringbench {
namespace {

constexpr std::size_t kKeptStringBytes = 4096;  // larger per-connection strings are freed on release

void trim(std::string& s) {
  s.clear();
  if (s.capacity() > kKeptStringBytes) s.shrink_to_fit();
}

}  // namespace

void UringLoop::arm_accept() {
  // A direct accept with a full table would take the connection off the backlog and then reset it: with
  // --fixed-files, clients wait in the backlog until a slot is free, and near the end of the table one
  // accept at a time is armed, so no burst of multishot completions can run past it.
  const uint32_t room = fixed_slots_ - fixed_used_;
  if (u_.fixed_files && room == 0) {
    ++counters_.accept_table_full;
    return;
  }
  accept_multishot_ = u_.multishot_accept && (!u_.fixed_files || room > fixed_headroom_);
  accept_cancel_sent_ = false;
  io_uring_sqe* sqe = get_sqe();
  if (u_.fixed_files) {
    if (accept_multishot_) {
      io_uring_prep_multishot_accept_direct(sqe, listen_fd_, nullptr, nullptr, 0);
    } else {
      io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, 0);
      // The kernel picks the slot. liburing 2.3's io_uring_prep_accept_direct stores index + 1, which
      // turns IORING_FILE_INDEX_ALLOC into 0, a plain accept whose descriptor is then used as an index.
      sqe->file_index = IORING_FILE_INDEX_ALLOC;
    }
  } else if (accept_multishot_) {
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }
  submit_op(sqe, Op::accept, nullptr);
  accept_armed_ = true;
}

void UringLoop::cancel_accept() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel64(sqe, encode_user_data(Op::accept, 0, 0), 0);
  submit_op(sqe, Op::ignore, nullptr);
  accept_cancel_sent_ = true;
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
    if (u_.fixed_files) ++fixed_used_;
    open_conn(res);
    // Near the end of the table the multishot accept ends; single accepts take over (arm_accept).
    if (u_.fixed_files && more && fixed_slots_ - fixed_used_ <= fixed_headroom_ && !accept_cancel_sent_) cancel_accept();
  } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
    // Out of descriptors: the connection stays in the backlog. Pause accepting for a moment instead of
    // retrying at once, which would spin on the same error.
    ++counters_.accept_out_of_fds;
    if (more && !accept_cancel_sent_) cancel_accept();
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
    submit_op(sqe, Op::close_direct, nullptr);
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
