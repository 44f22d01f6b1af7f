// The load generator's epoll engine (see worker.hpp): the I/O loop only — request bookkeeping, response
// parsing and reconnect policy live in ConnCore (conn.cpp). Read top to bottom: the three socket
// operations ConnCore asks for, the event handlers, then run() — one epoll_pwait2 loop.
//
// Per request the hot path costs one recv and one send: sockets are registered once, edge-triggered, for
// in and out, and a short recv proves the socket drained (no recv-until-EAGAIN, no epoll_ctl per request).
//
// A turn reads every ready socket first and sends the next requests after: a send costs several times a
// read (on loopback it also runs the server's TCP receive and wakes it), so reading and sending in turn
// would leave the last of a burst of responses in its socket behind every earlier send, and that wait
// would count as latency. Each request's start time is taken when it is sent.
#include "load/worker.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "load/conn.hpp"

namespace ringbench::load {
namespace {

constexpr std::size_t kReadBufferBytes = 64 * 1024;  // shared by all connections of a thread
constexpr int kMaxEvents = 1024;

class EpollWorker final : public ConnCore {
 public:
  EpollWorker(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out)
      : ConnCore(shared, plan, progress, out), rbuf_(new char[kReadBufferBytes]), client_lag_(shared.opt->client_lag) {}

  ~EpollWorker() override {
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (ep_ >= 0) ::close(ep_);
  }

  std::string run();

 private:
  void open_socket(Conn& c) override;
  void close_socket(Conn& c) override { ::close(c.fd); }  // also leaves the epoll set
  void start_send(Conn& c) override;
  void on_event(Conn& c, uint32_t events);
  void on_readable(Conn& c, bool peer_closed);
  ssize_t recv_timed(Conn& c);

  int64_t realtime_offset_ = 0;  // --client-lag: refreshed every wake-up (the realtime clock may be stepped)

  std::unique_ptr<char[]> rbuf_;
  int ep_ = -1;
  const bool client_lag_;
};

void EpollWorker::open_socket(Conn& c) {
  const int fd = new_socket(c, SOCK_NONBLOCK);
  if (fd < 0) {
    connect_failed(c);
    return;
  }
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sh_.addr), sh_.addr_len);
  if (rc != 0 && errno != EINPROGRESS) {
    connect_failed(c);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (uint64_t{c.gen} << 32) | c.index;
  if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    connect_failed(c);
    return;
  }
  if (rc == 0) connected(c);
}

// Writes what is pending until EAGAIN; the EPOLLOUT edge resumes it.
void EpollWorker::start_send(Conn& c) {
  while (c.pending > 0 && c.state == ConnState::open) {
    const ssize_t n = ::send(c.fd, write_span(c), write_len(c), MSG_NOSIGNAL);
    if (n > 0) {
      wrote(c, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    lost(c, ErrorClass::write);
    return;
  }
}

// `peer_closed`: the event carried RDHUP/HUP/ERR, so EOF may be queued behind the data and a short read
// proves nothing; read on until EOF or EAGAIN.
void EpollWorker::on_readable(Conn& c, bool peer_closed) {
  for (;;) {
    const ssize_t n = client_lag_ ? recv_timed(c) : ::recv(c.fd, rbuf_.get(), kReadBufferBytes, 0);
    if (n > 0) {
      now_ = now_ns();
      if (!on_data(c, rbuf_.get(), static_cast<std::size_t>(n))) return;
      if (static_cast<std::size_t>(n) < kReadBufferBytes && !peer_closed) break;  // a short read drained it
      continue;
    }
    if (n == 0) {
      now_ = now_ns();
      on_eof(c);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    now_ = now_ns();
    lost(c, ErrorClass::read);
    return;
  }
  read_done(c);
}

// recv() that also takes the kernel's receive time of the first segment read (SO_TIMESTAMPNS, set on the
// socket by new_socket) into rx_ns_; rx_ns_ is 0 when the read carried none.
ssize_t EpollWorker::recv_timed(Conn& c) {
  iovec iov{rbuf_.get(), kReadBufferBytes};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(c.fd, &msg, 0);
  rx_ns_ = n > 0 ? rx_timestamp_ns(msg, realtime_offset_) : 0;
  return n;
}

void EpollWorker::on_event(Conn& c, uint32_t events) {
  if (c.state == ConnState::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      now_ = now_ns();
      connect_failed(c);
      return;
    }
    if (!(events & (EPOLLOUT | EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    connected(c);
  }
  if (c.state != ConnState::open) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
    on_readable(c, (events & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0);
  } else if (events & EPOLLOUT) {
    start_send(c);
  }
}

std::string EpollWorker::run() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return std::string("epoll_create1: ") + std::strerror(errno);
  begin_run();
  std::string fatal;
  std::vector<epoll_event> events(kMaxEvents);
  for (;;) {
    now_ = now_ns();
    if (!before_wait()) break;
    const int64_t wait = next_deadline() - now_;
    const timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    const int n = ::epoll_pwait2(ep_, events.data(), kMaxEvents, &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      fatal = std::string("epoll_pwait2: ") + std::strerror(errno);
      break;
    }
    now_ = now_ns();
    if (client_lag_) realtime_offset_ = realtime_offset_ns();
    for (int i = 0; i < n; ++i) {
      const uint64_t data = events[static_cast<std::size_t>(i)].data.u64;
      Conn& c = conns_[static_cast<uint32_t>(data)];
      if (c.gen != static_cast<uint32_t>(data >> 32) || c.fd < 0) continue;  // an event for a closed socket
      on_event(c, events[static_cast<std::size_t>(i)].events);
    }
    send_after_reads();
  }
  end_run();
  return fatal;
}

}  // namespace

void run_worker(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out,
                std::string& fatal) {
  EpollWorker w(shared, plan, progress, out);
  fatal = w.run();
}

}  // namespace ringbench::load
