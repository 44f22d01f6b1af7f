// Refuser thread; see refuser.hpp.
#include "threads/refuser.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "core/clock.hpp"
#include "core/handler.hpp"

namespace ringbench {
namespace {


}  // namespace

Refuser::Refuser(uint32_t linger_ms) : linger_ms_(linger_ms) {
  wake_ = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_) throw_errno("eventfd (refuser)");
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "cannot start the refuser thread");
  }
}

Refuser::~Refuser() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(wake_.get(), &one, sizeof one);
  thread_.join();
  for (int fd : incoming_) ::close(fd);
}

void Refuser::refuse(int fd) {
  // A fresh socket's send buffer takes this small reply whole; if it cannot, the client gets the close.
  const std::string_view reply = Handler::error(503).head;
  [[maybe_unused]] const ssize_t w = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  {
    std::lock_guard<std::mutex> lk(mu_);
    incoming_.push_back(fd);
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

void Refuser::run() {
  std::vector<Lingering> held;
  std::vector<pollfd> pfds;
  std::array<char, 4096> sink;
  for (;;) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_) break;
      for (int fd : incoming_) held.push_back({fd, monotonic_ms() + linger_ms_});
      incoming_.clear();
    }
    pfds.assign(1, pollfd{wake_.get(), POLLIN, 0});
    uint64_t next = UINT64_MAX;
    for (const Lingering& l : held) {
      pfds.push_back(pollfd{l.fd, POLLIN, 0});
      next = std::min(next, l.deadline_ms);
    }
    const uint64_t now = monotonic_ms();
    const int timeout = next == UINT64_MAX ? -1 : static_cast<int>(next > now ? next - now : 0);
    const int rc = ::poll(pfds.data(), pfds.size(), timeout);
    if (rc < 0 && errno != EINTR) {
      std::fprintf(stderr, "ringbench serve threads: refuser poll: %s\n", std::strerror(errno));
      break;
    }
    if (pfds[0].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] const ssize_t r = ::read(wake_.get(), &v, sizeof v);
    }
    const uint64_t after = monotonic_ms();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < held.size(); ++i) {
      bool done = after >= held[i].deadline_ms;
      if (!done && pfds[i + 1].revents != 0) {
        // Discard what the client sent; EOF or an error means it has the reply (or is gone).
        const ssize_t r = ::recv(held[i].fd, sink.data(), sink.size(), MSG_DONTWAIT);
        done = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
      }
      if (done) {
        ::close(held[i].fd);
      } else {
        held[kept++] = held[i];
      }
    }
    held.resize(kept);
  }
  for (const Lingering& l : held) ::close(l.fd);
}

}  // namespace ringbench
