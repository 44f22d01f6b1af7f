// Signal handling for graceful drain; see stop_signal.hpp.
#include "core/stop_signal.hpp"

#include <cstring>

#include "core/net.hpp"

namespace ringbench {

std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may only touch lock-free atomics");

namespace {
void on_stop(int sig) { g_stop_signal.store(sig, std::memory_order_relaxed); }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocked accept/read/nanosleep return EINTR
  if (sigaction(SIGTERM, &sa, nullptr) != 0 || sigaction(SIGINT, &sa, nullptr) != 0) {
    throw_errno("sigaction");
  }
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace ringbench
