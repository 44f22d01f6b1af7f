// Prefork supervisor; see prefork.hpp.
#include "prefork.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "stop_signal.hpp"

namespace ringbench {

int run_preforked(unsigned workers, const std::function<int()>& body) {
  if (workers <= 1) return body();
  std::vector<pid_t> children;
  std::fflush(nullptr);  // a child must not flush the parent's buffered output a second time
  for (unsigned i = 0; i < workers; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "ringbench: fork worker %u: %s\n", i, std::strerror(errno));
      for (pid_t c : children) ::kill(c, SIGTERM);
      break;
    }
    if (pid == 0) {
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
    const pid_t pid = ::waitpid(-1, &status, 0);
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
