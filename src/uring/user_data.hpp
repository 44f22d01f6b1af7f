// The 64-bit user_data every SQE of the io_uring server carries, and the token of its timer-wheel
// entries, in the project's one layout (core/slot_token.hpp): which operation completed, for which
// connection slot, in which incarnation of that slot.
#pragma once
#include <cstdint>

#include "core/slot_token.hpp"

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
  ignore,        // cancels, timeout updates: their completions carry no information
  close_direct,  // close of a direct descriptor (--fixed-files): its table slot is free once this completes
};

using UserData = SlotToken<Op>;

constexpr uint64_t encode_user_data(Op op, uint32_t slot, uint32_t gen) { return encode_token(op, slot, gen); }
constexpr UserData decode_user_data(uint64_t ud) { return decode_token<Op>(ud); }

static_assert(decode_user_data(encode_user_data(Op::send_zc, 0xffffffffu, kTokenGenMask)).slot == 0xffffffffu);
static_assert(decode_user_data(encode_user_data(Op::send_zc, 7, kTokenGenMask)).gen == kTokenGenMask);
static_assert(decode_user_data(encode_user_data(Op::ignore, 7, 3)).op == Op::ignore);
// liburing reserves user_data ~0 (LIBURING_UDATA_TIMEOUT) for its own timeouts on old kernels.
static_assert(encode_user_data(Op::ignore, 0xffffffffu, kTokenGenMask) != ~uint64_t{0});

}  // namespace ringbench
