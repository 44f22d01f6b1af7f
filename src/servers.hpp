// Entry points of the four servers. Each runs until SIGTERM/SIGINT, drains, and returns the exit status.
// Each prints the readiness line (announce_listening) once it accepts connections.
#pragma once
#include "config.hpp"

namespace ringbench {

int run_blocking_server(const ServerConfig& cfg);  // baselines/blocking_server.cpp
int run_epoll_server(const ServerConfig& cfg);     // baselines/epoll_server.cpp
int run_threads_server(const ServerConfig& cfg);   // baselines/threads_server.cpp
int run_uring_server(const ServerConfig& cfg);     // src/uring_server.cpp

}  // namespace ringbench
