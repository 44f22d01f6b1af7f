// Incremental HTTP/1.x request parser over llhttp. It owns no socket and no clock: a server feeds it the
// bytes it received and gets back one complete request at a time, or the status of the error to answer.
#pragma once
#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.hpp"

namespace ringbench {

enum class Method : uint8_t { get, head, other };

struct Request {
  Method method = Method::get;
  std::string target;        // request target as sent ("/delay/100?x=1")
  uint8_t http_minor = 1;    // HTTP/1.<minor>
  bool keep_alive = true;    // llhttp's verdict from version + Connection header
  uint64_t body_bytes = 0;   // request body length, read and discarded
};

enum class ParseStatus : uint8_t {
  need_more,  // every byte was consumed; feed more when it arrives
  request,    // one request is complete: request() holds it; bytes after `consumed` are the next one's
  error,      // answer `http_status` and close; the parser is dead until reset()
};

struct ParseResult {
  ParseStatus status;
  std::size_t consumed;     // bytes of the input taken by this call
  int http_status = 0;      // with ParseStatus::error: 400, 413, 414, 431 or 501
  const char* reason = "";  // with ParseStatus::error: why, for logs and tests
};

class RequestParser {
 public:
  explicit RequestParser(const Limits& limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from `bytes` until one request completes, an error occurs or the input runs out.
  // After ParseStatus::request, call again with the unconsumed rest (it may hold a pipelined request).
  ParseResult feed(std::string_view bytes);

  // The request completed by the last feed(); valid until the next feed() or reset().
  const Request& request() const { return request_; }

  // True once any byte of the next request has arrived (the header timeout runs from then).
  bool mid_request() const { return started_; }

  void reset();

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, std::size_t len);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t len);
  static int on_message_complete(llhttp_t* p);
  ParseResult fail(std::size_t consumed, llhttp_errno_t err);

  const Limits limits_;  // a copy: a parser must not depend on the lifetime of the caller's Limits
  llhttp_t parser_{};
  Request request_;
  std::size_t header_bytes_ = 0;  // bytes of the current request seen before its headers completed
  int pending_status_ = 0;        // status chosen by a callback that stopped the parser
  const char* pending_reason_ = "";
  const char* exec_start_ = nullptr;  // first byte of the current llhttp_execute call
  char prev_last_byte_ = 0;           // last byte of the previous llhttp_execute call
  bool value_open_ = false;           // a header value has started and not yet completed
  bool started_ = false;
  bool headers_done_ = false;
};

}  // namespace ringbench
