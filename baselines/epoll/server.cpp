// `ringbench serve epoll`: the asyncio/uvicorn analogue, written the way nginx, libuv and redis's ae do it:
// non-blocking sockets, one edge-triggered epoll loop per --threads (each with its own SO_REUSEPORT
// listener), and every delay and timeout on user-space timer wheels per loop that drive epoll_pwait2's
// timeout, so a request costs no timer syscall. The per-connection HTTP rules are those of
// baselines/common/blocking_connection.cpp, step for step. Run: build/ringbench serve epoll --port 0 --threads 2
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/delay_timers.hpp"
#include "core/handler.hpp"
#include "core/net.hpp"
#include "core/stop_signal.hpp"
#include "core/timer_wheel.hpp"
#include "core/wait_lateness.hpp"
#include "epoll/conn.hpp"
#include "epoll/server.hpp"

namespace ringbench {
namespace {

using epoll::Conn;
using epoll::Phase;
using epoll::Special;

constexpr int kMaxEvents = 512;
constexpr std::size_t kReadChunkBytes = 64 * 1024;  // one per loop: idle connections hold no read buffer
constexpr std::size_t kMaxIov = 64;
constexpr uint32_t kConnEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;


// What went wrong on connections: closed without failing the loop, counted, printed at exit.
struct Counters {
  uint64_t accepted = 0;
  uint64_t refused_503 = 0;     // over --max-connections, or out of descriptors (reserve-fd refusal)
  uint64_t accept_backoffs = 0;
  uint64_t resets = 0;          // EPOLLERR / ECONNRESET: the client went away (also while its request waited)
  uint64_t header_timeouts = 0;
  uint64_t send_timeouts = 0;
  uint64_t io_errors = 0;
};

// One event loop: its epoll instance, listener, connections and timer wheel. Runs on one thread.
class EpollLoop {
 public:
  EpollLoop(const ServerConfig& cfg, const Handler& handler, int listen_fd, bool shared_listener)
      : cfg_(cfg), handler_(handler), listen_fd_(listen_fd), shared_listener_(shared_listener),
        keepalive_ms_(effective_keepalive_ms(cfg)), now_(monotonic_ms()), wheel_(now_, 4096),
        delays_(monotonic_ns(), uint64_t{cfg.timer_slack_us} * 1000, 4096),
        read_buf_(new char[kReadChunkBytes]) {
    epfd_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epfd_) throw_errno("epoll_create1");
    wake_fd_ = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake_fd_) throw_errno("eventfd");
    reserve_fd_ = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!reserve_fd_) throw_errno("open /dev/null (reserve descriptor)");
    // A listener shared by several loops is level-triggered with EPOLLEXCLUSIVE (one loop woken per
    // connection); a loop's own SO_REUSEPORT listener is edge-triggered and drained to EAGAIN.
    const uint32_t listen_events = shared_listener_ ? (EPOLLIN | EPOLLEXCLUSIVE) : (EPOLLIN | EPOLLET);
    add(listen_fd_, listen_events, epoll::make_token(Special::listener));
    add(wake_fd_.get(), EPOLLIN, epoll::make_token(Special::wake));
  }

  int wake_fd() const { return wake_fd_.get(); }
  void set_peers(std::vector<int> wake_fds) { peer_wake_fds_ = std::move(wake_fds); }

  // The loop: wait for events or the next deadline, handle them, fire due timers; on SIGTERM drain.
  // Returns 0, or 1 when epoll itself failed.
  int run(const sigset_t& wait_mask) {
    std::array<epoll_event, kMaxEvents> events;
    for (;;) {
      if (stop_requested() && !draining_) start_drain();
      if (draining_ && (open_ == 0 || now_ >= drain_deadline_)) break;
      // The nearest deadline in ns: a delay's own --timer-slack-us slot, not the next whole millisecond
      // (see delay_timers.hpp), hence epoll_pwait2's timespec.
      std::optional<uint64_t> due = earliest_deadline_ns(wheel_, delays_);
      if (draining_ && (!due || drain_deadline_ * 1'000'000 < *due)) due = drain_deadline_ * 1'000'000;
      const uint64_t wait_began = monotonic_ns();
      const uint64_t wait_ns = due && *due > wait_began ? *due - wait_began : 0;
      const timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
      // SIGTERM is blocked except inside epoll_pwait2, so a stop cannot slip in between the check above
      // and the wait: it interrupts the wait instead.
      const int n = ::epoll_pwait2(epfd_.get(), events.data(), kMaxEvents, due ? &timeout : nullptr, &wait_mask);
      if (n < 0 && errno != EINTR) {
        std::fprintf(stderr, "ringbench serve epoll: epoll_pwait2: %s\n", std::strerror(errno));
        return 1;
      }
      now_ns_ = monotonic_ns();
      now_ = now_ns_ / 1'000'000;
      if (due) late_wakeups_.record(wait_began, *due, now_ns_);
      for (int i = 0; i < n; ++i) dispatch(events[i].data.u64, events[i].events);
      fire_timers();
    }
    close_all();
    print_counters();
    return 0;
  }

 private:
  void dispatch(uint64_t token, uint32_t ev) {
    const uint32_t slot = epoll::token_slot(token);
    if (slot == static_cast<uint32_t>(Special::listener)) {
      if (!accept_paused_ && !draining_) accept_all();
      return;
    }
    if (slot == static_cast<uint32_t>(Special::wake)) {
      uint64_t v;
      while (::read(wake_fd_.get(), &v, sizeof v) > 0) {
      }
      return;
    }
    Conn* c = lookup(token);
    if (c == nullptr) return;  // closed earlier in this batch
    on_conn_event(*c, ev);
  }

  Conn* lookup(uint64_t token) {
    const uint32_t slot = epoll::token_slot(token);
    if (slot >= conns_.size()) return nullptr;
    Conn& c = conns_[slot];
    return c.fd >= 0 && c.gen == epoll::token_gen(token) ? &c : nullptr;
  }

  // ---- accepting -------------------------------------------------------------------------------------

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        ++counters_.accepted;
        adopt(fd);
        continue;
      }
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || err == ECONNABORTED) continue;
      if ((err == EMFILE || err == ENFILE) && refuse_with_reserve_fd()) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        // Leave the rest in the backlog and look again later: no busy loop on a listener that stays ready.
        ++counters_.accept_backoffs;
        accept_paused_ = true;
        wheel_.insert(now_ + kAcceptBackoffMs, epoll::make_token(Special::accept_backoff));
        return;
      }
      std::fprintf(stderr, "ringbench serve epoll: accept4: %s\n", std::strerror(err));
      ++counters_.io_errors;
      return;
    }
  }

  // Out of descriptors: give back the spare one, take the waiting connection, tell it 503 and close it,
  // then take the spare again (libuv's trick). False when there is no spare to give.
  bool refuse_with_reserve_fd() {
    if (!reserve_fd_) return false;
    reserve_fd_.reset();
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      const std::string_view reply = Handler::error(503).head;
      [[maybe_unused]] const ssize_t w = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(fd, SHUT_WR);
      // Take in what the client already sent, so the close is a FIN rather than a reset.
      [[maybe_unused]] const ssize_t r = ::recv(fd, read_buf_.get(), kReadChunkBytes, MSG_DONTWAIT);
      ::close(fd);
      ++counters_.refused_503;
    }
    reserve_fd_ = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    return fd >= 0 && reserve_fd_;
  }

  void adopt(int fd) {
    const uint32_t slot = alloc_slot();
    Conn& c = conns_[slot];
    c.fd = fd;
    c.phase = Phase::reading;
    c.rd_ready = c.peer_eof = c.out_armed = false;
    c.parser.reset();
    c.pending.clear();
    c.head_off = c.body_off = 0;
    c.request_deadline = 0;
    c.idle_deadline = now_ + cfg_.header_timeout_ms;
    c.timer = TimerId{};
    tune_accepted(fd);
    if (!add(fd, kConnEvents, epoll::make_token(slot, c.gen))) {
      ++counters_.io_errors;
      release(c);
      return;
    }
    ++open_;
    if (serving_ >= cfg_.max_connections) {
      ++counters_.refused_503;
      c.counted = false;
      start_reply(c, Handler::error(503));
      return;
    }
    c.counted = true;
    ++serving_;
    set_deadline(c, c.idle_deadline);
  }

  uint32_t alloc_slot() {
    if (!free_slots_.empty()) {
      const uint32_t s = free_slots_.back();
      free_slots_.pop_back();
      return s;
    }
    if (conns_.size() >= epoll::kMaxSlot) throw std::length_error("connection table full");
    conns_.emplace_back(cfg_.limits);  // a deque never moves existing connections (the parser points at itself)
    conns_.back().slot = static_cast<uint32_t>(conns_.size() - 1);
    return conns_.back().slot;
  }

  // ---- events ----------------------------------------------------------------------------------------

  void on_conn_event(Conn& c, uint32_t ev) {
    if (ev & EPOLLERR) {
      // A reset: whatever the connection was doing (even waiting out its delay) is dropped at once.
      ++counters_.resets;
      close_conn(c);
      return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) c.rd_ready = true;
    if (ev & (EPOLLRDHUP | EPOLLHUP)) c.peer_eof = true;
    switch (c.phase) {
      case Phase::reading: read_input(c); break;
      case Phase::lingering: discard_input(c); break;
      case Phase::writing:
        if ((ev & EPOLLOUT) && continue_write(c) && c.phase == Phase::reading) resume(c);
        break;
      case Phase::waiting: break;  // input stays in the socket until the reply is out (rd_ready remembers)
    }
  }

  // Reads while the connection wants input: each chunk goes through the parser and handler at once.
  void read_input(Conn& c) {
    while (c.rd_ready && c.phase == Phase::reading) {
      const ssize_t r = ::recv(c.fd, read_buf_.get(), kReadChunkBytes, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          c.rd_ready = false;
          break;
        }
        if (errno == ECONNRESET) ++counters_.resets; else ++counters_.io_errors;
        close_conn(c);
        return;
      }
      if (r == 0) {  // the client closed: as in blocking_connection, whatever was half-received is dropped
        close_conn(c);
        return;
      }
      // A short read emptied the socket; edge-triggered epoll reports the next arrival, so skip the
      // recv that would only say EAGAIN (nginx does the same). After EPOLLRDHUP read on to the EOF.
      if (static_cast<std::size_t>(r) < kReadChunkBytes && !c.peer_eof) c.rd_ready = false;
      if (!serve_input(c, std::string_view(read_buf_.get(), static_cast<std::size_t>(r)))) return;
    }
    if (c.phase == Phase::reading) await_more_input(c);
  }

  // blocking_connection's inner loop: answer every complete request in `input`, in order. Stops when a
  // reply has to wait (delay, full socket), keeping the unparsed rest in c.pending. False if `c` closed.
  bool serve_input(Conn& c, std::string_view input) {
    while (!input.empty() && c.phase == Phase::reading) {
      const bool force_close = keepalive_ms_ == 0 || draining_;
      std::optional<Action> action = handler_.next(c.parser, input, force_close, c.scratch);
      if (!action) break;
      if (action->delay_ms > 0) {
        keep_pending(c, input);
        c.reply = action->reply;
        c.phase = Phase::waiting;
        // No timeout runs while a request waits (as the blocking server); the delay counts from now.
        wheel_.cancel(c.timer);
        c.timer = TimerId{};
        c.delay_timer = delays_.insert(monotonic_ns(), action->delay_ms, token_for(c));
        return true;
      }
      if (!start_reply(c, action->reply)) return false;
      if (c.phase != Phase::reading) {
        keep_pending(c, input);
        return true;
      }
    }
    keep_pending(c, input);
    return true;
  }

  // The unparsed bytes in `input` (never a view of c.pending itself) become c.pending.
  static void keep_pending(Conn& c, std::string_view input) { c.pending.assign(input); }

  // Between requests or mid-request with nothing left to parse: arm the matching deadline.
  void await_more_input(Conn& c) {
    const bool mid = c.parser.mid_request();
    if (mid && c.request_deadline == 0) c.request_deadline = now_ + cfg_.header_timeout_ms;
    if (!mid && draining_) {  // idle during a drain: close now
      close_conn(c);
      return;
    }
    set_deadline(c, mid ? c.request_deadline : c.idle_deadline);
  }

  // ---- replies ---------------------------------------------------------------------------------------

  // Sends `reply` now; on a full socket the rest goes out on EPOLLOUT. False if `c` was closed.
  bool start_reply(Conn& c, const Reply& reply) {
    c.reply = reply;
    c.head_off = c.body_off = 0;
    c.phase = Phase::writing;
    return continue_write(c);
  }

  bool continue_write(Conn& c) {
    const int rc = send_some(c);
    if (rc < 0) {
      if (rc == -ECONNRESET || rc == -EPIPE) ++counters_.resets; else ++counters_.io_errors;
      close_conn(c);
      return false;
    }
    if (rc == 0) {  // socket full: wait for EPOLLOUT, bounded by the send timeout since this progress
      if (!c.out_armed) {
        if (!modify(c.fd, kConnEvents | EPOLLOUT, token_for(c))) {
          ++counters_.io_errors;
          close_conn(c);
          return false;
        }
        c.out_armed = true;  // kept: edge-triggered EPOLLOUT fires only after a write filled the socket
      }
      set_deadline(c, now_ + cfg_.send_timeout_ms);
      return true;
    }
    return reply_sent(c);
  }

  // Writes until the reply is out (1), the socket is full (0) or the connection failed (-errno).
  int send_some(Conn& c) {
    const Reply& r = c.reply;
    for (;;) {
      const uint64_t head_left = r.head.size() - c.head_off;
      ssize_t w;
      if (r.body_len == 0) {
        w = ::send(c.fd, r.head.data() + c.head_off, head_left, MSG_NOSIGNAL);
      } else {
        std::array<iovec, kMaxIov> iov;
        std::size_t n = 0;
        if (head_left > 0) iov[n++] = iovec{const_cast<char*>(r.head.data() + c.head_off), head_left};
        n += pattern_iovecs(c.body_off, r.body_len - c.body_off, iov.data() + n, kMaxIov - n);
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = n;
        w = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
      }
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
      }
      const uint64_t sent = static_cast<uint64_t>(w);
      const uint64_t from_head = std::min(sent, head_left);
      c.head_off += from_head;
      c.body_off += sent - from_head;
      if (c.head_off == r.head.size() && c.body_off == r.body_len) return 1;
    }
  }

  // blocking_connection after a send: close (lingering after an error), or back to reading with the
  // keep-alive deadline, then the next pipelined request and more input. False if `c` closed.
  bool reply_sent(Conn& c) {
    if (c.reply.close) {
      if (c.reply.status >= 400) {
        start_linger(c);
      } else {
        close_conn(c);
      }
      return false;
    }
    c.phase = Phase::reading;
    c.request_deadline = 0;
    c.idle_deadline = now_ + keepalive_ms_;
    return true;
  }

  // After a delay or a full socket: finish the reply, then go on with what the connection holds.
  void resume(Conn& c) {
    if (!(c.phase == Phase::reading)) return;
    if (!c.pending.empty()) {
      const std::string held = std::move(c.pending);  // serve_input may refill c.pending
      c.pending.clear();
      if (!serve_input(c, held)) return;
      if (c.phase != Phase::reading) return;
    }
    if (c.rd_ready) {
      read_input(c);
    } else {
      await_more_input(c);
    }
  }

  void start_linger(Conn& c) {
    ::shutdown(c.fd, SHUT_WR);
    c.phase = Phase::lingering;
    c.pending.clear();
    set_deadline(c, now_ + cfg_.linger_ms);
    c.rd_ready = true;
    discard_input(c);
  }

  void discard_input(Conn& c) {
    while (c.rd_ready) {
      const ssize_t r = ::recv(c.fd, read_buf_.get(), kReadChunkBytes, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.rd_ready = false;
        return;
      }
      if (r <= 0) {  // EOF or error: the client has the reply (or is gone)
        close_conn(c);
        return;
      }
    }
  }

  // ---- timers ----------------------------------------------------------------------------------------

  // One wheel entry per connection. Moving a deadline later keeps the entry (it fires early and is
  // re-armed then), so a keep-alive request costs no wheel operation; moving it earlier re-inserts.
  void set_deadline(Conn& c, uint64_t deadline) {
    c.deadline = deadline;
    if (wheel_.pending(c.timer) && c.timer_at <= deadline) return;
    wheel_.cancel(c.timer);
    c.timer = wheel_.insert(deadline, token_for(c));
    c.timer_at = deadline;
  }

  void fire_timers() {
    uint64_t token = 0;
    while (delays_.pop_expired(now_ns_, token)) {
      Conn* c = lookup(token);
      if (c == nullptr) continue;  // cannot happen (closing cancels)
      c->delay_timer = TimerId{};
      if (c->phase != Phase::waiting) continue;
      c->phase = Phase::reading;  // the delay is over: answer
      if (start_reply(*c, c->reply) && c->phase == Phase::reading) resume(*c);
    }
    while (wheel_.pop_expired(now_, token)) {
      if (epoll::token_slot(token) == static_cast<uint32_t>(Special::accept_backoff)) {
        accept_paused_ = false;
        if (!draining_) accept_all();
        continue;
      }
      Conn* c = lookup(token);
      if (c == nullptr) continue;  // cannot happen (closing cancels), but a late expiry is harmless
      c->timer = TimerId{};
      if (now_ < c->deadline) {  // the deadline moved later since this entry was scheduled
        c->timer = wheel_.insert(c->deadline, token);
        c->timer_at = c->deadline;
        continue;
      }
      on_deadline(*c);
    }
  }

  void on_deadline(Conn& c) {
    switch (c.phase) {
      case Phase::waiting: return;  // no timeout runs while a request waits (DelayTimers ends it)
      case Phase::reading:
        if (c.parser.mid_request()) {  // stalled mid-request: tell it why, then linger
          ++counters_.header_timeouts;
          start_reply(c, Handler::error(408));
        } else {
          close_conn(c);  // idle keep-alive connection
        }
        return;
      case Phase::writing:
        ++counters_.send_timeouts;
        close_conn(c);
        return;
      case Phase::lingering: close_conn(c); return;
    }
  }

  // ---- lifetime --------------------------------------------------------------------------------------

  // Stop accepting (after taking what the kernel already queued), close idle connections, let the rest
  // finish until --drain-ms, and wake the other loops so they do the same.
  void start_drain() {
    draining_ = true;
    drain_deadline_ = now_ + cfg_.drain_ms;
    if (!accept_paused_) accept_all();
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, listen_fd_, nullptr);
    for (int fd : peer_wake_fds_) {
      const uint64_t one = 1;
      [[maybe_unused]] const ssize_t w = ::write(fd, &one, sizeof one);
    }
    // Idle connections may hold a request whose event is still queued (or was just accepted): read it
    // and answer it; those with nothing close (await_more_input closes idle connections while draining).
    for (Conn& c : conns_) {
      if (c.fd >= 0 && c.phase == Phase::reading && !c.parser.mid_request()) {
        c.rd_ready = true;
        read_input(c);
      }
    }
  }

  void close_conn(Conn& c) {
    wheel_.cancel(c.timer);
    delays_.cancel(c.delay_timer);
    --open_;
    if (c.counted) --serving_;
    release(c);
  }

  // Frees the slot; closing the descriptor also removes it from the epoll set.
  void release(Conn& c) {
    ::close(c.fd);
    c.fd = -1;
    c.timer = TimerId{};
    c.delay_timer = TimerId{};
    c.counted = false;
    c.gen = c.gen + 1 == 0 ? 1 : c.gen + 1;
    c.pending.clear();
    c.pending.shrink_to_fit();
    free_slots_.push_back(c.slot);
  }

  void close_all() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) close_conn(c);
    }
  }

  static uint64_t token_for(const Conn& c) { return epoll::make_token(c.slot, c.gen); }

  bool add(int fd, uint32_t events, uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    return ::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  bool modify(int fd, uint32_t events, uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    return ::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
  }

  void print_counters() const {
    const Counters& k = counters_;
    std::fprintf(stderr,
                 "ringbench serve epoll: loop done: %llu accepted, %llu refused (503), %llu accept backoffs, "
                 "%llu resets, %llu header timeouts, %llu send timeouts, %llu I/O errors, "
                 "late_wakeups %llu (%.1f ms in all, worst %.1f ms, of %llu timed waits)\n",
                 static_cast<unsigned long long>(k.accepted), static_cast<unsigned long long>(k.refused_503),
                 static_cast<unsigned long long>(k.accept_backoffs), static_cast<unsigned long long>(k.resets),
                 static_cast<unsigned long long>(k.header_timeouts),
                 static_cast<unsigned long long>(k.send_timeouts), static_cast<unsigned long long>(k.io_errors),
                 static_cast<unsigned long long>(late_wakeups_.count()), late_wakeups_.total_ms(),
                 late_wakeups_.worst_ms(), static_cast<unsigned long long>(late_wakeups_.waits()));
  }

  const ServerConfig& cfg_;
  const Handler& handler_;
  const int listen_fd_;
  const bool shared_listener_;
  const uint32_t keepalive_ms_;
  uint64_t now_;
  uint64_t now_ns_ = 0;  // the wake-up's clock reading; now_ is the same in ms
  TimerWheel wheel_;    // timeouts and the accept back-off (1 ms slots)
  DelayTimers delays_;  // the handler's delays (--timer-slack-us slots)
  WaitLateness late_wakeups_;  // waits that ended more than a tolerance past their deadline
  std::unique_ptr<char[]> read_buf_;
  Fd epfd_;
  Fd wake_fd_;
  Fd reserve_fd_;
  std::vector<int> peer_wake_fds_;
  std::deque<Conn> conns_;
  std::vector<uint32_t> free_slots_;
  std::size_t open_ = 0;     // connections with a descriptor (including refused ones still lingering)
  std::size_t serving_ = 0;  // connections that count against --max-connections
  bool accept_paused_ = false;
  bool draining_ = false;
  uint64_t drain_deadline_ = 0;
  Counters counters_;
};

}  // namespace

int run_epoll_server(const ServerConfig& cfg) {
  std::vector<Fd> listeners = listen_many(
      {cfg.host, cfg.port, static_cast<int>(cfg.backlog), cfg.reuseport, true}, cfg.threads);
  const bool shared = listeners.size() < cfg.threads;
  if (shared) set_nonblocking(listeners.front().get());
  const Handler handler(cfg);

  // SIGTERM/SIGINT stay blocked in every loop thread except inside epoll_pwait2 (see EpollLoop::run).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t wait_mask;
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &stop_signals, &wait_mask); rc != 0) {
    throw_errno("pthread_sigmask", rc);
  }
  sigdelset(&wait_mask, SIGTERM);
  sigdelset(&wait_mask, SIGINT);

  std::vector<std::unique_ptr<EpollLoop>> loops;
  for (uint32_t i = 0; i < cfg.threads; ++i) {
    const int fd = listeners[shared ? 0 : i].get();
    loops.push_back(std::make_unique<EpollLoop>(cfg, handler, fd, shared));
  }
  std::vector<int> wake_fds;
  for (auto& l : loops) wake_fds.push_back(l->wake_fd());
  for (auto& l : loops) l->set_peers(wake_fds);

  announce_listening(cfg.host, local_port(listeners.front().get()));
  std::vector<int> results(loops.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = loops[i]->run(wait_mask); });
  }
  results[0] = loops[0]->run(wait_mask);
  for (auto& t : threads) t.join();
  return *std::max_element(results.begin(), results.end());
}

}  // namespace ringbench
