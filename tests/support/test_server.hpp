// Test harness: starts the real `ringbench` binary as a child process and stops it on every path, with the
// runner's launcher (run/server_process.hpp): one fork/exec, readiness and exit-status logic for both.
// The backend under test comes from RINGBENCH_BACKEND (default blocking) plus RINGBENCH_SERVER_ARGS, so the
// same test cases run unchanged against every backend and variant (see tests/CMakeLists.txt).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "run/server_process.hpp"

namespace rbtest {

using namespace std::chrono_literals;

// Milliseconds since `since` on the monotonic clock.
inline double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

std::string ringbench_binary();
std::string backend_under_test();
std::vector<std::string> backend_args();  // RINGBENCH_SERVER_ARGS split on spaces

class ServerProcess {
 public:
  // Runs `ringbench serve BACKEND --port 0 <backend_args()> <args>` and waits for "listening on".
  // Fails the test (with the server's stderr) if it exits or stays silent for `ready_timeout`.
  explicit ServerProcess(std::vector<std::string> args = {}, std::string backend = backend_under_test(),
                         std::chrono::milliseconds ready_timeout = 10s);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return proc_.port(); }
  pid_t pid() const { return proc_.pid(); }

  void send_signal(int sig) const;
  // Waits for the process to exit; its status as a shell would report it (128+N for signal N).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = 10s);

  // Open descriptors of the server process (/proc/PID/fd).
  int open_fds() const;
  // Waits (bounded) until the server holds at most `n` descriptors: connections the client already closed
  // may still be in the server's hands for a moment. Returns the last count seen.
  int wait_fds_at_most(int n, std::chrono::milliseconds timeout = 3s) const;
  std::string stderr_text() const;
  // CPU the server process has used so far (utime + stime from /proc/PID/stat), in seconds.
  double cpu_seconds() const;

 private:
  ringbench::run::ServerProcess proc_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `ringbench <args>` to completion (killed after `timeout`) and captures its output. `while_running`,
// when given, is called with the child's pid right after it starts (e.g. to stop and continue it).
CommandResult run_ringbench(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s,
                            const std::function<void(pid_t)>& while_running = {});

}  // namespace rbtest
