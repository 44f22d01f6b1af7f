// The process-wide stop request: SIGTERM/SIGINT set it, every server loop polls it. It is the one global
// in ringbench, because a signal handler can reach nothing else.
#pragma once
#include <atomic>
#include <csignal>

namespace ringbench {

// Set (to the signal number) by the SIGTERM/SIGINT handler; never cleared. An atomic rather than a
// volatile sig_atomic_t because threads other than the one that ran the handler read it (threads
// server): lock-free atomics are async-signal-safe and race-free, which ThreadSanitizer checks.
extern std::atomic<int> g_stop_signal;

inline bool stop_requested() { return g_stop_signal.load(std::memory_order_relaxed) != 0; }

// Installs the handlers without SA_RESTART, so blocking calls return EINTR and loops notice the stop.
// Also ignores SIGPIPE: a peer that went away is an EPIPE on that connection, not a dead server.
void install_stop_handlers();

}  // namespace ringbench
