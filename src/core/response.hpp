// Response bytes shared by every backend. The fixed replies are built once at start-up; only the head of
// a /bytes/<n> reply is formatted per request. Bodies of /bytes/<n> are never copied per request: they
// are n bytes of one shared 64 KiB pattern block, sent as repeated iovecs over the same memory.
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringbench {

// How the reply's Connection header reads. HTTP/1.1 keep-alive needs no header; an HTTP/1.0 client that
// asked for keep-alive must be told it got it.
enum class ConnHeader : uint8_t { none, keep_alive, close };

struct Reply {
  std::string_view head;  // status line, headers and (for fixed replies) the whole body
  uint64_t body_len = 0;  // pattern bytes to send after `head` (GET /bytes/<n>); 0 for fixed replies
  int status = 200;
  bool close = false;     // the server closes the connection once the reply is sent
};

inline constexpr std::size_t kPatternBlockBytes = 64 * 1024;
inline constexpr std::string_view kHelloBody = "Hello, World!\n";

// The shared body block: kPatternBlockBytes of printable bytes; byte i of any /bytes body is block[i % size].
const char* pattern_block();

// Fills up to `max_iov` iovecs describing body bytes [offset, offset + remaining) and returns how many it
// filled. Each iovec points into pattern_block(), which lives for the whole process.
std::size_t pattern_iovecs(uint64_t offset, uint64_t remaining, iovec* iov, std::size_t max_iov);

// The fixed replies, built once.
class ResponseTable {
 public:
  ResponseTable();
  std::string_view hello(bool head_only, ConnHeader conn) const;
  std::string_view error(int status) const;  // always Connection: close
  static ConnHeader conn_header(bool close, uint8_t http_minor);

  // Formats the head of an n-byte /bytes reply into `out` (reused by the caller; no allocation once it
  // has grown) and returns a view of it.
  static std::string_view bytes_head(uint64_t n, ConnHeader conn, std::string& out);

 private:
  std::string hello_[2][3];  // [head_only][ConnHeader]
  std::string errors_[8];
};

const ResponseTable& responses();

}  // namespace ringbench
