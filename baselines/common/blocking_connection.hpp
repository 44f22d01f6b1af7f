// One connection served with blocking I/O from its first byte to its close: read, parse, wait with
// nanosleep, write. Shared by the blocking server (one connection at a time per process) and the threads
// server (one thread per connection), whose only difference is how many of these run at once.
#pragma once
#include "core/config.hpp"
#include "core/handler.hpp"

namespace ringbench {

// Serves `fd` until the client closes, a limit or timeout ends it, or the stop signal drains it.
// Does not close `fd`; the caller owns it. Never throws.
void serve_blocking_connection(int fd, const ServerConfig& cfg, const Handler& handler);

// Blocking send of a whole reply (head, then the pattern body) with short-write handling.
// Returns 0 or -errno.
int send_reply_blocking(int fd, const Reply& reply);

// After an error reply: stop sending, read and discard for up to `linger_ms` or until the client closes,
// so the client reads the reply before the close turns into a reset.
void linger_close_blocking(int fd, uint32_t linger_ms);

}  // namespace ringbench
