// ConnCore: the engine-independent half of a load-generator thread (see conn.hpp). Read top to
// bottom: set-up, the llhttp response callbacks, the request ring, the connection life cycle, then the
// loop-turn housekeeping (ramp, retries, open-loop dispatch, timeouts).
#include "load/conn.hpp"

#include "core/clock.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace ringbench::load {
namespace {

constexpr int64_t kReconnectBackoffNs = 2'000'000;   // after a failed connect, per connection
constexpr int64_t kMaxSweepNs = 10'000'000;          // timeouts are checked at least this often

double rusage_thread_cpu_s() {
  rusage ru{};
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  const auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

}  // namespace

int64_t now_ns() { return static_cast<int64_t>(monotonic_ns()); }

int64_t realtime_offset_ns() {
  timespec rt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  const int64_t mono = now_ns();
  return int64_t{rt.tv_sec} * 1'000'000'000 + rt.tv_nsec - mono;
}

int64_t rx_timestamp_ns(const msghdr& msg, int64_t realtime_offset) {
  for (const cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr && cm->cmsg_len != 0;
       cm = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(cm))) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
        cm->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
      return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec - realtime_offset;
    }
  }
  return 0;
}

ConnCore::ConnCore(RunShared& shared, const WorkerPlan& plan, WorkerProgress& progress, WorkerResult& out)
    : sh_(shared), conns_(plan.connections), opt_(*shared.opt), plan_(plan), progress_(progress), out_(out),
      pipeline_(opt_.keepalive ? std::max<uint32_t>(1, opt_.pipeline) : 1),
      per_conn_(opt_.keepalive ? opt_.requests_per_conn : 1),
      req_len_(shared.request.size()),
      budget_(plan.requests),
      starts_(std::size_t{plan.connections} * pipeline_) {
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
    conns_[i].core = this;
  }
}

void ConnCore::begin_run() {
  cpu0_ = rusage_thread_cpu_s();
  now_ = now_ns();
  wall0_ = now_;
  next_sweep_ = now_ + sweep_every_ns_;
  next_intended_ = static_cast<double>(sh_.t0_ns);
}

void ConnCore::end_run() {
  out_.finished_ns = now_;
  out_.wall_s = static_cast<double>(now_ - wall0_) / 1e9;
  out_.cpu_s = rusage_thread_cpu_s() - cpu0_;
  progress_.completed.store(out_.completed, std::memory_order_relaxed);
}

// ---- llhttp response callbacks (parser.data is the Conn) ----

int ConnCore::on_message_begin(llhttp_t* p) {
  auto* c = static_cast<Conn*>(p->data);
  c->msg_started = true;
  c->body_off = 0;
  c->body_bad = false;
  return 0;
}

int ConnCore::on_headers_complete(llhttp_t* p) {
  auto* c = static_cast<Conn*>(p->data);
  // A HEAD reply carries Content-Length but no body; 1 tells llhttp so.
  return c->core->head_request_ ? 1 : 0;
}

int ConnCore::on_body(llhttp_t* p, const char* at, std::size_t len) {
  auto* c = static_cast<Conn*>(p->data);
  const std::string& want = c->core->opt_.expect_body;
  if (!want.empty()) {
    if (c->body_off + len > want.size() || std::memcmp(want.data() + c->body_off, at, len) != 0) c->body_bad = true;
    c->body_off += len;
  }
  return 0;
}

int ConnCore::on_message_complete(llhttp_t* p) {
  auto* c = static_cast<Conn*>(p->data);
  return c->core->response_done(*c, p->status_code, llhttp_should_keep_alive(p) != 0);
}

void ConnCore::count_error(ErrorClass cls, uint64_t n) {
  if (!measuring(now_)) return;
  out_.errors[static_cast<std::size_t>(cls)] += n;
  const uint64_t total = sh_.measured_errors.fetch_add(n, std::memory_order_relaxed) + n;
  if (total > opt_.max_errors) sh_.abort.store(true, std::memory_order_relaxed);
}

int ConnCore::response_done(Conn& c, int status, bool keep_alive) {
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
    out_.per_ms.record(now_ - sh_.measure_start_ns);
    out_.latency.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ - start)));
    if (rx_ns_ > 0) {
      out_.client_lag.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ - rx_ns_)));
      out_.arrival_latency.record(static_cast<uint64_t>(std::max<int64_t>(0, rx_ns_ - start)));
    }
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

// ---- the request ring ----

void ConnCore::assign(Conn& c, int64_t start_ns) {
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
void ConnCore::fill(Conn& c) {
  while (c.inflight < pipeline_ && may_issue(c)) assign(c, now_);
}

void ConnCore::make_idle(Conn& c) {
  if (!c.in_idle && c.state == ConnState::open && c.inflight < pipeline_ && !c.close_after &&
      (per_conn_ == 0 || c.issued < per_conn_)) {
    c.in_idle = true;
    idle_.push_back(c.index);
  }
}

std::size_t ConnCore::write_len(const Conn& c) const { return std::min(c.pending, wbuf_.size() - c.write_off); }

// wbuf_ is immutable for the whole run, so a partial write simply resumes later.
void ConnCore::wrote(Conn& c, std::size_t n) {
  c.pending -= n;
  c.write_off = (c.write_off + n) % req_len_;
}

// ---- connection life cycle ----

void ConnCore::open_conn(Conn& c) {
  c.retry_at = 0;
  open_socket(c);
}

int ConnCore::new_socket(Conn& c, int flags) {
  const int fd = ::socket(sh_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  if (fd < 0) return -errno;  // EMFILE and friends: the caller counts, backs off and tries again
  c.fd = fd;
  ++open_now_;
  out_.peak_open = std::max(out_.peak_open, open_now_);
  ++out_.connects;
  c.state = ConnState::connecting;
  c.busy_since = now_;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // best effort: each request is one write
  // Best effort too: a socket without receive times simply records no client lag.
  if (opt_.client_lag) ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  return fd;
}

void ConnCore::connected(Conn& c) {
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
    make_idle(c);
  } else {
    fill(c);
  }
  start_send(c);
}

// Every request on the slot fails as a connect error; with nothing in flight a failed connect still consumes
// one request of the budget, so -n terminates against a dead server. The slot retries after a back-off.
void ConnCore::connect_failed(Conn& c) {
  fail_inflight(c, ErrorClass::connect);
  close_conn(c);
  if (!wants_socket(c)) return;
  c.retry_at = now_ + kReconnectBackoffNs;
  retry_.push_back(c.index);
}

void ConnCore::close_conn(Conn& c) {
  if (c.fd >= 0) {
    close_socket(c);
    c.fd = -1;
    --open_now_;
  }
  c.state = ConnState::closed;
  c.in_idle = false;  // a stale idle-stack entry is skipped by dispatch_open_loop
  ++c.gen;
  c.pending = 0;
}

// Closes the socket and, while there is work for the slot, opens a new one at once.
void ConnCore::reopen(Conn& c) {
  close_conn(c);
  if (wants_socket(c)) open_conn(c);
}

void ConnCore::fail_inflight(Conn& c, ErrorClass cls) {
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
void ConnCore::lost(Conn& c, ErrorClass cls) {
  const bool resend = !c.msg_started && (c.answered > 0 || c.close_after);
  if (!resend) fail_inflight(c, cls);
  reopen(c);
}

bool ConnCore::on_data(Conn& c, const char* data, std::size_t n) {
  const llhttp_errno_t err = llhttp_execute(&c.parser, data, n);
  if (c.close_after) {  // the server said it closes: unanswered requests go out on a new socket
    reopen(c);
    return false;
  }
  if (err != HPE_OK) {  // garbage: every request on the socket fails as a parse error
    if (c.inflight == 0) count_error(ErrorClass::parse);  // e.g. a response nobody asked for
    fail_inflight(c, ErrorClass::parse);
    reopen(c);
    return false;
  }
  return true;
}

void ConnCore::on_eof(Conn& c) {
  // EOF completes a response delimited by the end of the connection (no Content-Length, not chunked).
  if (c.msg_started && llhttp_finish(&c.parser) != HPE_OK && c.inflight == 0 && !c.close_after) {
    count_error(ErrorClass::parse);  // an unasked response delimited by EOF
    c.msg_started = false;
  }
  lost(c, ErrorClass::read);
}

void ConnCore::on_drained(Conn& c) {
  if (per_conn_ != 0 && c.issued >= per_conn_ && c.inflight == 0) {  // --requests-per-conn: the client closes
    reopen(c);
    return;
  }
  if (interval_ns_ > 0) {
    make_idle(c);
  } else {
    fill(c);
  }
  start_send(c);
}

void ConnCore::send_after_reads() {
  for (const uint64_t key : drained_) {
    Conn& c = conns_[static_cast<uint32_t>(key)];
    const auto gen = static_cast<uint32_t>(key >> 32);
    const auto same_socket_open = [&] { return c.gen == gen && c.state == ConnState::open; };
    if (!same_socket_open()) continue;  // closed meanwhile
    now_ = now_ns();
    on_drained(c);
    if (same_socket_open()) keep_reading(c);
  }
  drained_.clear();
}

// ---- loop-turn housekeeping ----

int64_t ConnCore::ramp_start(uint32_t slot) const {
  // Slots are interleaved across threads so every thread ramps over the whole window.
  const uint64_t global = uint64_t{slot} * opt_.threads + plan_.index;
  const double frac = static_cast<double>(global) / static_cast<double>(std::max<uint32_t>(1, opt_.connections));
  return sh_.t0_ns + static_cast<int64_t>(opt_.ramp_s * 1e9 * frac);
}

void ConnCore::start_ramped() {
  while (next_ramp_ < conns_.size() && ramp_start(next_ramp_) <= now_ && budget_ > 0) {
    Conn& c = conns_[next_ramp_++];
    open_conn(c);
  }
}

void ConnCore::retry_connects() {
  // open_conn() may fail again and re-queue the slot, so walk a copy taken out of retry_.
  std::vector<uint32_t> due;
  due.swap(retry_);
  for (const uint32_t i : due) {
    Conn& c = conns_[i];
    if (c.retry_at == 0 || c.fd >= 0) continue;  // already reopened another way
    if (c.retry_at > now_) {
      retry_.push_back(i);
    } else if (wants_socket(c)) {
      open_conn(c);
    }
  }
}

// Open loop: every request has an intended send time on a fixed schedule. It goes out on any connection
// with room; when none has, it waits — and its latency still counts from the intended time.
void ConnCore::dispatch_open_loop() {
  while (next_intended_ <= static_cast<double>(now_) && budget_ > 0 && !idle_.empty()) {
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
    start_send(c);
    make_idle(c);
  }
}

void ConnCore::sweep_timeouts() {
  next_sweep_ = now_ + sweep_every_ns_;
  for (Conn& c : conns_) {
    if (c.state == ConnState::connecting && now_ - c.busy_since > timeout_ns_) {
      connect_failed(c);
    } else if (c.state == ConnState::open && c.inflight > 0 && now_ - c.busy_since > timeout_ns_) {
      fail_inflight(c, ErrorClass::timeout);
      reopen(c);
    }
  }
}

bool ConnCore::before_wait() {
  if (sh_.abort.load(std::memory_order_relaxed) || (sh_.end_ns != 0 && now_ >= sh_.end_ns) || finished()) {
    return false;
  }
  start_ramped();
  if (!retry_.empty()) retry_connects();
  if (interval_ns_ > 0) dispatch_open_loop();
  if (now_ >= next_sweep_) sweep_timeouts();
  progress_.completed.store(out_.completed, std::memory_order_relaxed);
  progress_.errors.store(sh_.measured_errors.load(std::memory_order_relaxed), std::memory_order_relaxed);
  return !finished();
}

int64_t ConnCore::next_deadline() const {
  int64_t d = next_sweep_;
  if (sh_.end_ns != 0) d = std::min(d, sh_.end_ns);
  if (next_ramp_ < conns_.size() && budget_ > 0) d = std::min(d, ramp_start(next_ramp_));
  for (const uint32_t i : retry_) d = std::min(d, conns_[i].retry_at);
  if (interval_ns_ > 0 && !idle_.empty() && budget_ > 0) d = std::min(d, static_cast<int64_t>(next_intended_));
  return std::max(d, now_);
}

}  // namespace ringbench::load
