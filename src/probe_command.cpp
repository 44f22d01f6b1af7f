// Placeholder until this command lands: refuses to run with a clear message.
#include <cstdio>

#include "commands.hpp"

namespace ringbench {

int probe_main(int, char** argv) {
  std::fprintf(stderr, "ringbench %s: not built yet\n", argv[0]);
  return 1;
}

}  // namespace ringbench
