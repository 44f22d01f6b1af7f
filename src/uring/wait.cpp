// submit_and_wait_min; see wait.hpp.
#include "uring/wait.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ringbench {
namespace {

// With nothing at all to do, the wait still ends now and then; the loop's ring timeouts end it sooner.
constexpr int64_t kIdleWaitS = 1;

// Publishes the SQEs prepared since the last submit to the kernel's SQ tail; returns how many are
// pending. liburing keeps its own copy of this private; liburing 2.3 fills the SQ index array once at
// setup, so only the tail moves. A plain store is enough without SQPOLL: the kernel reads the tail in
// this thread's own io_uring_enter.
unsigned flush_sq(io_uring* ring) {
  io_uring_sq& sq = ring->sq;
  const unsigned tail = sq.sqe_tail;
  if (sq.sqe_head != tail) {
    sq.sqe_head = tail;
    *sq.ktail = tail;
  }
  return tail - *sq.khead;
}

}  // namespace

int submit_and_wait_min(io_uring* ring, const MinWait& w) {
  __kernel_timespec idle{kIdleWaitS, 0};
  io_uring_getevents_arg arg{};
  arg.ts = reinterpret_cast<uint64_t>(&idle);
  arg.pad = w.min_wait_us;  // min_wait_usec in Linux 6.12's uapi; liburing 2.3 still calls it pad
  const bool min_wait = w.min_wait_us > 0;
  unsigned flags = IORING_ENTER_GETEVENTS | w.enter_flags | (min_wait ? IORING_ENTER_EXT_ARG : 0u);
  int fd = ring->ring_fd;
  if (w.ring_fd_registered) {
    flags |= IORING_ENTER_REGISTERED_RING;
    fd = ring->enter_ring_fd;
  }
  const unsigned to_submit = flush_sq(ring);
  const long rc = min_wait ? ::syscall(__NR_io_uring_enter, fd, to_submit, w.batch, flags, &arg, sizeof(arg))
                           : ::syscall(__NR_io_uring_enter, fd, to_submit, 1, flags, nullptr, 0);
  return rc < 0 ? -errno : static_cast<int>(rc);
}

}  // namespace ringbench
