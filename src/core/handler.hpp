// The handler: decides what to answer and how long the server must wait first. It never sleeps; each
// server waits with its own I/O model's timer and then sends `reply`.
//   any path        -> 200 "Hello, World!" after --delay-ms
//   GET /delay/<ms> -> the same after <ms> (at most --max-delay-ms, else 400)
//   GET /bytes/<n>  -> n body bytes after --delay-ms (at most --max-response-bytes, else 400)
//   GET /healthz    -> 200 at once
//   HEAD            -> the GET's headers (same Content-Length), no body
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>

#include "core/config.hpp"
#include "core/http_parser.hpp"
#include "core/response.hpp"

namespace ringbench {

struct Action {
  uint32_t delay_ms = 0;
  Reply reply;
};

class Handler {
 public:
  explicit Handler(const ServerConfig& cfg);

  // `force_close`: the server will close after this reply (draining, or keep-alive off).
  // `scratch` is the connection's own buffer for a reply head formatted per request; reply.head may
  // point into it, so it must outlive the send.
  Action handle(const Request& req, bool force_close, std::string& scratch) const;

  // Parses the next request from `input` (advancing it past the bytes used) and decides its reply.
  // Empty when `input` ran out mid-request: feed more bytes. A parse error yields its error reply.
  std::optional<Action> next(RequestParser& parser, std::string_view& input, bool force_close,
                             std::string& scratch) const;

  // The reply to a request the parser rejected (or a connection the server refuses): always closes.
  static Reply error(int status);

 private:
  const ServerConfig& cfg_;
};

}  // namespace ringbench
