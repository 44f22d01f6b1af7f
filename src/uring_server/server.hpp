// Entry point of the io_uring server: one ring and event loop per --threads, SO_REUSEPORT listeners. Runs until SIGTERM/SIGINT, drains,
// and returns the exit status; prints the readiness line (announce_listening) once it accepts connections.
#pragma once
#include "core/config.hpp"

namespace ringbench {

int run_uring_server(const ServerConfig& cfg);

}  // namespace ringbench
