// `ringbench serve blocking`: the gunicorn sync-worker analogue. Each process accepts one connection and
// serves it to the end before accepting the next; --workers N preforks N such processes on one socket.
// Run: build/ringbench serve blocking --port 0 --workers 4
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "blocking_connection.hpp"
#include "net.hpp"
#include "prefork.hpp"
#include "servers.hpp"
#include "stop_signal.hpp"

namespace ringbench {
namespace {

constexpr long kAcceptBackoffNs = 50'000'000;  // out of descriptors: let the backlog wait, don't spin

int accept_loop(int listen_fd, const ServerConfig& cfg) {
  const Handler handler(cfg);
  while (!stop_requested()) {
    Fd conn(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      const int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        const timespec backoff{0, kAcceptBackoffNs};
        ::nanosleep(&backoff, nullptr);
        continue;
      }
      std::fprintf(stderr, "ringbench serve blocking: accept: %s\n", std::strerror(err));
      return 1;
    }
    tune_accepted(conn.get());
    serve_blocking_connection(conn.get(), cfg, handler);
  }
  return 0;
}

}  // namespace

int run_blocking_server(const ServerConfig& cfg) {
  Fd listener = listen_tcp({cfg.host, cfg.port, static_cast<int>(cfg.backlog), false, false});
  announce_listening(cfg.host, local_port(listener.get()));
  return run_preforked(cfg.workers, [&] { return accept_loop(listener.get(), cfg); });
}

}  // namespace ringbench
