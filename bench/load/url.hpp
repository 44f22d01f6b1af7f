// URL parsing for `ringbench load`: only http://HOST[:PORT][/PATH[?QUERY]] (IPv6 as [ADDR]).
#pragma once
#include <cstdint>
#include <string>

namespace ringbench::load {

struct Url {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";  // path and query, as sent in the request line
};

// Throws std::invalid_argument with a one-line reason (non-http scheme, missing host, bad port, ...).
Url parse_url(const std::string& text);

}  // namespace ringbench::load
