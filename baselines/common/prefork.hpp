// Prefork: run a server body in N processes that share the listening sockets (gunicorn's --workers).
#pragma once
#include <functional>

namespace ringbench {

// With workers == 1 runs `body` in this process. Otherwise forks `workers` children that each run
// `body` and exit with its status; the parent forwards SIGTERM/SIGINT to them, waits for all, and
// returns 0 only when every child exited 0. A child that dies early is reported, not respawned, so a
// crash shows up in the benchmark instead of being hidden by a replacement.
int run_preforked(unsigned workers, const std::function<int()>& body);

}  // namespace ringbench
