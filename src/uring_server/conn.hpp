// One connection of the io_uring server: the HTTP state (parser, reply in progress, pipelined bytes) and
// the bookkeeping that makes its lifetime safe with operations in flight. Owned by a loop's connection
// table (src/uring_server/loop*.cpp); a slot is reused only after its last completion has arrived.
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <liburing.h>

#include "core/config.hpp"
#include "core/http_parser.hpp"
#include "core/response.hpp"
#include "core/timer_wheel.hpp"

namespace ringbench {

enum class ConnState : uint8_t {
  free,       // slot unused
  reading,    // waiting for (the rest of) a request; nothing being answered
  delaying,   // a complete request waits for its delay
  sending,    // its reply is being sent
  lingering,  // an error reply was sent: discard input until EOF or --linger-ms, then close
  closing,    // cancels submitted; released once no operation of it is in flight
};

// The one deadline a connection has at a time (the blocking server's timeouts, one for one).
enum class DeadlineKind : uint8_t {
  none,    // waiting for its delay: no timeout applies
  read,    // idle keep-alive (closed silently) or mid-request (--header-timeout-ms: 408)
  send,    // --send-timeout-ms without progress
  linger,  // --linger-ms after an error reply
};

inline constexpr std::size_t kMaxSendIov = 64;

// A body reply's scatter list. Memory an SQE points to belongs to the connection until its completion
// arrives, so this lives in the connection (allocated on the first body reply), not on the stack.
struct SendVec {
  msghdr msg{};
  std::array<iovec, kMaxSendIov> iov{};
};

struct Conn {
  Conn(const Limits& limits, uint32_t slot_index) : parser(limits), slot(slot_index) {}

  RequestParser parser;
  std::string scratch;   // head of a /bytes reply (reply.head points here while it is sent)
  std::string pending;   // bytes received while a request was being answered (pipelining)
  std::unique_ptr<SendVec> sendvec;
  std::unique_ptr<char[]> recv_buf;  // single-shot recv mode only
  Reply reply;
  uint64_t sent = 0;              // bytes of `reply` (head + body) sent so far
  uint64_t idle_deadline = 0;     // ms; read deadline while no request has started
  uint64_t request_deadline = 0;  // ms; read deadline once a request has started (0 = not started)
  uint64_t deadline_at = 0;       // ms; the current deadline of kind `deadline_kind`
  uint64_t deadline_armed_at = 0; // ms; when `deadline_timer` fires (never later than deadline_at)
  TimerId deadline_timer;         // wheel entry for the deadline (lazily moved, see set_deadline)
  TimerId delay_timer;            // DelayTimers entry (delays_, not wheel_) for the delay (--timer wheel)
  __kernel_timespec delay_ts{};   // IORING_OP_TIMEOUT's timespec (--timer ring): read by the kernel
  int fd = -1;                    // socket, or registered-file index with --fixed-files
  const uint32_t slot;
  uint32_t gen = 1;
  uint16_t inflight = 0;          // submitted operations naming this connection, not yet completed
  ConnState state = ConnState::free;
  DeadlineKind deadline_kind = DeadlineKind::none;
  bool recv_armed = false;        // a recv (multishot or single) is in flight
  bool recv_cancel_sent = false;  // a multishot recv was cancelled for back-pressure
  bool ring_delay_armed = false;  // an IORING_OP_TIMEOUT for the delay is in flight
  bool peer_eof = false;          // the client shut down its sending side
  bool refused = false;           // over --max-connections: answered 503, not counted as open
  bool served_any = false;        // a reply went out: a drain may now close it between requests
};

}  // namespace ringbench
