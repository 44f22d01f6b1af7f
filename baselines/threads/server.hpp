// Entry point of the thread-per-connection baseline (or a fixed --pool), --workers preforked. Runs until SIGTERM/SIGINT, drains,
// and returns the exit status; prints the readiness line (announce_listening) once it accepts connections.
#pragma once
#include "core/config.hpp"

namespace ringbench {

int run_threads_server(const ServerConfig& cfg);

}  // namespace ringbench
