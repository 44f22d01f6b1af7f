// Placeholder until this backend lands: refuses to run with a clear message.
#include <cstdio>

#include "servers.hpp"

namespace ringbench {

int run_epoll_server(const ServerConfig& cfg) {
  std::fprintf(stderr, "ringbench serve %s: this backend is not built yet\n", cfg.backend.c_str());
  return 1;
}

}  // namespace ringbench
