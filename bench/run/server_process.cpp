// Child processes and ServerProcess: fork/exec, readiness, stop; see server_process.hpp.
#include "run/server_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/net.hpp"
#include "core/stop_signal.hpp"

namespace ringbench::run {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kPollSlice = 20ms;        // readiness and exit checks
constexpr auto kReapSlice = 5ms;         // exit-status polling
constexpr auto kKillWait = 5s;           // after SIGKILL the kernel needs moments, not seconds
constexpr std::size_t kLineMax = 4096;   // a readiness line longer than this is not one

int to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string temp_log() {
  std::string tmpl = "/tmp/ringbench-run-server-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return {};
  ::close(fd);
  return tmpl;
}

bool port_accepts(uint16_t port) {
  const int fd = connect_tcp("127.0.0.1", port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// The port in "listening on HOST:PORT", or 0 when the line is not one.
uint16_t port_of_ready_line(const std::string& line) {
  const auto colon = line.rfind(':');
  if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) return 0;
  const long port = std::strtol(line.c_str() + colon + 1, nullptr, 10);
  return port > 0 && port <= 65535 ? static_cast<uint16_t>(port) : 0;
}

// The process group of the server currently running, for the signal handler: the runner runs one server
// at a time. Written only by ServerProcess, read by the handler; 0 when none.
std::atomic<pid_t> g_live_group{0};

// The runner finishes what it can: the stop flag ends the load engine's window and the runner's loop, and
// the server goes at once so that nothing waits on it. A second signal ends the runner outright.
void on_stop_signal(int sig) {
  g_stop_signal.store(sig, std::memory_order_relaxed);
  const pid_t g = g_live_group.load();
  if (g > 0) ::kill(-g, SIGKILL);
}

}  // namespace

pid_t spawn_child(const std::vector<std::string>& argv, int out_fd, int err_fd, int cpu, std::string& failure) {
  // Everything the child touches is prepared before fork: only async-signal-safe calls after it.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (cpu >= 0) CPU_SET(static_cast<unsigned>(cpu), &cpus);
  const pid_t pid = ::fork();
  if (pid < 0) {
    failure = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group: SIGKILL reaches prefork children too
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a parent that dies unexpectedly takes its child along
    if (cpu >= 0) ::sched_setaffinity(0, sizeof cpus, &cpus);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execvp(cargv[0], cargv.data());
    const char* msg = "exec failed: ";
    (void)!::write(2, msg, std::strlen(msg));
    const char* err = std::strerror(errno);
    (void)!::write(2, err, std::strlen(err));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from this side, so the group exists before we might signal it
  return pid;
}

std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return to_code(status);
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kReapSlice);
  }
}

std::string describe_status(int code) {
  if (code > 128 && code < 128 + NSIG) {
    const char* name = ::sigabbrev_np(code - 128);
    return std::string("killed by SIG") + (name ? name : std::to_string(code - 128));
  }
  return "exit status " + std::to_string(code);
}

void kill_servers_on_signal() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESETHAND;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

uint16_t pick_free_port() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw_errno("bind 127.0.0.1:0");
  return local_port(fd.get());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    wait_exit(kKillWait);
  }
  pid_t mine = pid_;
  if (mine > 0) g_live_group.compare_exchange_strong(mine, 0);
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

bool ServerProcess::start(const LaunchSpec& spec, std::chrono::milliseconds ready_timeout, std::string& failure) {
  log_path_ = temp_log();
  if (log_path_.empty()) {
    failure = std::string("cannot create a log file in /tmp: ") + std::strerror(errno);
    return false;
  }
  Fd log(::open(log_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  int out_pipe[2] = {-1, -1};
  if (!log || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    failure = std::string("cannot set up the server's output: ") + std::strerror(errno);
    return false;
  }
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  const bool want_line = spec.readiness == Readiness::line;
  pid_ = spawn_child(spec.argv, want_line ? out_write.get() : log.get(), log.get(), spec.cpu, failure);
  if (pid_ < 0) return false;
  g_live_group.store(pid_);
  out_write = Fd();

  const auto deadline = Clock::now() + ready_timeout;
  if (want_line ? wait_ready_line(out_read.get(), deadline, failure) : wait_port(spec.port, deadline)) return true;
  if (auto code = exited()) {
    failure = with_tail("exited before it was ready (" + describe_status(*code) + ")");
    return false;
  }
  std::string note;
  stop(1s, note);
  if (failure.empty()) failure = with_tail("not ready after " + std::to_string(ready_timeout.count()) + " ms");
  return false;
}

// Reads stdout up to its first line; later stdout goes nowhere (the servers ignore SIGPIPE).
bool ServerProcess::wait_ready_line(int out_fd, Clock::time_point deadline, std::string& failure) {
  std::string line;
  while (Clock::now() < deadline && !exited()) {
    pollfd p{out_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(kPollSlice.count())) <= 0) continue;
    char buf[512];
    const ssize_t r = ::read(out_fd, buf, sizeof buf);
    if (r <= 0) {
      // stdout closed without a line: wait for the exit status to report it.
      std::this_thread::sleep_for(kPollSlice);
      continue;
    }
    line.append(buf, static_cast<std::size_t>(r));
    const auto nl = line.find('\n');
    if (nl == std::string::npos && line.size() < kLineMax) continue;
    const std::string first = line.substr(0, nl);
    port_ = port_of_ready_line(first);
    if (port_ != 0) return true;
    failure = "unexpected first line on stdout: '" + first + "'";
    return false;
  }
  return false;
}

bool ServerProcess::wait_port(uint16_t port, Clock::time_point deadline) {
  while (Clock::now() < deadline && !exited()) {
    if (port_accepts(port)) {
      port_ = port;
      return true;
    }
    std::this_thread::sleep_for(kPollSlice);
  }
  return false;
}

std::string ServerProcess::with_tail(std::string what) const {
  if (std::string tail = log_tail(); !tail.empty()) what += ": " + tail;
  return what;
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (status_ || pid_ <= 0) return status_;
  status_ = wait_child(pid_, timeout);
  return status_;
}

int ServerProcess::stop(std::chrono::milliseconds grace, std::string& note) {
  if (pid_ <= 0) return -1;
  if (!status_) {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(grace)) {
      note = "still running " + std::to_string(grace.count()) + " ms after SIGTERM; killed";
      ::kill(-pid_, SIGKILL);
      wait_exit(kKillWait);
    }
  }
  // Children that outlive their parent would skew the next cell.
  if (::kill(-pid_, 0) == 0) {
    ::kill(-pid_, SIGKILL);
    if (!note.empty()) note += "; ";
    note += "left processes behind after exiting; killed";
  }
  return status_.value_or(-1);
}

std::string ServerProcess::log_text() const {
  std::ifstream f(log_path_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ServerProcess::log_tail(std::size_t lines) const {
  std::istringstream in(log_text());
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) all.push_back(l);
  }
  std::string out;
  const std::size_t from = all.size() > lines ? all.size() - lines : 0;
  for (std::size_t i = from; i < all.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += all[i];
  }
  return out;
}

}  // namespace ringbench::run
