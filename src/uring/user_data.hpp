// The 64-bit user_data every SQE of the io_uring server carries, and the token of its timer-wheel
// entries: which operation completed, for which connection slot, in which incarnation of that slot.
//
//   bits 63..56  Op          what the completion is for
//   bits 55..32  generation  the slot's generation when the operation was submitted (24 bits, wraps)
//   bits 31..0   slot        index into the loop's connection table (0 for loop-level operations)
//
// A connection's slot generation is bumped when it is released, so a completion that still names the
// old generation is recognised as stale and dropped instead of touching the slot's next connection.
#pragma once
#include <cstdint>

namespace ringbench {

enum class Op : uint8_t {
  accept = 1,    // (multishot) accept on the loop's listening socket
  recv,          // (multishot) recv on a connection
  send,          // send / sendmsg of a reply (copying)
  send_zc,       // sendmsg_zc of a reply body; its notification CQE carries the same user_data
  shutdown,      // SHUT_WR before lingering after an error reply
  delay,         // the request's delay: an IORING_OP_TIMEOUT (--timer ring) or a wheel entry (--timer wheel)
  deadline,      // wheel entry: the connection's read / send / linger deadline
  wake,          // read on the loop's eventfd: the main thread asks the loop to drain
  tick,          // the one ring timeout that wakes the loop for the timer wheel's nearest deadline
  drain_end,     // wheel entry: --drain-ms has run out
  accept_retry,  // wheel entry: re-arm accept after running out of descriptors
  ignore,        // cancels, timeout updates, direct closes: their completions carry no information
};

struct UserData {
  Op op;
  uint32_t gen;
  uint32_t slot;
};

inline constexpr int kOpShift = 56;
inline constexpr int kGenShift = 32;
inline constexpr uint32_t kGenMask = (1u << 24) - 1;

constexpr uint64_t encode_user_data(Op op, uint32_t slot, uint32_t gen) {
  return (uint64_t{static_cast<uint8_t>(op)} << kOpShift) | (uint64_t{gen & kGenMask} << kGenShift) | slot;
}

constexpr UserData decode_user_data(uint64_t ud) {
  return UserData{static_cast<Op>(ud >> kOpShift), static_cast<uint32_t>(ud >> kGenShift) & kGenMask,
                  static_cast<uint32_t>(ud)};
}

// The next generation of a slot: never 0, so a zero user_data never names a live connection.
constexpr uint32_t next_generation(uint32_t gen) {
  const uint32_t n = (gen + 1) & kGenMask;
  return n == 0 ? 1 : n;
}

static_assert(decode_user_data(encode_user_data(Op::send_zc, 0xffffffffu, kGenMask)).slot == 0xffffffffu);
static_assert(decode_user_data(encode_user_data(Op::send_zc, 7, kGenMask)).gen == kGenMask);
static_assert(decode_user_data(encode_user_data(Op::ignore, 7, 3)).op == Op::ignore);
static_assert(next_generation(kGenMask) == 1);
// liburing reserves user_data ~0 (LIBURING_UDATA_TIMEOUT) for its own timeouts on old kernels.
static_assert(encode_user_data(Op::ignore, 0xffffffffu, kGenMask) != ~uint64_t{0});

}  // namespace ringbench
