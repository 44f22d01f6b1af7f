// The process-wide stop request: SIGTERM/SIGINT set it, every server loop polls it. It is the one global
// in ringbench, because a signal handler can reach nothing else.
#pragma once
#include <csignal>

namespace ringbench {

// Set (to the signal number) by the SIGTERM/SIGINT handler; never cleared.
extern volatile std::sig_atomic_t g_stop_signal;

inline bool stop_requested() { return g_stop_signal != 0; }

// Installs the handlers without SA_RESTART, so blocking calls return EINTR and loops notice the stop.
// Also ignores SIGPIPE: a peer that went away is an EPIPE on that connection, not a dead server.
void install_stop_handlers();

}  // namespace ringbench
