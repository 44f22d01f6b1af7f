// Entry point of the blocking baseline: one request at a time per process, --workers preforked. Runs until SIGTERM/SIGINT, drains,
// and returns the exit status; prints the readiness line (announce_listening) once it accepts connections.
#pragma once
#include "core/config.hpp"

namespace ringbench {

int run_blocking_server(const ServerConfig& cfg);

}  // namespace ringbench
