// Socket plumbing shared by every server and by the load generator: RAII descriptors, listening sockets,
// per-connection socket options, the open-files limit.
#pragma once
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ringbench {

// Throws std::system_error for errno with "what: strerror" as its message.
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const std::string& what, int err);

// A move-only owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct ListenOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int backlog = 4096;
  bool reuseport = false;
  bool nonblocking = false;
};

// Binds and listens; throws std::system_error naming the address on failure.
Fd listen_tcp(const ListenOptions& opt);

// `count` listening sockets on one port: with reuseport each loop gets its own (the kernel spreads
// connections), otherwise one socket is made and the caller shares it. Port 0 picks one free port.
std::vector<Fd> listen_many(ListenOptions opt, unsigned count);

uint16_t local_port(int fd);

// accept() failed for lack of descriptors or memory: retry after this long, so the backlog waits and no
// loop spins.
inline constexpr uint32_t kAcceptBackoffMs = 50;

// Options every accepted socket gets: TCP_NODELAY (a reply split by Nagle costs 40 ms).
int tune_accepted(int fd);
int set_nonblocking(int fd);

// Connects to host:port (blocking unless told otherwise); returns the descriptor or -errno.
int connect_tcp(const std::string& host, uint16_t port, bool nonblocking = false);

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
uint64_t raise_nofile_limit();

// Prints "listening on HOST:PORT" to stdout and flushes: the readiness line tests and the runner wait for.
void announce_listening(const std::string& host, uint16_t port);

}  // namespace ringbench
