// Child processes for the runner and the test harness alike: fork/exec into their own process group
// (optionally pinned to a CPU), the readiness wait, and exit statuses as a shell reports them.
// ServerProcess is one server under test: ready when it prints "listening on HOST:PORT" (built-ins) or
// when its port accepts connections (external commands); stopped with SIGTERM, then SIGKILL after a bound.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringbench::run {

// fork + exec of argv (argv[0] a path, or a name searched on PATH) with stdin from /dev/null, stdout to `out_fd`, stderr to
// `err_fd`, in a process group of its own, killed when the caller dies, pinned to `cpu` when >= 0.
// Returns the pid, or -1 with the reason in `failure`. Exec failures exit the child with 127.
pid_t spawn_child(const std::vector<std::string>& argv, int out_fd, int err_fd, int cpu, std::string& failure);

// Reaps `pid` if it has exited within `timeout` (zero: just look); its code as a shell reports it
// (128+N for signal N).
std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds timeout);

// Describes an exit code the way a shell does: "exit status N" or "killed by SIGNAME".
std::string describe_status(int code);

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

  // Whether its exit status has been collected (the pid may belong to another process since).
  bool reaped() const { return status_.has_value(); }
  // Whether the process has exited on its own (a crash during the load); its status if so.
  std::optional<int> exited() { return wait_exit(std::chrono::milliseconds(0)); }
  // Waits up to `timeout` for the process to exit; its status if it did.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  // SIGTERM, wait up to `grace`, then SIGKILL the group. Returns the exit status (128+N for signal N);
  // `note` says what was not clean (killed after the bound, leftover children).
  int stop(std::chrono::milliseconds grace, std::string& note);

  // Everything the server wrote to stderr (and, for external commands, stdout), and its last `lines` lines.
  std::string log_text() const;
  std::string log_tail(std::size_t lines = 3) const;

 private:
  bool wait_ready_line(int out_fd, std::chrono::steady_clock::time_point deadline, std::string& failure);
  bool wait_port(uint16_t port, std::chrono::steady_clock::time_point deadline);
  std::string with_tail(std::string what) const;
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

}  // namespace ringbench::run
