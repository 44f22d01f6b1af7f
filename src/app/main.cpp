// ringbench: one binary, five sub-commands. `ringbench --help` lists them.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "app/commands.hpp"
#include "gate/command.hpp"
#include "load/command.hpp"
#include "run/command.hpp"

namespace {

constexpr const char* kUsage =
    "usage: ringbench COMMAND [options]   (ringbench COMMAND --help for its options)\n"
    "  serve BACKEND   run an HTTP server: uring | epoll | threads | blocking\n"
    "  load URL        generate HTTP load and report latency and throughput\n"
    "  run             run a benchmark scenario across backends and report\n"
    "  gate A B        compare two run results and fail on a regression\n"
    "  probe           show the running kernel's io_uring features\n"
    "  --version       print the version, git revision and liburing version\n"
    "example: ringbench serve uring --port 8000 & ringbench load http://127.0.0.1:8000/ -n 1000 -c 10\n";

// Version, the git revision CMake saw at configure time and the liburing the binary was built against.
constexpr const char* kVersion =
    "ringbench " RINGBENCH_VERSION " (git " RINGBENCH_GIT_REVISION ", liburing " RINGBENCH_LIBURING_VERSION ")\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string_view cmd = argv[1];
  // Each sub-command sees argv from its own name on, as if it were its own program.
  if (cmd == "serve") return ringbench::serve_main(argc - 1, argv + 1);
  if (cmd == "probe") return ringbench::probe_main(argc - 1, argv + 1);
  if (cmd == "load") return ringbench::load_main(argc - 1, argv + 1);
  if (cmd == "run") return ringbench::run_main(argc - 1, argv + 1);
  if (cmd == "gate") return ringbench::gate_main(argc - 1, argv + 1);
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    std::fputs(kVersion, stdout);
    return 0;
  }
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "ringbench: unknown command '%s'\n%s", argv[1], kUsage);
  return 2;
}
