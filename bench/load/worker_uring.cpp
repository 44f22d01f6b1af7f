// The load generator's io_uring engine (`ringbench load --engine uring`): the I/O loop only — request
// bookkeeping, response parsing and reconnect policy live in ConnCore (conn.cpp), as for the epoll
// engine (worker.cpp). Read top to bottom: user_data layout, ring set-up, the three socket operations
// ConnCore asks for, the completion handlers, then run() — one io_uring_submit_and_wait_timeout per turn.
//
// Per connection at most one connect, or one send and one recv, are in flight. recv picks a provided buffer
// (one buffer ring per thread) when bytes arrive, so an idle connection holds no buffer. A closed slot takes
// its next socket only after the last completion of the previous one has arrived. With --client-lag the recv
// is a recvmsg that also brings the bytes' kernel receive time, into a small control buffer of the slot's.
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <system_error>
#include <vector>

#include "core/slot_token.hpp"
#include "load/conn.hpp"
#include "load/worker.hpp"
#include "uring/ring.hpp"

namespace ringbench::load {
namespace {

// user_data of every SQE, in the project's one layout (core/slot_token.hpp); the generation is Conn::gen
// when the operation was submitted, compared masked.
enum class UOp : uint8_t { connect = 1, send, recv };
using UserData = SlotToken<UOp>;

constexpr uint64_t encode(UOp op, uint32_t slot, uint32_t gen) { return encode_token(op, slot, gen); }
constexpr UserData decode(uint64_t ud) { return decode_token<UOp>(ud); }

constexpr uint16_t kBufGroup = 0;
constexpr uint32_t kBufCount = 512;          // provided buffers per thread (a power of two)
constexpr uint32_t kBufBytes = 16 * 1024;
constexpr unsigned kMinSqEntries = 64;
constexpr unsigned kMaxSqEntries = 4096;
constexpr unsigned kCqPerSq = 4;
constexpr int kSubmitRetries = 8;            // get_sqe(): a full SQ that will not drain is a ring failure
// One thread owns the ring and is the only one to submit; task work runs when it waits. TASKRUN_FLAG: the
// kernel marks the SQ ring while task work (recvs whose bytes are in) waits to be run.
constexpr unsigned kSetupFlags =
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_CQSIZE;
// Extra trips into the kernel per turn to run waiting task work before the turn's sends (it runs a bounded
// batch per trip): enough for a few thousand ready responses, and a bound when they keep arriving.
constexpr int kMaxTaskRunTrips = 64;

// Two SQEs per connection at most, so one turn rarely has to submit early.
unsigned sq_entries(uint32_t connections) {
  return std::clamp<unsigned>(std::bit_ceil(2 * std::max<uint32_t>(1, connections)), kMinSqEntries, kMaxSqEntries);
}

io_uring_params ring_params(unsigned sq) {
  io_uring_params p{};
  p.flags = kSetupFlags;
  p.cq_entries = sq * kCqPerSq;
  return p;
}

std::string errno_text(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

// What is in flight for a slot's socket, across generations: a slot is reused only at ops == 0.
struct SlotIo {
  uint32_t ops = 0;            // SQEs submitted and not yet completed
  bool send_armed = false;
  bool recv_armed = false;
  bool open_deferred = false;  // ConnCore asked for a new socket while the old one was draining
};

// A slot's recvmsg arguments (--client-lag): the kernel writes the SCM_TIMESTAMPNS message into `control`
// when the recv completes, so they live as long as the slot, not the submission.
struct TimedRecv {
  msghdr msg{};
  iovec iov{};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))]{};
};

class UringWorker final : public ConnCore {
 public:
  UringWorker(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out)
      : ConnCore(shared, plan, progress, out),
        ring_(sq_entries(plan.connections), ring_params(sq_entries(plan.connections))),
        bufs_(ring_.get(), kBufGroup, kBufCount, kBufBytes),
        io_(plan.connections),
        client_lag_(shared.opt->client_lag),
        timed_(client_lag_ ? plan.connections : 0) {}

  // Closing the ring (after this body) cancels what is still in flight.
  ~UringWorker() override {
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
  }

  std::string run();

 private:
  void open_socket(Conn& c) override;
  void close_socket(Conn& c) override;
  void start_send(Conn& c) override;
  void keep_reading(Conn& c) override {
    if (!io_[c.index].recv_armed) arm_recv(c);
  }
  void arm_recv(Conn& c);
  io_uring_sqe* get_sqe();
  bool submit_now();
  void track(io_uring_sqe* sqe, const Conn& c, UOp op);
  void on_cqe(const io_uring_cqe& cqe);
  void on_connect(Conn& c, int res);
  void on_send(Conn& c, int res);
  void on_recv(Conn& c, const io_uring_cqe& cqe);
  void reap();

  Ring ring_;
  BufRing bufs_;  // declared after ring_: unregistered before the ring closes
  std::vector<SlotIo> io_;
  const bool client_lag_;
  std::vector<TimedRecv> timed_;  // per slot, with --client-lag only
  int64_t realtime_offset_ = 0;   // --client-lag: refreshed every turn (the realtime clock may be stepped)
  std::string fatal_;
};

// Hands the SQ to the kernel now; false (and fatal_ set) when the ring itself failed.
bool UringWorker::submit_now() {
  const int rc = io_uring_submit(ring_.get());
  if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    fatal_ = errno_text("io_uring_submit", -rc);
    return false;
  }
  return true;
}

// Submits and retries when the submission queue is full. nullptr only on a ring failure (then fatal_ says
// which, and the loop ends after this turn).
io_uring_sqe* UringWorker::get_sqe() {
  for (int i = 0; i < kSubmitRetries; ++i) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(ring_.get())) return sqe;
    if (!submit_now()) return nullptr;
  }
  fatal_ = "io_uring_submit: the submission queue stays full";
  return nullptr;
}

void UringWorker::track(io_uring_sqe* sqe, const Conn& c, UOp op) {
  io_uring_sqe_set_data64(sqe, encode(op, c.index, c.gen));
  ++io_[c.index].ops;
}

void UringWorker::open_socket(Conn& c) {
  SlotIo& io = io_[c.index];
  if (io.ops > 0) {  // the previous socket's completions are still due: on_cqe opens when the last arrives
    io.open_deferred = true;
    return;
  }
  io_uring_sqe* sqe = nullptr;
  if (new_socket(c, 0) < 0 || (sqe = get_sqe()) == nullptr) {
    connect_failed(c);
    return;
  }
  // The SQE points at sh_.addr, which outlives the run.
  io_uring_prep_connect(sqe, c.fd, reinterpret_cast<const sockaddr*>(&sh_.addr), sh_.addr_len);
  track(sqe, c, UOp::connect);
}

// Operations in flight hold the socket open past close(); shutdown() ends them now (recv sees EOF, a pending
// connect or send fails), so the slot drains promptly and can take its next socket.
void UringWorker::close_socket(Conn& c) {
  if (io_[c.index].ops > 0) {
    // An SQE of this turn may still wait in the SQ naming c.fd by number: submitted after the close it could
    // run on whichever socket takes the number next, so it goes to the kernel now, while c.fd is still ours.
    if (io_uring_sq_ready(ring_.get()) > 0) submit_now();
    ::shutdown(c.fd, SHUT_RDWR);
  }
  ::close(c.fd);
}

// One send in flight per connection; its completion sends the rest, including requests assigned meanwhile.
void UringWorker::start_send(Conn& c) {
  SlotIo& io = io_[c.index];
  if (io.send_armed || c.pending == 0 || c.state != ConnState::open) return;
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) {
    lost(c, ErrorClass::write);
    return;
  }
  // The bytes are ConnCore's request copies, immutable for the whole run: valid until the completion.
  io_uring_prep_send(sqe, c.fd, write_span(c), write_len(c), MSG_NOSIGNAL);
  track(sqe, c, UOp::send);
  io.send_armed = true;
}

void UringWorker::arm_recv(Conn& c) {
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) {
    lost(c, ErrorClass::read);
    return;
  }
  // No memory of ours: the kernel takes a buffer of kBufGroup when bytes arrive and names it in the CQE.
  if (client_lag_) {
    TimedRecv& t = timed_[c.index];
    std::memset(t.control, 0, sizeof t.control);  // rx_timestamp_ns() stops at a zeroed header
    t.iov = {nullptr, bufs_.size()};
    t.msg = {};
    t.msg.msg_iov = &t.iov;
    t.msg.msg_iovlen = 1;
    t.msg.msg_control = t.control;
    t.msg.msg_controllen = sizeof t.control;
    io_uring_prep_recvmsg(sqe, c.fd, &t.msg, 0);
  } else {
    io_uring_prep_recv(sqe, c.fd, nullptr, bufs_.size(), 0);
  }
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufGroup;
  track(sqe, c, UOp::recv);
  io_[c.index].recv_armed = true;
}

void UringWorker::on_connect(Conn& c, int res) {
  if (res < 0) {  // refused, reset, or ended by close_socket after a connect timeout
    connect_failed(c);
    return;
  }
  connected(c);
  if (c.state == ConnState::open) arm_recv(c);
}

void UringWorker::on_send(Conn& c, int res) {
  if (res == -EINTR || res == -EAGAIN) {
    start_send(c);
    return;
  }
  if (res <= 0) {
    lost(c, ErrorClass::write);
    return;
  }
  wrote(c, static_cast<std::size_t>(res));
  start_send(c);
}

void UringWorker::on_recv(Conn& c, const io_uring_cqe& cqe) {
  const int res = cqe.res;
  const bool has_buf = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
  const auto bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  if (res > 0 && has_buf) {
    now_ = now_ns();
    if (client_lag_) rx_ns_ = rx_timestamp_ns(timed_[c.index].msg, realtime_offset_);
    const bool still_open = on_data(c, bufs_.buffer(bid), static_cast<std::size_t>(res));
    bufs_.recycle(bid);  // llhttp keeps no pointer into the bytes
    if (!still_open) return;
    read_done(c);  // the next recv is armed by keep_reading(), once on_drained() has kept the socket
    return;
  }
  if (has_buf) bufs_.recycle(bid);
  if (res == -ENOBUFS || res == -EINTR || res == -EAGAIN) {  // every provided buffer busy this instant
    arm_recv(c);
    return;
  }
  now_ = now_ns();
  if (res == 0) {
    on_eof(c);
  } else {
    lost(c, ErrorClass::read);
  }
}

void UringWorker::on_cqe(const io_uring_cqe& cqe) {
  const UserData ud = decode(cqe.user_data);
  if (ud.slot >= conns_.size()) {
    fatal_ = "io_uring: a completion names no connection slot";
    return;
  }
  Conn& c = conns_[ud.slot];
  SlotIo& io = io_[ud.slot];
  --io.ops;
  if (ud.op == UOp::send) io.send_armed = false;
  if (ud.op == UOp::recv) io.recv_armed = false;
  if ((c.gen & kTokenGenMask) != ud.gen || c.fd < 0) {  // for a closed socket: drop it, keep its buffer
    if (cqe.flags & IORING_CQE_F_BUFFER) bufs_.recycle(static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    if (io.ops == 0 && io.open_deferred) {
      io.open_deferred = false;
      if (c.fd < 0 && wants_socket(c)) open_conn(c);
    }
    return;
  }
  switch (ud.op) {
    case UOp::connect: on_connect(c, cqe.res); break;
    case UOp::send: on_send(c, cqe.res); break;
    case UOp::recv: on_recv(c, cqe); break;
  }
}

void UringWorker::reap() {
  io_uring* ring = ring_.get();
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(ring, head, cqe) {
    on_cqe(*cqe);
    ++seen;
  }
  io_uring_cq_advance(ring, seen);
}

std::string UringWorker::run() {
  io_uring* ring = ring_.get();
  begin_run();
  for (;;) {
    now_ = now_ns();
    if (!fatal_.empty() || !before_wait()) break;
    const int64_t wait = next_deadline() - now_;
    __kernel_timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, nullptr);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      fatal_ = errno_text("io_uring_submit_and_wait_timeout", -rc);
      break;
    }
    now_ = now_ns();
    if (client_lag_) realtime_offset_ = realtime_offset_ns();
    reap();
    // Every response already in is read before the turn's sends go out (as in worker.cpp).
    for (int trip = 0; trip < kMaxTaskRunTrips && fatal_.empty() &&
                       (IO_URING_READ_ONCE(*ring->sq.kflags) & IORING_SQ_TASKRUN) != 0;
         ++trip) {
      const int got = io_uring_get_events(ring);
      if (got < 0 && got != -EINTR && got != -EAGAIN && got != -EBUSY) {
        fatal_ = errno_text("io_uring_get_events", -got);
        break;
      }
      reap();
    }
    send_after_reads();
  }
  end_run();
  return fatal_;
}

}  // namespace

void run_worker_uring(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out,
                      std::string& fatal) {
  try {
    UringWorker w(shared, plan, progress, out);
    fatal = w.run();
  } catch (const std::system_error& e) {  // ring or buffer-ring set-up
    fatal = e.what();
  }
}

std::string uring_engine_unavailable() {
  try {
    Ring ring(kMinSqEntries, ring_params(kMinSqEntries));
    const BufRing bufs(ring.get(), kBufGroup, 1, kBufBytes);
  } catch (const std::system_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace ringbench::load
