// RequestParser: llhttp in strict mode plus the limits llhttp does not know (header, URL and body size).
#include "core/http_parser.hpp"

#include <algorithm>
#include <cstring>

namespace ringbench {
namespace {

llhttp_settings_t make_settings(llhttp_cb begin, llhttp_data_cb url, llhttp_data_cb value, llhttp_cb value_done,
                                llhttp_cb headers, llhttp_data_cb body, llhttp_cb complete) {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = begin;
  s.on_url = url;
  s.on_header_value = value;
  s.on_header_value_complete = value_done;
  s.on_headers_complete = headers;
  s.on_body = body;
  s.on_message_complete = complete;
  return s;
}

RequestParser* self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }

}  // namespace

RequestParser::RequestParser(const Limits& limits) : limits_(limits) { reset(); }

void RequestParser::reset() {
  static const llhttp_settings_t settings = make_settings(
      &RequestParser::on_message_begin, &RequestParser::on_url, &RequestParser::on_header_value,
      &RequestParser::on_header_value_complete, &RequestParser::on_headers_complete,
      &RequestParser::on_body, &RequestParser::on_message_complete);
  llhttp_init(&parser_, HTTP_REQUEST, &settings);
  parser_.data = this;
  request_.target.clear();
  header_bytes_ = 0;
  pending_status_ = 0;
  pending_reason_ = "";
  started_ = false;
  headers_done_ = false;
  value_open_ = false;
  prev_last_byte_ = 0;
}

int RequestParser::on_message_begin(llhttp_t* p) {
  RequestParser* rp = self(p);
  rp->started_ = true;
  rp->headers_done_ = false;
  rp->request_.target.clear();
  rp->request_.body_bytes = 0;
  return HPE_OK;
}

int RequestParser::on_url(llhttp_t* p, const char* at, std::size_t len) {
  RequestParser* rp = self(p);
  if (rp->request_.target.size() + len > rp->limits_.max_url_bytes) {
    rp->pending_status_ = 414;
    rp->pending_reason_ = "request target longer than --max-url-bytes";
    return HPE_USER;
  }
  rp->request_.target.append(at, len);
  return HPE_OK;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
  // llhttp 8 accepts obs-fold (a header value continued on the next line) and hands the continuation over
  // as a second span of the same value. RFC 9112 lets a server reject it, and a proxy that unfolds
  // differently is a smuggling risk. A value's second span is a fold unless it merely continues the value
  // across two feed() calls that did not split it at a line end.
  RequestParser* rp = self(p);
  const bool continues_across_calls = at == rp->exec_start_ && rp->prev_last_byte_ != '\n';
  if (rp->value_open_ && !continues_across_calls) {
    rp->pending_status_ = 400;
    rp->pending_reason_ = "obsolete line folding in a header value";
    return HPE_USER;
  }
  (void)len;
  rp->value_open_ = true;
  return HPE_OK;
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  self(p)->value_open_ = false;
  return HPE_OK;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  RequestParser* rp = self(p);
  rp->headers_done_ = true;
  if (p->http_major != 1) {
    rp->pending_status_ = 400;  // HTTP/0.9 simple requests and HTTP/2 prefaces: this is an HTTP/1.x server
    rp->pending_reason_ = "unsupported HTTP version";
    return -1;
  }
  // llhttp hands every byte after a CONNECT or an Upgrade request to the caller as another protocol. This
  // server speaks HTTP/1.1 only: a CONNECT gets 501, and an Upgrade offer is declined by ignoring it
  // (RFC 9110 §7.8), so the bytes that follow are parsed as the next request, never answered twice.
  if (p->method == HTTP_CONNECT) {
    rp->pending_status_ = 501;
    rp->pending_reason_ = "CONNECT is not supported";
    return -1;
  }
  p->upgrade = 0;
  // Content-Length is known here; chunked bodies are counted in on_body.
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > rp->limits_.max_body_bytes) {
    rp->pending_status_ = 413;
    rp->pending_reason_ = "Content-Length over --max-body-bytes";
    return -1;
  }
  return HPE_OK;
}

int RequestParser::on_body(llhttp_t* p, const char*, std::size_t len) {
  RequestParser* rp = self(p);
  rp->request_.body_bytes += len;
  if (rp->request_.body_bytes > rp->limits_.max_body_bytes) {
    rp->pending_status_ = 413;
    rp->pending_reason_ = "chunked body over --max-body-bytes";
    return HPE_USER;
  }
  return HPE_OK;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  RequestParser* rp = self(p);
  Request& r = rp->request_;
  r.method = p->method == HTTP_GET ? Method::get : p->method == HTTP_HEAD ? Method::head : Method::other;
  r.http_minor = p->http_minor;
  r.keep_alive = llhttp_should_keep_alive(p) != 0;
  // Pause so the caller answers this request before the parser moves on to a pipelined one.
  return HPE_PAUSED;
}

ParseResult RequestParser::fail(std::size_t consumed, llhttp_errno_t err) {
  if (pending_status_ != 0) return {ParseStatus::error, consumed, pending_status_, pending_reason_};
  const char* reason = llhttp_get_error_reason(&parser_);
  return {ParseStatus::error, consumed, 400, reason ? reason : llhttp_errno_name(err)};
}

ParseResult RequestParser::feed(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (!started_ && bytes[done] != '\r' && bytes[done] != '\n') started_ = true;
    std::size_t n = bytes.size() - done;
    if (started_ && !headers_done_) {
      // Feed no more than the header budget allows, so an endless header section stops at the limit.
      if (header_bytes_ >= limits_.max_header_bytes) {
        return {ParseStatus::error, done, 431, "request line and headers over --max-header-bytes"};
      }
      n = std::min(n, limits_.max_header_bytes - header_bytes_);
    }
    const char* start = bytes.data() + done;
    exec_start_ = start;
    const llhttp_errno_t err = llhttp_execute(&parser_, start, n);
    prev_last_byte_ = start[n - 1];
    if (err == HPE_PAUSED) {
      const std::size_t used = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - start);
      llhttp_resume(&parser_);
      started_ = false;
      headers_done_ = false;
      header_bytes_ = 0;
      return {ParseStatus::request, done + used};
    }
    if (err != HPE_OK) {
      const char* pos = llhttp_get_error_pos(&parser_);
      return fail(done + (pos ? static_cast<std::size_t>(pos - start) : 0), err);
    }
    if (started_ && !headers_done_) header_bytes_ += n;
    done += n;
  }
  return {ParseStatus::need_more, done};
}

}  // namespace ringbench
