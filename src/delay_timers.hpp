// DelayTimers: the handler's delays of one event loop (epoll, io_uring), on their own TimerWheel with
// 100 µs slots instead of the 1 ms slots the timeouts use. Header-only, no clock inside: callers pass
// CLOCK_MONOTONIC nanoseconds.
//
// Why finer than the timeouts: a delay rounded up to the next whole millisecond answers 0.5 ms late on
// average, and every delay that started within one millisecond becomes due at the same instant, so their
// replies leave as one burst. The loop still arms its wake-up on whole milliseconds (next_deadline_ms), so
// this adds no wake-ups: under load the loop is awake far more often than every 100 µs anyway and pops
// each delay at its first turn after the 100 µs slot; when idle, the millisecond wake-up pops it at most
// 1 ms late, as before.
#pragma once
#include <cstdint>
#include <optional>

#include "timer_wheel.hpp"

namespace ringbench {

class DelayTimers {
 public:
  static constexpr uint64_t kSlotNs = 100'000;

  explicit DelayTimers(uint64_t now_ns, std::size_t reserve = 1024) : wheel_(now_ns / kSlotNs, reserve) {}

  // A delay of `delay_ms` started at `now_ns`: due at the first slot boundary at or after its end, never
  // before it.
  TimerId insert(uint64_t now_ns, uint32_t delay_ms, uint64_t token) {
    const uint64_t end_ns = now_ns + uint64_t{delay_ms} * 1'000'000;
    return wheel_.insert((end_ns + kSlotNs - 1) / kSlotNs, token);
  }

  bool cancel(TimerId id) { return wheel_.cancel(id); }
  bool pending(TimerId id) const { return wheel_.pending(id); }

  // Takes one due delay (call in a loop, as TimerWheel::pop_expired).
  bool pop_expired(uint64_t now_ns, uint64_t& token) { return wheel_.pop_expired(now_ns / kSlotNs, token); }

  // The whole millisecond at or after the earliest pending delay's slot (a lower bound while delays more
  // than the wheel's span away are pending, as with TimerWheel), or nullopt when none is pending.
  std::optional<uint64_t> next_deadline_ms() const {
    const std::optional<uint64_t> slot = wheel_.next_deadline();
    if (!slot) return std::nullopt;
    return (*slot * kSlotNs + 999'999) / 1'000'000;
  }

  std::size_t size() const { return wheel_.size(); }

 private:
  TimerWheel wheel_;
};

}  // namespace ringbench
