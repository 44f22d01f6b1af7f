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

}  // namespace

std::string ringbench_binary() { return env_or("RINGBENCH_BIN", RINGBENCH_BIN_DEFAULT); }
std::string backend_under_test() { return env_or("RINGBENCH_BACKEND", "blocking"); }
std::vector<std::string> backend_args() { return split_spaces(env_or("RINGBENCH_SERVER_ARGS", "")); }

ServerProcess::ServerProcess(std::vector<std::string> args, std::string backend,
                             std::chrono::milliseconds ready_timeout) {
  ringbench::run::LaunchSpec spec;
  spec.argv = {ringbench_binary(), "serve", backend, "--port", "0"};
  for (auto& a : backend_args()) spec.argv.push_back(a);
  for (auto& a : args) spec.argv.push_back(a);
  std::string failure;
  if (!proc_.start(spec, ready_timeout, failure)) {
    FAIL("server did not become ready: " << failure << "\nstderr '" << stderr_text() << "'");
  }
}

ServerProcess::~ServerProcess() { stop(5s); }

void ServerProcess::send_signal(int sig) const {
  if (pid() > 0 && !proc_.reaped()) ::kill(pid(), sig);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) { return proc_.wait_exit(timeout); }

int ServerProcess::stop(std::chrono::milliseconds grace) {
  std::string note;
  return proc_.stop(grace, note);
}

int ServerProcess::open_fds() const {
  const std::string dir = "/proc/" + std::to_string(pid()) + "/fd";
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
  std::ifstream f("/proc/" + std::to_string(pid()) + "/stat");
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

std::string ServerProcess::stderr_text() const { return proc_.log_text(); }

CommandResult run_ringbench(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                            const std::function<void(pid_t)>& while_running) {
  std::vector<std::string> argv = {ringbench_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out_path = temp_path("out");
  const std::string err_path = temp_path("err");
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE((out_fd >= 0 && err_fd >= 0));
  std::string failure;
  const pid_t pid = ringbench::run::spawn_child(argv, out_fd, err_fd, -1, failure);
  ::close(out_fd);
  ::close(err_fd);
  REQUIRE(pid > 0);
  if (while_running) while_running(pid);
  CommandResult res;
  if (auto code = ringbench::run::wait_child(pid, timeout)) {
    res.exit_code = *code;
  } else {
    ::kill(-pid, SIGKILL);
    ringbench::run::wait_child(pid, 10s);
  }
  res.out = slurp(out_path);
  res.err = slurp(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return res;
}

}  // namespace rbtest
