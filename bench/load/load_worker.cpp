// The load generator's per-thread loop (see load_worker.hpp). Read top to bottom: connection slots, the
// llhttp response callbacks, the connection life cycle, then run() — one epoll_pwait2 loop.
//
// Per request the hot path costs one recv and one send: sockets are registered once, edge-triggered, for
// in and out, and a short recv proves the socket drained (no recv-until-EAGAIN, no epoll_ctl per request).
#include "load/load_worker.hpp"

#include <fcntl.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

namespace ringbench::load {
namespace {

constexpr std::size_t kReadBufferBytes = 64 * 1024;  // shared by all connections of a thread
constexpr int kMaxEvents = 1024;
constexpr int64_t kReconnectBackoffNs = 2'000'000;   // after a failed connect, per connection
constexpr int64_t kMaxSweepNs = 10'000'000;          // timeouts are checked at least this often

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double rusage_thread_cpu_s() {
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  const auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

enum class ConnState : uint8_t { closed, connecting, open };

// One client connection slot. Requests assigned to it and not yet answered sit in its ring of start times
// (Worker::starts_, `pipeline` entries per slot): send time in the closed loop, intended send time in the
// open loop (coordinated-omission correction, as wrk2).
struct Conn {
  llhttp_t parser;
  class Worker* worker = nullptr;
  int fd = -1;
  uint32_t index = 0;
  uint32_t gen = 0;           // bumped on close: epoll events of an earlier socket in this slot are dropped
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

class Worker {
 public:
  Worker(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out)
      : sh_(shared), opt_(*shared.opt), plan_(plan), progress_(progress), out_(out),
        pipeline_(opt_.keepalive ? std::max<uint32_t>(1, opt_.pipeline) : 1),
        per_conn_(opt_.keepalive ? opt_.requests_per_conn : 1),
        req_len_(shared.request.size()),
        budget_(plan.requests),
        conns_(plan.connections),
        starts_(std::size_t{plan.connections} * pipeline_),
        rbuf_(new char[kReadBufferBytes]) {
    // pipeline_+1 copies: a write resumes anywhere inside the first copy and spans up to pipeline_ requests.
    for (uint32_t i = 0; i <= pipeline_; ++i) wbuf_ += shared.request;
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = on_message_begin;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
    head_request_ = opt_.method == "HEAD";
    const int64_t timeout_ns = static_cast<int64_t>(opt_.timeout_s * 1e9);
    timeout_ns_ = timeout_ns > 0 ? timeout_ns : INT64_MAX;
    sweep_every_ns_ = std::clamp<int64_t>(timeout_ns / 4, 1'000'000, kMaxSweepNs);
    if (plan.rate > 0) interval_ns_ = 1e9 / plan.rate;
    for (uint32_t i = 0; i < plan.connections; ++i) {
      conns_[i].index = i;
      conns_[i].worker = this;
    }
  }

  ~Worker() {
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (ep_ >= 0) ::close(ep_);
  }

  std::string run();

 private:
  // ---- llhttp response callbacks (parser.data is the Conn) ----
  static int on_message_begin(llhttp_t* p) {
    auto* c = static_cast<Conn*>(p->data);
    c->msg_started = true;
    c->body_off = 0;
    c->body_bad = false;
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    auto* c = static_cast<Conn*>(p->data);
    // A HEAD reply carries Content-Length but no body; 1 tells llhttp so.
    return c->worker->head_request_ ? 1 : 0;
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t len) {
    auto* c = static_cast<Conn*>(p->data);
    const std::string& want = c->worker->opt_.expect_body;
    if (!want.empty()) {
      if (c->body_off + len > want.size() || std::memcmp(want.data() + c->body_off, at, len) != 0) c->body_bad = true;
      c->body_off += len;
    }
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    auto* c = static_cast<Conn*>(p->data);
    return c->worker->response_done(*c, p->status_code, llhttp_should_keep_alive(p) != 0);
  }

  int response_done(Conn& c, int status, bool keep_alive);

  // ---- connection life cycle ----
  void open_conn(Conn& c);
  void connected(Conn& c);
  void connect_failed(Conn& c);
  void close_conn(Conn& c);
  void reopen(Conn& c);
  void lost(Conn& c, ErrorClass cls);
  void fail_inflight(Conn& c, ErrorClass cls);
  void on_event(Conn& c, uint32_t events);
  void on_readable(Conn& c, bool peer_closed);
  void flush(Conn& c);
  void fill(Conn& c);
  void assign(Conn& c, int64_t start_ns);
  void make_idle(Conn& c);

  // ---- loop helpers ----
  bool may_issue(const Conn& c) const {
    return budget_ > 0 && (per_conn_ == 0 || c.issued < per_conn_);
  }
  bool wants_socket(const Conn& c) const {
    return (c.inflight > 0 || budget_ > 0) && !sh_.abort.load(std::memory_order_relaxed);
  }
  bool measuring(int64_t t) const { return t >= sh_.measure_start_ns && (sh_.end_ns == 0 || t < sh_.end_ns); }
  void count_error(ErrorClass cls, uint64_t n = 1);
  void start_ramped(int64_t now);
  void retry_connects(int64_t now);
  void dispatch_open_loop(int64_t now);
  void sweep_timeouts(int64_t now);
  int64_t next_deadline(int64_t now) const;
  bool finished() const { return budget_ == 0 && total_inflight_ == 0; }
  int64_t ramp_start(uint32_t slot) const;

  RunShared& sh_;
  const LoadOptions& opt_;
  const WorkerPlan plan_;
  WorkerProgress& progress_;
  WorkerResult& out_;
  const uint32_t pipeline_;
  const uint32_t per_conn_;   // requests per socket (0: unlimited)
  const std::size_t req_len_;
  uint64_t budget_;           // requests not yet assigned
  std::vector<Conn> conns_;   // fixed size: llhttp keeps pointers to its Conn
  std::vector<int64_t> starts_;
  std::unique_ptr<char[]> rbuf_;
  std::string wbuf_;
  llhttp_settings_t settings_{};
  bool head_request_ = false;
  int ep_ = -1;
  int64_t now_ = 0;           // time of the latest recv or wake-up
  int64_t timeout_ns_ = 0;
  int64_t sweep_every_ns_ = 0;
  int64_t next_sweep_ = 0;
  double interval_ns_ = 0;    // open loop: between intended send times
  double next_intended_ = 0;  // open loop: intended send time of the next request (ns)
  std::vector<uint32_t> idle_;   // open loop: open connections with room for another request
  std::vector<uint32_t> retry_;  // slots waiting to reconnect
  uint32_t next_ramp_ = 0;       // slots [0, next_ramp_) have been started
  uint64_t total_inflight_ = 0;
  uint32_t open_now_ = 0;
};

void Worker::count_error(ErrorClass cls, uint64_t n) {
  if (!measuring(now_)) return;
  out_.errors[static_cast<std::size_t>(cls)] += n;
  const uint64_t total = sh_.measured_errors.fetch_add(n, std::memory_order_relaxed) + n;
  if (total > opt_.max_errors) sh_.abort.store(true, std::memory_order_relaxed);
}

int Worker::response_done(Conn& c, int status, bool keep_alive) {
  c.msg_started = false;
  if (c.inflight == 0) return -1;  // a response nobody asked for: llhttp reports a callback error
  const int64_t start = starts_[std::size_t{c.index} * pipeline_ + c.head];
  c.head = (c.head + 1) % pipeline_;
  --c.inflight;
  --total_inflight_;
  ++c.answered;
  c.busy_since = now_;
  if (!keep_alive) c.close_after = true;
  if (measuring(now_)) {
    ++out_.completed;
    out_.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ - start)));
    ++out_.status[status >= 100 && status < 600 ? status : 0];
    const bool status_ok = opt_.expect_status ? status == opt_.expect_status : status >= 200 && status < 300;
    const bool body_ok = opt_.expect_body.empty() || (!c.body_bad && c.body_off == opt_.expect_body.size());
    if (!status_ok) {
      count_error(ErrorClass::status);
    } else if (!body_ok) {
      count_error(ErrorClass::body);
    } else {
      ++out_.ok;
    }
  }
  // After a closing response nothing more on this socket is ours to parse.
  return c.close_after ? HPE_PAUSED : 0;
}

void Worker::assign(Conn& c, int64_t start_ns) {
  starts_[std::size_t{c.index} * pipeline_ + (c.head + c.inflight) % pipeline_] = start_ns;
  if (c.inflight == 0) c.busy_since = now_;
  ++c.inflight;
  ++total_inflight_;
  ++c.issued;
  c.pending += req_len_;
  --budget_;
  if (measuring(now_)) ++out_.sent;
}

// Closed loop: keep `pipeline_` requests outstanding while the budget lasts.
void Worker::fill(Conn& c) {
  while (c.inflight < pipeline_ && may_issue(c)) assign(c, now_);
}

void Worker::make_idle(Conn& c) {
  if (!c.in_idle && c.state == ConnState::open && c.inflight < pipeline_ && !c.close_after &&
      (per_conn_ == 0 || c.issued < per_conn_)) {
    c.in_idle = true;
    idle_.push_back(c.index);
  }
}

// Writes what is pending. wbuf_ is immutable for the whole run, so a partial write simply resumes later.
void Worker::flush(Conn& c) {
  while (c.pending > 0 && c.state == ConnState::open) {
    const std::size_t len = std::min(c.pending, wbuf_.size() - c.write_off);
    const ssize_t n = ::send(c.fd, wbuf_.data() + c.write_off, len, MSG_NOSIGNAL);
    if (n > 0) {
      c.pending -= static_cast<std::size_t>(n);
      c.write_off = (c.write_off + static_cast<std::size_t>(n)) % req_len_;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // the EPOLLOUT edge resumes it
    lost(c, ErrorClass::write);
    return;
  }
}

void Worker::open_conn(Conn& c) {
  c.retry_at = 0;
  const int fd = ::socket(sh_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {  // EMFILE and friends: count, back off, try again
    connect_failed(c);
    return;
  }
  c.fd = fd;
  ++open_now_;
  out_.peak_open = std::max(out_.peak_open, open_now_);
  ++out_.connects;
  c.state = ConnState::connecting;
  c.busy_since = now_;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // best effort: each request is one write
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

void Worker::connected(Conn& c) {
  c.state = ConnState::open;
  llhttp_init(&c.parser, HTTP_RESPONSE, &settings_);
  c.parser.data = &c;
  c.msg_started = false;
  c.close_after = false;
  c.issued = c.inflight;  // requests carried over from a lost socket count against this one's allowance
  c.answered = 0;
  c.pending = std::size_t{c.inflight} * req_len_;  // ... and are sent again in full
  c.write_off = 0;
  c.busy_since = now_;
  if (interval_ns_ > 0) {
    flush(c);
    make_idle(c);
  } else {
    fill(c);
    flush(c);
  }
}

// Every request on the slot fails as a connect error; with nothing in flight a failed connect still consumes
// one request of the budget, so -n terminates against a dead server. The slot retries after a back-off.
void Worker::connect_failed(Conn& c) {
  fail_inflight(c, ErrorClass::connect);
  close_conn(c);
  if (!wants_socket(c)) return;
  c.retry_at = now_ + kReconnectBackoffNs;
  retry_.push_back(c.index);
}

void Worker::close_conn(Conn& c) {
  if (c.fd >= 0) {
    ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    --open_now_;
  }
  c.state = ConnState::closed;
  c.in_idle = false;  // a stale idle-stack entry is skipped by dispatch_open_loop
  ++c.gen;
  c.pending = 0;
}

// Closes the socket and, while there is work for the slot, opens a new one at once.
void Worker::reopen(Conn& c) {
  close_conn(c);
  if (wants_socket(c)) open_conn(c);
}

void Worker::fail_inflight(Conn& c, ErrorClass cls) {
  if (c.inflight > 0) {
    count_error(cls, c.inflight);
    total_inflight_ -= c.inflight;
  } else if (cls == ErrorClass::connect) {
    count_error(cls);
    if (budget_ > 0) --budget_;
  }
  c.inflight = 0;
  c.head = 0;
}

// The socket ended (EOF, reset, failed write). Requests the server never began answering on a socket that
// already served responses are resent on a new one (a keep-alive close racing our next request, or a server
// that closes after each reply without saying so); every other unanswered request fails with `cls`.
void Worker::lost(Conn& c, ErrorClass cls) {
  const bool resend = !c.msg_started && (c.answered > 0 || c.close_after);
  if (!resend) fail_inflight(c, cls);
  reopen(c);
}

// `peer_closed`: the event carried RDHUP/HUP/ERR, so EOF may be queued behind the data and a short read
// proves nothing; read on until EOF or EAGAIN.
void Worker::on_readable(Conn& c, bool peer_closed) {
  for (;;) {
    const ssize_t n = ::recv(c.fd, rbuf_.get(), kReadBufferBytes, 0);
    if (n > 0) {
      now_ = now_ns();
      const llhttp_errno_t err = llhttp_execute(&c.parser, rbuf_.get(), static_cast<std::size_t>(n));
      if (c.close_after) {  // the server said it closes: unanswered requests go out on a new socket
        reopen(c);
        return;
      }
      if (err != HPE_OK) {  // garbage: every request on the socket fails as a parse error
        if (c.inflight == 0) count_error(ErrorClass::parse);  // e.g. a response nobody asked for
        fail_inflight(c, ErrorClass::parse);
        reopen(c);
        return;
      }
      if (static_cast<std::size_t>(n) < kReadBufferBytes && !peer_closed) break;  // a short read drained it
      continue;
    }
    if (n == 0) {
      now_ = now_ns();
      // EOF completes a response delimited by the end of the connection (no Content-Length, not chunked).
      if (c.msg_started && llhttp_finish(&c.parser) != HPE_OK && c.inflight == 0 && !c.close_after) {
        count_error(ErrorClass::parse);  // an unasked response delimited by EOF
        c.msg_started = false;
      }
      lost(c, ErrorClass::read);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    now_ = now_ns();
    lost(c, ErrorClass::read);
    return;
  }
  if (per_conn_ != 0 && c.issued >= per_conn_ && c.inflight == 0) {  // --requests-per-conn: the client closes
    reopen(c);
    return;
  }
  if (interval_ns_ > 0) {
    make_idle(c);
  } else {
    fill(c);
  }
  flush(c);
}

void Worker::on_event(Conn& c, uint32_t events) {
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
    flush(c);
  }
}

int64_t Worker::ramp_start(uint32_t slot) const {
  // Slots are interleaved across threads so every thread ramps over the whole window.
  const uint64_t global = uint64_t{slot} * opt_.threads + plan_.index;
  const double frac = static_cast<double>(global) / static_cast<double>(std::max<uint32_t>(1, opt_.connections));
  return sh_.t0_ns + static_cast<int64_t>(opt_.ramp_s * 1e9 * frac);
}

void Worker::start_ramped(int64_t now) {
  while (next_ramp_ < conns_.size() && ramp_start(next_ramp_) <= now && budget_ > 0) {
    Conn& c = conns_[next_ramp_++];
    open_conn(c);
  }
}

void Worker::retry_connects(int64_t now) {
  // open_conn() may fail again and re-queue the slot, so walk a copy taken out of retry_.
  std::vector<uint32_t> due;
  due.swap(retry_);
  for (const uint32_t i : due) {
    Conn& c = conns_[i];
    if (c.retry_at == 0 || c.fd >= 0) continue;  // already reopened another way
    if (c.retry_at > now) {
      retry_.push_back(i);
    } else if (wants_socket(c)) {
      open_conn(c);
    }
  }
}

// Open loop: every request has an intended send time on a fixed schedule. It goes out on any connection
// with room; when none has, it waits — and its latency still counts from the intended time.
void Worker::dispatch_open_loop(int64_t now) {
  while (next_intended_ <= static_cast<double>(now) && budget_ > 0 && !idle_.empty()) {
    Conn& c = conns_[idle_.back()];
    idle_.pop_back();
    if (!c.in_idle) continue;
    c.in_idle = false;
    if (c.state != ConnState::open || c.inflight >= pipeline_ || c.close_after ||
        (per_conn_ != 0 && c.issued >= per_conn_)) {
      continue;
    }
    assign(c, static_cast<int64_t>(next_intended_));
    next_intended_ += interval_ns_;
    flush(c);
    make_idle(c);
  }
}

void Worker::sweep_timeouts(int64_t now) {
  next_sweep_ = now + sweep_every_ns_;
  for (Conn& c : conns_) {
    if (c.state == ConnState::connecting && now - c.busy_since > timeout_ns_) {
      connect_failed(c);
    } else if (c.state == ConnState::open && c.inflight > 0 && now - c.busy_since > timeout_ns_) {
      fail_inflight(c, ErrorClass::timeout);
      reopen(c);
    }
  }
}

int64_t Worker::next_deadline(int64_t now) const {
  int64_t d = next_sweep_;
  if (sh_.end_ns != 0) d = std::min(d, sh_.end_ns);
  if (next_ramp_ < conns_.size() && budget_ > 0) d = std::min(d, ramp_start(next_ramp_));
  for (const uint32_t i : retry_) d = std::min(d, conns_[i].retry_at);
  if (interval_ns_ > 0 && !idle_.empty() && budget_ > 0) d = std::min(d, static_cast<int64_t>(next_intended_));
  return std::max(d, now);
}

std::string Worker::run() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return std::string("epoll_create1: ") + std::strerror(errno);
  const double cpu0 = rusage_thread_cpu_s();
  now_ = now_ns();
  const int64_t wall0 = now_;
  next_sweep_ = now_ + sweep_every_ns_;
  next_intended_ = static_cast<double>(sh_.t0_ns);
  std::string fatal;
  std::vector<epoll_event> events(kMaxEvents);
  for (;;) {
    now_ = now_ns();
    if (sh_.abort.load(std::memory_order_relaxed) || (sh_.end_ns != 0 && now_ >= sh_.end_ns) || finished()) break;
    start_ramped(now_);
    if (!retry_.empty()) retry_connects(now_);
    if (interval_ns_ > 0) dispatch_open_loop(now_);
    if (now_ >= next_sweep_) sweep_timeouts(now_);
    progress_.completed.store(out_.completed, std::memory_order_relaxed);
    progress_.errors.store(sh_.measured_errors.load(std::memory_order_relaxed), std::memory_order_relaxed);
    if (finished()) break;

    const int64_t wait = next_deadline(now_) - now_;
    const timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    const int n = ::epoll_pwait2(ep_, events.data(), kMaxEvents, &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      fatal = std::string("epoll_pwait2: ") + std::strerror(errno);
      break;
    }
    now_ = now_ns();
    for (int i = 0; i < n; ++i) {
      const uint64_t data = events[static_cast<std::size_t>(i)].data.u64;
      Conn& c = conns_[static_cast<uint32_t>(data)];
      if (c.gen != static_cast<uint32_t>(data >> 32) || c.fd < 0) continue;  // an event for a closed socket
      on_event(c, events[static_cast<std::size_t>(i)].events);
    }
  }
  out_.finished_ns = now_;
  out_.wall_s = static_cast<double>(now_ - wall0) / 1e9;
  out_.cpu_s = rusage_thread_cpu_s() - cpu0;
  progress_.completed.store(out_.completed, std::memory_order_relaxed);
  return fatal;
}

}  // namespace

void run_worker(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out,
                std::string& fatal) {
  Worker w(shared, plan, progress, out);
  fatal = w.run();
}

}  // namespace ringbench::load
