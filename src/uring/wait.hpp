// Waits liburing 2.3 cannot make: io_uring_enter with the kernel's minimum wait (IORING_FEAT_MIN_TIMEOUT,
// Linux 6.12) or with IORING_ENTER_NO_IOWAIT (Linux 6.15).
// liburing 2.3 predates it, so this file makes the enter call itself.
#pragma once
#include <liburing.h>

#include <cstdint>

namespace ringbench {

struct MinWait {
  uint32_t min_wait_us = 0;  // sleep at least this long unless `batch` completions come first
  unsigned batch = 0;        // completions that end the minimum wait early
  bool ring_fd_registered = false;  // io_uring_register_ring_fd succeeded: enter by the registered index
  unsigned enter_flags = 0;  // more IORING_ENTER_* flags for every wait (IORING_ENTER_NO_IOWAIT)
};

// Submits the prepared SQEs and waits: until `batch` completions, or until the minimum wait has passed
// with at least one, or (none by then) until the first one after it, bounded by an idle timeout.
// Under DEFER_TASKRUN the kernel does not wake the task for each completion inside the minimum wait,
// which is the point: one wake-up for many. Returns what io_uring_submit_and_wait does: SQEs submitted,
// or -errno (-ETIME when the idle timeout passed with nothing). With min_wait_us 0 it is a plain wait
// for one completion that carries `enter_flags`. Not for SQPOLL rings.
int submit_and_wait_min(io_uring* ring, const MinWait& w);

}  // namespace ringbench
