// TimerWheel: the user-space timer structure of the event-loop servers (epoll, io_uring). One per loop
// thread, not thread-safe. Header-only; no clock and no I/O inside: the caller passes `now` in ms.
// Use: id = w.insert(deadline_ms, token); w.cancel(id); w.next_deadline() -> the loop's wake-up (epoll_pwait2
//      timeout, ring timeout); while (w.pop_expired(now, token)) handle(token). next_timeout(now) gives the same
//      as a relative epoll_wait-style timeout in ms, for callers without an absolute-time wait.
//
// A hashed wheel of 1 ms slots with an occupancy bitmap. Insert and cancel are O(1) (intrusive doubly
// linked slot lists in one preallocated node pool, so no allocation per timer); "when is the next
// deadline" is a two-level bitmap scan (at most 16 + 2 words); "pop all expired" walks only non-empty
// slots. A deadline further away than the wheel's span (kSlots ms) waits in its slot over several turns;
// such an entry can make next_deadline() report a slot early, which costs one wake-up that pops nothing
// and never makes a timer fire late.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace ringbench {

// Names one inserted timer. `gen` changes whenever the pool node is reused, so cancelling an id whose
// timer already fired or was cancelled is a recognised no-op, never a cancel of someone else's timer.
struct TimerId {
  uint32_t index = 0;
  uint32_t gen = 0;  // 0 = no timer
  explicit operator bool() const { return gen != 0; }
  friend bool operator==(TimerId, TimerId) = default;
};

class TimerWheel {
 public:
  static constexpr uint32_t kSlotBits = 16;
  static constexpr uint32_t kSlots = 1u << kSlotBits;  // 65.5 s of 1 ms slots: every default timeout fits
  static constexpr uint32_t kNil = UINT32_MAX;

  // `now_ms`: the caller's clock at creation (timers before it are due at once).
  // `reserve`: pool nodes allocated up front; the pool grows (amortised) past it if needed.
  explicit TimerWheel(uint64_t now_ms, std::size_t reserve = 1024) : cursor_(now_ms) {
    heads_.fill(kNil);
    nodes_.reserve(reserve);
  }
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Schedules `token` for `deadline_ms`. A deadline at or before the last pop_expired()'s now_ms fires
  // on the wheel's next millisecond (next_timeout() then says 1), never lost and never early.
  TimerId insert(uint64_t deadline_ms, uint64_t token) {
    const uint32_t i = alloc_node();
    Node& n = nodes_[i];
    n.deadline = deadline_ms < cursor_ ? cursor_ : deadline_ms;
    n.token = token;
    link(i, slot_of(n.deadline));
    ++size_;
    return TimerId{i, n.gen};
  }

  // Removes a pending timer. False when `id` is empty, already fired or already cancelled.
  bool cancel(TimerId id) {
    if (!pending(id)) return false;
    unlink(id.index);
    free_node(id.index);
    --size_;
    return true;
  }

  // True while the timer named by `id` has neither fired nor been cancelled.
  bool pending(TimerId id) const {
    return id.gen != 0 && id.index < nodes_.size() && nodes_[id.index].gen == id.gen &&
           nodes_[id.index].slot != kNil;
  }

  // The deadline of a pending timer (after clamping to the wheel's time).
  std::optional<uint64_t> deadline(TimerId id) const {
    if (!pending(id)) return std::nullopt;
    return nodes_[id.index].deadline;
  }

  // The earliest time a pending timer may be due (a lower bound, exact unless a timer is more than
  // kSlots ms away), or nullopt when no timer is pending.
  std::optional<uint64_t> next_deadline() const {
    if (size_ == 0) return std::nullopt;
    const uint32_t from = slot_of(cursor_);
    uint32_t s = find_set_from(from);
    if (s == kNil) s = find_set_from(0);
    const uint32_t distance = (s - from) & (kSlots - 1);
    return cursor_ + distance;
  }

  // Milliseconds until next_deadline() from `now`: 0 when something is due, -1 when nothing is pending.
  // Shaped for epoll_wait's timeout; never more than kSlots.
  int next_timeout(uint64_t now_ms) const {
    const std::optional<uint64_t> d = next_deadline();
    if (!d) return -1;
    return *d <= now_ms ? 0 : static_cast<int>(*d - now_ms);
  }

  // Takes one timer whose deadline is <= now_ms and returns its token through `token`; false when none
  // is due. Call in a loop. Timers inserted while popping with a deadline <= now_ms are popped in the
  // same loop. Within one millisecond the order is unspecified.
  bool pop_expired(uint64_t now_ms, uint64_t& token) {
    while (size_ > 0 && cursor_ <= now_ms) {
      const uint32_t slot = slot_of(cursor_);
      for (uint32_t i = heads_[slot]; i != kNil; i = nodes_[i].next) {
        if (nodes_[i].deadline <= now_ms) {
          token = nodes_[i].token;
          unlink(i);
          free_node(i);
          --size_;
          return true;
        }
      }
      // Nothing due in this slot (empty, or only later turns): jump to the next non-empty slot.
      const uint32_t from = slot_of(cursor_ + 1);
      uint32_t next = find_set_from(from);
      if (next == kNil) next = find_set_from(0);
      if (next == kNil) break;
      // Never past now + 1: a later insert must not land behind the cursor and fire late.
      cursor_ = std::min(cursor_ + 1 + ((next - from) & (kSlots - 1)), now_ms + 1);
    }
    if (cursor_ <= now_ms) cursor_ = now_ms + 1;
    return false;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Node {
    uint64_t deadline = 0;
    uint64_t token = 0;
    uint32_t prev = kNil;
    uint32_t next = kNil;  // also the free-list link
    uint32_t gen = 0;
    uint32_t slot = kNil;  // kNil while the node is free
  };
  static constexpr uint32_t kWords = kSlots / 64;        // level-0 bitmap: one bit per slot
  static constexpr uint32_t kSummaryWords = kWords / 64;  // level-1 bitmap: one bit per non-zero word
  static_assert(kSlots % (64 * 64) == 0, "the two-level bitmap needs kSlots to be a multiple of 4096");

  static uint32_t slot_of(uint64_t ms) { return static_cast<uint32_t>(ms & (kSlots - 1)); }

  uint32_t alloc_node() {
    uint32_t i;
    if (free_ != kNil) {
      i = free_;
      free_ = nodes_[i].next;
    } else {
      i = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    Node& n = nodes_[i];
    n.gen = n.gen + 1 == 0 ? 1 : n.gen + 1;
    return i;
  }

  void free_node(uint32_t i) {
    Node& n = nodes_[i];
    n.slot = kNil;
    n.prev = kNil;
    n.gen = n.gen + 1 == 0 ? 1 : n.gen + 1;  // ids of the fired or cancelled timer go stale at once
    n.next = free_;
    free_ = i;
  }

  void link(uint32_t i, uint32_t slot) {
    Node& n = nodes_[i];
    n.slot = slot;
    n.prev = kNil;
    n.next = heads_[slot];
    if (n.next != kNil) nodes_[n.next].prev = i;
    heads_[slot] = i;
    const uint32_t w = slot / 64;
    bits_[w] |= uint64_t{1} << (slot % 64);
    summary_[w / 64] |= uint64_t{1} << (w % 64);
  }

  void unlink(uint32_t i) {
    Node& n = nodes_[i];
    if (n.prev != kNil) {
      nodes_[n.prev].next = n.next;
    } else {
      heads_[n.slot] = n.next;
    }
    if (n.next != kNil) nodes_[n.next].prev = n.prev;
    if (heads_[n.slot] == kNil) {
      const uint32_t w = n.slot / 64;
      bits_[w] &= ~(uint64_t{1} << (n.slot % 64));
      if (bits_[w] == 0) summary_[w / 64] &= ~(uint64_t{1} << (w % 64));
    }
  }

  // The first non-empty slot at or after `slot` (no wrap-around), or kNil.
  uint32_t find_set_from(uint32_t slot) const {
    uint32_t w = slot / 64;
    const uint64_t here = bits_[w] & (~uint64_t{0} << (slot % 64));
    if (here != 0) return w * 64 + static_cast<uint32_t>(std::countr_zero(here));
    ++w;
    if (w == kWords) return kNil;
    for (uint32_t s = w / 64; s < kSummaryWords; ++s) {
      uint64_t sb = summary_[s];
      if (s == w / 64) sb &= ~uint64_t{0} << (w % 64);
      if (sb != 0) {
        const uint32_t word = s * 64 + static_cast<uint32_t>(std::countr_zero(sb));
        return word * 64 + static_cast<uint32_t>(std::countr_zero(bits_[word]));
      }
    }
    return kNil;
  }

  uint64_t cursor_;  // every slot for a time before cursor_ has been emptied of its due timers
  std::size_t size_ = 0;
  uint32_t free_ = kNil;
  std::vector<Node> nodes_;
  std::array<uint32_t, kSlots> heads_;
  std::array<uint64_t, kWords> bits_{};
  std::array<uint64_t, kSummaryWords> summary_{};
};

}  // namespace ringbench
