// Entry point of the edge-triggered epoll baseline: one loop per --threads. Runs until SIGTERM/SIGINT, drains,
// and returns the exit status; prints the readiness line (announce_listening) once it accepts connections.
#pragma once
#include "core/config.hpp"

namespace ringbench {

int run_epoll_server(const ServerConfig& cfg);

}  // namespace ringbench
