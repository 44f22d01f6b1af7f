// Blocking per-connection loop; see blocking_connection.hpp.
#include "common/blocking_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>

#include "core/stop_signal.hpp"

namespace ringbench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kReadBufferBytes = 16 * 1024;
constexpr std::size_t kMaxIov = 64;

int64_t ms_until(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
}

// Waits until `fd` is readable or `deadline` passes. Returns >0 readable, 0 timed out, -errno on error.
// A stop signal interrupts the wait and returns -EINTR so the caller can re-check its deadlines.
int wait_readable(int fd, Clock::time_point deadline) {
  const int64_t ms = ms_until(deadline);
  if (ms <= 0) return 0;
  pollfd p{fd, POLLIN, 0};
  const int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
  return rc < 0 ? -errno : rc;
}

// Sleeps `ms`, resuming after signals, but gives up at `drain_deadline` once a stop was requested.
// Returns false when the drain deadline cut the wait short.
bool sleep_for_delay(uint32_t ms, const ServerConfig& cfg, Clock::time_point& drain_deadline) {
  const Clock::time_point until = Clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    Clock::time_point end = until;
    if (stop_requested()) {
      if (drain_deadline == Clock::time_point{}) drain_deadline = Clock::now() + std::chrono::milliseconds(cfg.drain_ms);
      end = std::min(until, drain_deadline);
    }
    const auto left = end - Clock::now();
    if (left <= Clock::duration::zero()) return end == until;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    if (::nanosleep(&ts, nullptr) == 0 && end == until) return true;
  }
}

}  // namespace

int send_reply_blocking(int fd, const Reply& reply) {
  std::array<iovec, kMaxIov> iov;
  uint64_t head_off = 0;
  uint64_t body_off = 0;
  while (head_off < reply.head.size() || body_off < reply.body_len) {
    std::size_t n = 0;
    if (head_off < reply.head.size()) {
      iov[n++] = iovec{const_cast<char*>(reply.head.data() + head_off), reply.head.size() - head_off};
    }
    n += pattern_iovecs(body_off, reply.body_len - body_off, iov.data() + n, kMaxIov - n);
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = n;
    const ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    uint64_t sent = static_cast<uint64_t>(w);
    const uint64_t from_head = std::min<uint64_t>(sent, reply.head.size() - head_off);
    head_off += from_head;
    body_off += sent - from_head;
  }
  return 0;
}

void linger_close_blocking(int fd, uint32_t linger_ms) {
  ::shutdown(fd, SHUT_WR);
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(linger_ms);
  std::array<char, 4096> sink;
  for (;;) {
    const int rc = wait_readable(fd, deadline);
    if (rc == -EINTR) continue;
    if (rc <= 0) return;
    const ssize_t r = ::recv(fd, sink.data(), sink.size(), 0);
    if (r == 0 || (r < 0 && errno != EINTR)) return;
  }
}

void serve_blocking_connection(int fd, const ServerConfig& cfg, const Handler& handler) {
  RequestParser parser(cfg.limits);
  std::string scratch;
  std::array<char, kReadBufferBytes> buf;
  std::string_view input;  // received bytes not yet parsed (pipelined requests)
  const uint32_t keepalive_ms = effective_keepalive_ms(cfg);
  Clock::time_point drain_deadline{};
  bool served_any = false;
  Clock::time_point request_deadline{};  // header timeout, armed at the first byte of a request
  Clock::time_point idle_deadline = Clock::now() + std::chrono::milliseconds(cfg.header_timeout_ms);

  timeval snd{static_cast<time_t>(cfg.send_timeout_ms / 1000), static_cast<suseconds_t>((cfg.send_timeout_ms % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);

  for (;;) {
    // Answer every complete request already received before reading more.
    while (!input.empty()) {
      const bool force_close = keepalive_ms == 0 || stop_requested();
      std::optional<Action> action = handler.next(parser, input, force_close, scratch);
      if (!action) break;
      if (action->delay_ms > 0 && !sleep_for_delay(action->delay_ms, cfg, drain_deadline)) return;
      if (send_reply_blocking(fd, action->reply) != 0) return;
      if (action->reply.close) {
        if (action->reply.status >= 400) linger_close_blocking(fd, cfg.linger_ms);
        return;
      }
      served_any = true;
      request_deadline = {};
      idle_deadline = Clock::now() + std::chrono::milliseconds(keepalive_ms);
    }
    if (parser.mid_request() && request_deadline == Clock::time_point{}) {
      request_deadline = Clock::now() + std::chrono::milliseconds(cfg.header_timeout_ms);
    }
    // Idle between requests: a stop closes at once; mid-request, or on a new connection whose request is
    // on its way, the client gets until its deadline.
    if (served_any && !parser.mid_request() && stop_requested()) return;
    Clock::time_point deadline = parser.mid_request() ? request_deadline : idle_deadline;
    if (stop_requested()) {
      if (drain_deadline == Clock::time_point{}) drain_deadline = Clock::now() + std::chrono::milliseconds(cfg.drain_ms);
      deadline = std::min(deadline, drain_deadline);
    }
    const int ready = wait_readable(fd, deadline);
    if (ready == -EINTR) continue;
    if (ready <= 0) {
      // Timed out. A client cut off mid-request is told why; an idle keep-alive one is just closed.
      if (parser.mid_request()) {
        send_reply_blocking(fd, Handler::error(408));
        linger_close_blocking(fd, cfg.linger_ms);
      }
      return;
    }
    const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;  // closed by the client, or reset
    input = std::string_view(buf.data(), static_cast<std::size_t>(r));
  }
}

}  // namespace ringbench
