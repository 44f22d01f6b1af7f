// The one 64-bit token layout of the project: io_uring user_data (server and load generator), epoll event
// data and timer-wheel entries all name an operation, a connection slot and that slot's incarnation.
//
//   bits 63..56  op          what the completion or event is for (each user has its own enum)
//   bits 55..32  generation  the slot's generation when the operation was submitted (24 bits, wraps)
//   bits 31..0   slot        index into the owner's connection table (0 for loop-level operations)
//
// A slot's generation is bumped when its connection is released, so a completion that still names the
// old generation is recognised as stale and dropped instead of touching the slot's next connection.
#pragma once
#include <cstdint>
#include <type_traits>

namespace ringbench {

inline constexpr int kTokenOpShift = 56;
inline constexpr int kTokenGenShift = 32;
inline constexpr uint32_t kTokenGenMask = (1u << 24) - 1;

template <class OpEnum>
struct SlotToken {
  static_assert(std::is_enum_v<OpEnum> && sizeof(OpEnum) == 1, "an op is one byte");
  OpEnum op;
  uint32_t gen;
  uint32_t slot;
};

template <class OpEnum>
constexpr uint64_t encode_token(OpEnum op, uint32_t slot, uint32_t gen) {
  return (uint64_t{static_cast<uint8_t>(op)} << kTokenOpShift) | (uint64_t{gen & kTokenGenMask} << kTokenGenShift) |
         slot;
}

template <class OpEnum>
constexpr SlotToken<OpEnum> decode_token(uint64_t token) {
  return SlotToken<OpEnum>{static_cast<OpEnum>(token >> kTokenOpShift),
                           static_cast<uint32_t>(token >> kTokenGenShift) & kTokenGenMask,
                           static_cast<uint32_t>(token)};
}

// The next generation of a slot: never 0, so a zero token never names a live connection.
constexpr uint32_t next_generation(uint32_t gen) {
  const uint32_t n = (gen + 1) & kTokenGenMask;
  return n == 0 ? 1 : n;
}

namespace slot_token_check {
enum class TestOp : uint8_t { a = 1, b = 0xff };
static_assert(decode_token<TestOp>(encode_token(TestOp::b, 0xffffffffu, kTokenGenMask)).slot == 0xffffffffu);
static_assert(decode_token<TestOp>(encode_token(TestOp::b, 7, 0xffffffffu)).gen == kTokenGenMask);
static_assert(decode_token<TestOp>(encode_token(TestOp::a, 7, 3)).op == TestOp::a);
static_assert(next_generation(kTokenGenMask) == 1);
}  // namespace slot_token_check

}  // namespace ringbench
