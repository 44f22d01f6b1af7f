// ServerProcess and run_ringbench; see test_server.hpp.
#include "test_server.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace rbtest {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::vector<std::string> split_spaces(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string temp_path(const char* tag) {
  std::string tmpl = std::string("/tmp/ringbench-test-") + tag + "-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  REQUIRE(fd >= 0);
  ::close(fd);
  return tmpl;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// fork+exec of the binary with stdout to `out_fd` and stderr to `err_fd`; stdin is /dev/null.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(cargv[0], cargv.data());
    std::fprintf(stderr, "exec %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  return pid;
}

}  // namespace

std::string ringbench_binary() { return env_or("RINGBENCH_BIN", RINGBENCH_BIN_DEFAULT); }
std::string backend_under_test() { return env_or("RINGBENCH_BACKEND", "blocking"); }
std::vector<std::string> backend_args() { return split_spaces(env_or("RINGBENCH_SERVER_ARGS", "")); }

ServerProcess::ServerProcess(std::vector<std::string> args, std::string backend,
                             std::chrono::milliseconds ready_timeout) {
  std::vector<std::string> argv = {ringbench_binary(), "serve", backend, "--port", "0"};
  for (auto& a : backend_args()) argv.push_back(a);
  for (auto& a : args) argv.push_back(a);
  stderr_path_ = temp_path("stderr");
  const int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(err_fd >= 0);
  int pipefd[2];
  REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
  pid_ = spawn(argv, pipefd[1], err_fd);
  ::close(pipefd[1]);
  ::close(err_fd);

  // Read stdout until the readiness line; never a fixed sleep.
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (out.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{pipefd[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[256];
    const ssize_t r = ::read(pipefd[0], buf, sizeof buf);
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  ::close(pipefd[0]);  // later output (none expected) goes nowhere; the server ignores SIGPIPE
  const auto colon = out.rfind(':');
  if (out.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
    stop(1s);
    FAIL("server did not become ready: stdout '" << out << "' stderr '" << stderr_text() << "'");
  }
  port_ = static_cast<uint16_t>(std::stoi(out.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !status_) stop(5s);
  if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
}

void ServerProcess::send_signal(int sig) const {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = status_to_code(status);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

int ServerProcess::stop(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  send_signal(SIGTERM);
  if (auto s = wait_exit(grace)) return *s;
  ::kill(pid_, SIGKILL);
  return wait_exit(10s).value_or(-1);
}

int ServerProcess::open_fds() const {
  const std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

int ServerProcess::wait_fds_at_most(int n, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int fds = open_fds();
  while (fds > n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    fds = open_fds();
  }
  return fds;
}

double ServerProcess::cpu_seconds() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the command name, which may itself hold spaces: utime and stime are fields 14 and 15.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string ServerProcess::stderr_text() const { return slurp(stderr_path_); }

CommandResult run_ringbench(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                            const std::function<void(pid_t)>& while_running) {
  std::vector<std::string> argv = {ringbench_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out_path = temp_path("out");
  const std::string err_path = temp_path("err");
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE((out_fd >= 0 && err_fd >= 0));
  const pid_t pid = spawn(argv, out_fd, err_fd);
  ::close(out_fd);
  ::close(err_fd);
  if (while_running) while_running(pid);
  CommandResult res;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      res.exit_code = status_to_code(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      res.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  res.out = slurp(out_path);
  res.err = slurp(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return res;
}

}  // namespace rbtest
