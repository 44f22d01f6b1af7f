// `ringbench serve uring`: the io_uring server. This file is the process around the loops: probe the
// kernel, fall back where a feature is missing (one stderr line each), bind, start one UringLoop per
// --threads, print the readiness line, wait for SIGTERM/SIGINT and wake every loop to drain, and at exit
// print the ringbench-stats line (stats.hpp).
// Run: build/ringbench serve uring --port 0 [--threads 2] [--timer ring] [--no-multishot-recv] ...
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/net.hpp"
#include "core/stop_signal.hpp"
#include "uring/features.hpp"
#include "uring_server/loop.hpp"
#include "uring_server/server.hpp"
#include "uring_server/stats.hpp"

namespace ringbench {
namespace {

Fd make_eventfd() {
  Fd fd(::eventfd(0, EFD_CLOEXEC));
  if (!fd) throw_errno("eventfd");
  return fd;
}

void signal_eventfd(int fd) {
  const uint64_t one = 1;
  // An eventfd write of 8 bytes cannot be short; it fails only if the counter would overflow.
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

// Runs one loop in the calling thread: builds it here (the ring belongs to its creating thread),
// reports set-up success or the failure text through `ready`, then serves.
int loop_thread(UringShared& shared, unsigned index, int listen_fd, int wake_fd, int exited_fd,
                std::promise<std::string>& ready, LoopCounters& counters) {
  int status = 1;
  try {
    UringLoop loop(shared, index, listen_fd, wake_fd);
    ready.set_value("");
    status = loop.run();
    counters = loop.counters();  // read by the main thread after this thread's future is ready
  } catch (const std::system_error& e) {
    ready.set_value(e.what());
  }
  signal_eventfd(exited_fd);
  return status;
}

// Blocks until a stop signal arrives or a loop exits on its own. Signals are blocked in every thread
// but this one, and unblocked only inside ppoll, so none is lost between the check and the wait.
void wait_for_stop(int exited_fd, const sigset_t& unblocked) {
  while (!stop_requested()) {
    pollfd p{exited_fd, POLLIN, 0};
    const int rc = ::ppoll(&p, 1, nullptr, &unblocked);
    if (rc > 0) return;
  }
}

}  // namespace

int run_uring_server(const ServerConfig& cfg) {
  const UringProbe probe = probe_uring();
  if (!probe.available) {
    std::fprintf(stderr, "ringbench serve uring: io_uring unavailable: %s\n", probe.unavailable_reason.c_str());
    return 1;
  }
  const UringPlan plan = plan_uring(cfg.uring, probe);
  for (const std::string& line : plan.fallbacks) std::fprintf(stderr, "ringbench serve uring: %s\n", line.c_str());
  std::fprintf(stderr, "ringbench serve uring: %u thread(s), %s\n", cfg.threads, plan.summary().c_str());

  std::vector<Fd> listeners =
      listen_many({cfg.host, cfg.port, static_cast<int>(cfg.backlog), cfg.reuseport, false}, cfg.threads);
  for (const Fd& l : listeners) {
    // Accepted sockets inherit TCP_NODELAY from the listener, which spares one syscall per connection
    // (and is the only way with --fixed-files, whose direct descriptors setsockopt cannot name).
    if (const int rc = tune_accepted(l.get()); rc < 0) throw_errno("setsockopt(TCP_NODELAY)", -rc);
  }
  const Handler handler(cfg);
  UringShared shared{cfg, plan, handler};
  Fd exited = make_eventfd();
  std::vector<Fd> wakes;
  for (unsigned i = 0; i < cfg.threads; ++i) wakes.push_back(make_eventfd());

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t previous;
  if (const int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, &previous); rc != 0) {
    throw_errno("pthread_sigmask", rc);  // inherited by the loop threads: they must not take the signals
  }

  std::vector<std::promise<std::string>> ready(cfg.threads);
  std::vector<LoopCounters> counters(cfg.threads);
  std::vector<std::future<int>> results;
  for (unsigned i = 0; i < cfg.threads; ++i) {
    const int listen_fd = listeners[listeners.size() == 1 ? 0 : i].get();
    results.push_back(std::async(std::launch::async, loop_thread, std::ref(shared), i, listen_fd, wakes[i].get(),
                                 exited.get(), std::ref(ready[i]), std::ref(counters[i])));
  }
  std::string failure;
  for (auto& r : ready) {
    std::string why = r.get_future().get();
    if (!why.empty() && failure.empty()) failure = std::move(why);
  }
  if (failure.empty()) {
    announce_listening(cfg.host, local_port(listeners.front().get()));
    wait_for_stop(exited.get(), previous);
  }
  for (const Fd& w : wakes) signal_eventfd(w.get());
  int status = 0;
  for (auto& r : results) status = std::max(status, r.get());
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);  // cannot fail with a mask it returned itself
  std::fprintf(stderr, "%s\n", stats_line(plan, counters).c_str());
  if (!failure.empty()) {
    std::fprintf(stderr, "ringbench serve uring: %s\n", failure.c_str());
    return 1;
  }
  return status;
}

}  // namespace ringbench
