// Prefork supervisor; see prefork.hpp.
#include "common/prefork.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/stop_signal.hpp"

namespace ringbench {
namespace {
// The supervisor polls its children at this period instead of blocking in waitpid: a SIGTERM landing
// between its stop check and a blocking waitpid would never be forwarded.
constexpr long kReapPeriodNs = 20'000'000;
}  // namespace

int run_preforked(unsigned workers, const std::function<int()>& body) {
  if (workers <= 1) return body();
  std::vector<pid_t> children;
  std::fflush(nullptr);  // a child must not flush the parent's buffered output a second time
  const pid_t parent = ::getpid();
  for (unsigned i = 0; i < workers; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "ringbench: fork worker %u: %s\n", i, std::strerror(errno));
      for (pid_t c : children) ::kill(c, SIGTERM);
      break;
    }
    if (pid == 0) {
      // A supervisor killed outright (SIGKILL) cannot forward SIGTERM: the kernel does it instead, so no
      // worker outlives it holding the port. If it already died before this line, stop now.
      if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) ::_exit(1);
      int rc = 1;
      try {
        rc = body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "ringbench: worker: %s\n", e.what());
      }
      std::fflush(nullptr);
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  int result = children.size() == workers ? 0 : 1;
  bool forwarded = false;
  std::size_t alive = children.size();
  while (alive > 0) {
    if (stop_requested() && !forwarded) {
      for (pid_t c : children) ::kill(c, SIGTERM);
      forwarded = true;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0) {
      const timespec period{0, kReapPeriodNs};
      ::nanosleep(&period, nullptr);  // a signal cuts it short
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "ringbench: waitpid: %s\n", std::strerror(errno));
      return 1;
    }
    --alive;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    result = 1;
    if (WIFSIGNALED(status)) {
      std::fprintf(stderr, "ringbench: worker %d killed by signal %d (%s)\n", pid, WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
    } else {
      std::fprintf(stderr, "ringbench: worker %d exited with status %d\n", pid, WEXITSTATUS(status));
    }
  }
  return result;
}

}  // namespace ringbench
