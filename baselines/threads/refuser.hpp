// Refuser: answers 503 to connections the threads server cannot take (no thread could be created, or
// --max-connections is reached) and closes them gracefully, on its own thread so the accept loop never
// waits out a linger. Used by baselines/threads/server.cpp.
#pragma once
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/net.hpp"

namespace ringbench {

class Refuser {
 public:
  // Starts the refuser thread; throws std::system_error if it cannot.
  explicit Refuser(uint32_t linger_ms);
  ~Refuser();  // stops the thread and closes what it still holds
  Refuser(const Refuser&) = delete;
  Refuser& operator=(const Refuser&) = delete;

  // Takes ownership of `fd`: sends the 503 reply now (without blocking), shuts the write side, and hands
  // the socket to the refuser thread, which discards input until EOF or --linger-ms and then closes it.
  void refuse(int fd);

 private:
  struct Lingering {
    int fd;
    uint64_t deadline_ms;
  };
  void run();

  const uint32_t linger_ms_;
  Fd wake_;  // eventfd: new sockets or stop
  std::mutex mu_;
  std::vector<int> incoming_;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread thread_;
};

}  // namespace ringbench
