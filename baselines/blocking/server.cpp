// `ringbench serve blocking`: the gunicorn sync-worker analogue. Each process accepts one connection and
// serves it to the end before accepting the next; --workers N preforks N such processes on one socket.
// Run: build/ringbench serve blocking --port 0 --workers 4
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "blocking/server.hpp"
#include "common/blocking_connection.hpp"
#include "common/prefork.hpp"
#include "core/net.hpp"
#include "core/stop_signal.hpp"

namespace ringbench {
namespace {

using Clock = std::chrono::steady_clock;
// A stop signal landing between the stop check and accept4 would leave accept blocked until the next
// client arrives: a receive timeout on the listener (accept honours it with EAGAIN) bounds that wait.
constexpr long kStopCheckUs = 100'000;

// After a stop request, connections the kernel already queued are still served (their clients have sent
// their requests), until the queue is empty or --drain-ms has passed.
bool next_queued_connection(int listen_fd, const ServerConfig& cfg, Clock::time_point& drain_deadline) {
  if (drain_deadline == Clock::time_point{}) {
    drain_deadline = Clock::now() + std::chrono::milliseconds(cfg.drain_ms);
    // Workers share the socket: one that loses the race for the last queued connection must get EAGAIN,
    // not block in accept forever.
    set_nonblocking(listen_fd);
  }
  if (Clock::now() >= drain_deadline) return false;
  pollfd p{listen_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

int accept_loop(int listen_fd, const ServerConfig& cfg) {
  const Handler handler(cfg);
  const timeval stop_check{0, kStopCheckUs};
  if (::setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &stop_check, sizeof stop_check) != 0) {
    std::fprintf(stderr, "ringbench serve blocking: setsockopt(SO_RCVTIMEO) on the listener: %s\n", std::strerror(errno));
    return 1;
  }
  Clock::time_point drain_deadline{};
  for (;;) {
    if (stop_requested() && !next_queued_connection(listen_fd, cfg, drain_deadline)) return 0;
    Fd conn(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      const int err = errno;
      if (err == EINTR || err == ECONNABORTED || err == EAGAIN) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        const timespec backoff{0, long{kAcceptBackoffMs} * 1'000'000};
        ::nanosleep(&backoff, nullptr);
        continue;
      }
      std::fprintf(stderr, "ringbench serve blocking: accept: %s\n", std::strerror(err));
      return 1;
    }
    tune_accepted(conn.get());
    serve_blocking_connection(conn.get(), cfg, handler);
  }
}

}  // namespace

int run_blocking_server(const ServerConfig& cfg) {
  Fd listener = listen_tcp({cfg.host, cfg.port, static_cast<int>(cfg.backlog), false, false});
  announce_listening(cfg.host, local_port(listener.get()));
  return run_preforked(cfg.workers, [&] { return accept_loop(listener.get(), cfg); });
}

}  // namespace ringbench
