// Per-connection state of the epoll server (baselines/epoll/server.cpp) and the 64-bit token that names
// a connection in epoll_event.data and in TimerWheel entries.
#pragma once
#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "core/http_parser.hpp"
#include "core/response.hpp"
#include "core/timer_wheel.hpp"

namespace ringbench::epoll {

// Token layout: [generation:32][slot:32]. A slot's generation is bumped when its connection closes, so an
// event or timer that arrives for a closed connection (even after the slot was reused) is recognised.
// Slots at the top of the range name the loop's own descriptors instead of a connection.
enum class Special : uint32_t { listener = 0xFFFF'FFFFu, wake = 0xFFFF'FFFEu, accept_backoff = 0xFFFF'FFFDu };
inline constexpr uint32_t kMaxSlot = 0xFFFF'FFF0u;

inline constexpr uint64_t make_token(uint32_t slot, uint32_t gen) { return (uint64_t{gen} << 32) | slot; }
inline constexpr uint64_t make_token(Special s) { return static_cast<uint32_t>(s); }
inline constexpr uint32_t token_slot(uint64_t t) { return static_cast<uint32_t>(t); }
inline constexpr uint32_t token_gen(uint64_t t) { return static_cast<uint32_t>(t >> 32); }
static_assert(token_slot(make_token(7, 9)) == 7 && token_gen(make_token(7, 9)) == 9);
static_assert(token_slot(make_token(Special::wake)) == static_cast<uint32_t>(Special::wake));

enum class Phase : uint8_t {
  reading,    // between requests (idle keep-alive) or in the middle of one: deadline = idle or header timeout
  waiting,    // the request's delay runs on the wheel; input is not read meanwhile
  writing,    // a reply is partly sent and EPOLLOUT is armed: deadline = send timeout since the last progress
  lingering,  // an error reply went out: write side shut, input discarded until EOF or the linger deadline
};

struct Conn {
  explicit Conn(const Limits& limits) : parser(limits) {}
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  int fd = -1;  // -1 while the slot is free
  uint32_t slot = 0;  // index in the loop's connection table
  uint32_t gen = 1;
  Phase phase = Phase::reading;
  bool counted = false;    // counts against --max-connections (refused connections do not)
  bool rd_ready = false;   // the socket may hold unread input (an edge was seen and not read to the end)
  bool peer_eof = false;   // EPOLLRDHUP seen: read until recv returns 0 instead of stopping at a short read
  bool out_armed = false;  // EPOLLOUT is in the interest set (added at the first short write, then kept)

  RequestParser parser;
  std::string pending;  // bytes received but not yet parsed (pipelined), kept while a reply waits or writes
  std::string scratch;  // per-request reply head (handler.hpp: reply.head may point here)
  Reply reply;          // the reply being delayed or sent
  uint64_t head_off = 0;
  uint64_t body_off = 0;

  uint64_t deadline = 0;          // when this phase times out (ms); the wheel entry may fire earlier
  uint64_t idle_deadline = 0;     // header timeout from accept, then keep-alive timeout after each reply
  uint64_t request_deadline = 0;  // header timeout of a partly received request; 0 = not armed
  TimerId timer;                  // the wheel entry; scheduled at timer_at <= deadline
  uint64_t timer_at = 0;
  TimerId delay_timer;            // the DelayTimers entry while phase is waiting
};

}  // namespace ringbench::epoll
