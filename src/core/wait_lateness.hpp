// WaitLateness: how far past its deadline an event loop's wait ended. A loop armed to wake at T that runs
// again only at T + 20 ms held back every reply due in between. On a VM whose host is slow to run an idle
// vCPU again, or on a core shared with other work, that is where a 250 ms benchmark's tail comes from; the
// servers print these figures when they exit so a benchmark can tell the machine's share from the server's.
// Header-only, no clock inside: callers pass CLOCK_MONOTONIC nanoseconds.
#pragma once
#include <algorithm>
#include <cstdint>

namespace ringbench {

class WaitLateness {
 public:
  // Below this a wake-up is on time: timer slack and the kernel's wake-up path stay well under it.
  static constexpr uint64_t kToleranceNs = 1'000'000;

  // One wait: begun at `began_ns`, meant to end by `due_ns` at the latest (its timer), ended at `woke_ns`.
  // Only the part of the lateness spent inside the wait counts: a deadline that passed while the loop was
  // still working is the loop's own doing, not a late wake-up. Long sleeps get the slack epoll_wait allows
  // itself (0.1 % of the timeout) on top of the tolerance.
  void record(uint64_t began_ns, uint64_t due_ns, uint64_t woke_ns) {
    ++waits_;
    const uint64_t due = std::max(due_ns, began_ns);
    const uint64_t tolerance = kToleranceNs + (due - began_ns) / 1000;
    if (woke_ns <= due + tolerance) return;
    const uint64_t late = woke_ns - due;
    ++count_;
    total_ns_ += late;
    worst_ns_ = std::max(worst_ns_, late);
  }

  uint64_t waits() const { return waits_; }  // waits recorded, late or not
  uint64_t count() const { return count_; }
  double total_ms() const { return static_cast<double>(total_ns_) / 1e6; }
  double worst_ms() const { return static_cast<double>(worst_ns_) / 1e6; }

 private:
  uint64_t waits_ = 0;
  uint64_t count_ = 0;
  uint64_t total_ns_ = 0;
  uint64_t worst_ns_ = 0;
};

}  // namespace ringbench
