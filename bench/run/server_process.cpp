// ServerProcess: fork/exec, readiness, stop; see server_process.hpp.
#include "run/server_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/prctl.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/net.hpp"

namespace ringbench::run {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kPollSlice = 20ms;        // readiness and exit checks
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

// The process group of the server currently running, for the signal handler: the runner runs one server
// at a time. Written only by ServerProcess, read by the handler; 0 when none.
std::atomic<pid_t> g_live_group{0};

void on_fatal_signal(int sig) {
  const pid_t g = g_live_group.load();
  if (g > 0) ::kill(-g, SIGKILL);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void kill_servers_on_signal() {
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

std::string describe_status(int code) {
  if (code > 128 && code < 128 + NSIG) {
    const char* name = ::sigabbrev_np(code - 128);
    return std::string("killed by SIG") + (name ? name : std::to_string(code - 128));
  }
  return "exit status " + std::to_string(code);
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
    wait_for_exit(kKillWait);
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
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  int out_pipe[2] = {-1, -1};
  if (log_fd < 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    failure = std::string("cannot set up the server's output: ") + std::strerror(errno);
    if (log_fd >= 0) ::close(log_fd);
    return false;
  }
  const bool want_line = spec.readiness == Readiness::line;
  // Everything the child touches is prepared before fork: only async-signal-safe calls after it.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (spec.cpu >= 0) CPU_SET(static_cast<unsigned>(spec.cpu), &cpus);

  const pid_t pid = ::fork();
  if (pid < 0) {
    failure = std::string("fork: ") + std::strerror(errno);
    ::close(log_fd);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return false;
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group: SIGKILL reaches prefork children too
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a runner that dies unexpectedly takes its server along
    if (spec.cpu >= 0) ::sched_setaffinity(0, sizeof cpus, &cpus);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(want_line ? out_pipe[1] : log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    const char* msg = "exec failed: ";
    (void)!::write(2, msg, std::strlen(msg));
    const char* err = std::strerror(errno);
    (void)!::write(2, err, std::strlen(err));
    ::_exit(127);
  }
  pid_ = pid;
  ::setpgid(pid, pid);  // also from this side, so the group exists before we might signal it
  g_live_group.store(pid);
  ::close(log_fd);
  ::close(out_pipe[1]);
  Fd out(out_pipe[0]);

  const auto deadline = Clock::now() + ready_timeout;
  std::string line;
  for (;;) {
    if (auto code = exited()) {
      failure = "exited before it was ready (" + describe_status(*code) + ")";
      const std::string tail = log_tail();
      if (!tail.empty()) failure += ": " + tail;
      return false;
    }
    if (Clock::now() >= deadline) {
      std::string note;
      stop(1s, note);
      failure = "not ready after " + std::to_string(ready_timeout.count()) + " ms";
      const std::string tail = log_tail();
      if (!tail.empty()) failure += ": " + tail;
      return false;
    }
    if (!want_line) {
      if (port_accepts(spec.port)) {
        port_ = spec.port;
        return true;
      }
      std::this_thread::sleep_for(kPollSlice);
      continue;
    }
    pollfd p{out.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(kPollSlice.count()));
    if (n <= 0) continue;
    char buf[512];
    const ssize_t r = ::read(out.get(), buf, sizeof buf);
    if (r <= 0) {
      // stdout closed without a line: wait for the exit status to report it.
      std::this_thread::sleep_for(kPollSlice);
      continue;
    }
    line.append(buf, static_cast<std::size_t>(r));
    const auto nl = line.find('\n');
    if (nl == std::string::npos && line.size() < kLineMax) continue;
    const std::string first = line.substr(0, nl);
    const auto colon = first.rfind(':');
    if (first.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
      std::string note;
      stop(1s, note);
      failure = "unexpected first line on stdout: '" + first + "'";
      return false;
    }
    const long port = std::strtol(first.c_str() + colon + 1, nullptr, 10);
    if (port <= 0 || port > 65535) {
      std::string note;
      stop(1s, note);
      failure = "bad port in readiness line: '" + first + "'";
      return false;
    }
    port_ = static_cast<uint16_t>(port);
    return true;  // later stdout goes nowhere; the servers ignore SIGPIPE
  }
}

std::optional<int> ServerProcess::exited() {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = to_code(status);
  return status_;
}

std::optional<int> ServerProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto s = exited()) return s;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

int ServerProcess::stop(std::chrono::milliseconds grace, std::string& note) {
  if (pid_ <= 0) return -1;
  if (!status_) {
    ::kill(pid_, SIGTERM);
    if (!wait_for_exit(grace)) {
      note = "still running " + std::to_string(grace.count()) + " ms after SIGTERM; killed";
      ::kill(-pid_, SIGKILL);
      wait_for_exit(kKillWait);
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

std::string ServerProcess::log_tail(std::size_t lines) const {
  std::ifstream f(log_path_);
  std::vector<std::string> all;
  for (std::string l; std::getline(f, l);) {
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
