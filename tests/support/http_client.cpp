// Test client; see http_client.hpp.
#include "http_client.hpp"

#include <llhttp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>

#include "core/net.hpp"

namespace rbtest {
namespace {

struct ParseState {
  HttpResponse resp;
  std::string field;
  std::string value;
  bool in_value = false;
  bool complete = false;
  bool head_request = false;
};

ParseState* st(llhttp_t* p) { return static_cast<ParseState*>(p->data); }

void flush_header(ParseState* s) {
  if (!s->field.empty()) {
    std::transform(s->field.begin(), s->field.end(), s->field.begin(), ::tolower);
    s->resp.headers[s->field] = s->value;
  }
  s->field.clear();
  s->value.clear();
  s->in_value = false;
}

const llhttp_settings_t& settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
      if (st(p)->in_value) flush_header(st(p));
      st(p)->field.append(at, len);
      return 0;
    };
    x.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
      st(p)->in_value = true;
      st(p)->value.append(at, len);
      return 0;
    };
    x.on_headers_complete = [](llhttp_t* p) {
      flush_header(st(p));
      st(p)->resp.status = p->status_code;
      st(p)->resp.http_minor = p->http_minor;
      return st(p)->head_request ? 1 : 0;
    };
    x.on_body = [](llhttp_t* p, const char* at, size_t len) {
      st(p)->resp.body.append(at, len);
      return 0;
    };
    x.on_message_complete = [](llhttp_t* p) {
      st(p)->complete = true;
      return static_cast<int>(HPE_PAUSED);
    };
    return x;
  }();
  return s;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

Client::Client(uint16_t port, const char* host) {
  fd_ = ringbench::connect_tcp(host, port);
  REQUIRE(fd_ >= 0);
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

bool Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t w = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

bool Client::fill(std::chrono::steady_clock::time_point deadline) {
  if (eof_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
  if (r <= 0) {
    eof_ = true;
    return false;
  }
  buffered_.append(buf, static_cast<std::size_t>(r));
  return true;
}

std::optional<HttpResponse> Client::read_response(std::chrono::milliseconds timeout, bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ParseState s;
  s.head_request = head_request;
  llhttp_t p;
  llhttp_init(&p, HTTP_RESPONSE, &settings());
  p.data = &s;
  // Each received chunk is parsed once; llhttp keeps no pointers into it between calls, so a fully
  // consumed buffer is dropped, and the bytes after a complete response stay for the next call.
  for (;;) {
    const llhttp_errno_t err = llhttp_execute(&p, buffered_.data(), buffered_.size());
    if (err == HPE_PAUSED && s.complete) {
      buffered_.erase(0, static_cast<std::size_t>(llhttp_get_error_pos(&p) - buffered_.data()));
      return s.resp;
    }
    if (err != HPE_OK) return std::nullopt;
    buffered_.clear();
    if (!fill(deadline)) return std::nullopt;
  }
}

bool Client::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

void Client::reset() {
  const linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

std::optional<HttpResponse> http_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  Client c(port);
  if (!c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return std::nullopt;
  return c.read_response(timeout);
}

}  // namespace rbtest
