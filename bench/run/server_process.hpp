// One server under test as a child process: started from any binary or shell command, in its own process
// group, optionally pinned to a CPU; ready when it prints "listening on HOST:PORT" (built-ins) or when its
// port accepts connections (external commands); stopped with SIGTERM, then SIGKILL after a bound.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringbench::run {

enum class Readiness { line, port_accepting };

struct LaunchSpec {
  std::vector<std::string> argv;  // executed directly (argv[0] is a path)
  Readiness readiness = Readiness::line;
  uint16_t port = 0;              // Readiness::port_accepting: the port to probe
  int cpu = -1;                   // >= 0: pin the server (and its children) to this CPU
};

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();  // kills the process group if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts and waits for readiness. On failure returns false with the reason (exit status and the
  // server's last stderr lines, or the timeout) in `failure`; the process is gone by then.
  bool start(const LaunchSpec& spec, std::chrono::milliseconds ready_timeout, std::string& failure);

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }

  // Whether the process has exited on its own (a crash during the load); its status if so.
  std::optional<int> exited();

  // SIGTERM, wait up to `grace`, then SIGKILL the group. Returns the exit status (128+N for signal N);
  // `note` says what was not clean (killed after the bound, leftover children).
  int stop(std::chrono::milliseconds grace, std::string& note);

  // The last `lines` lines the server wrote to stderr (and, for external commands, stdout).
  std::string log_tail(std::size_t lines = 3) const;

 private:
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::optional<int> status_;
  std::string log_path_;
};

// SIGINT/SIGTERM/SIGHUP to the runner kill the running server's process group first, then end the runner
// as the signal would have: servers run in their own groups, so a terminal's Ctrl-C never reaches them.
void kill_servers_on_signal();

// A port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
uint16_t pick_free_port();

// Describes a wait status the way a shell does: "exit status N" or "killed by SIGNAME".
std::string describe_status(int code);

}  // namespace ringbench::run
