// The response bytes: identical for every backend because every backend takes them from here.
#include "core/response.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace ringbench {
namespace {

constexpr std::array<int, 8> kErrorStatuses = {400, 408, 413, 414, 431, 501, 503, 500};

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

std::string_view conn_line(ConnHeader c) {
  switch (c) {
    case ConnHeader::keep_alive: return "Connection: keep-alive\r\n";
    case ConnHeader::close: return "Connection: close\r\n";
    case ConnHeader::none: break;
  }
  return "";
}

std::string build(int status, std::string_view body, bool head_only, ConnHeader conn) {
  std::string s = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n",
                              status, reason_phrase(status), body.size(), conn_line(conn));
  if (!head_only) s.append(body);
  return s;
}

}  // namespace

const char* pattern_block() {
  static const std::array<char, kPatternBlockBytes> block = [] {
    std::array<char, kPatternBlockBytes> b{};
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789\n";
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = alphabet[i % alphabet.size()];
    return b;
  }();
  return block.data();
}

std::size_t pattern_iovecs(uint64_t offset, uint64_t remaining, iovec* iov, std::size_t max_iov) {
  std::size_t n = 0;
  const char* block = pattern_block();
  while (remaining > 0 && n < max_iov) {
    const std::size_t at = static_cast<std::size_t>(offset % kPatternBlockBytes);
    const std::size_t len = static_cast<std::size_t>(std::min<uint64_t>(remaining, kPatternBlockBytes - at));
    iov[n++] = iovec{const_cast<char*>(block + at), len};
    offset += len;
    remaining -= len;
  }
  return n;
}

ResponseTable::ResponseTable() {
  for (int head_only = 0; head_only < 2; ++head_only) {
    for (int c = 0; c < 3; ++c) {
      hello_[head_only][c] = build(200, kHelloBody, head_only != 0, static_cast<ConnHeader>(c));
    }
  }
  for (std::size_t i = 0; i < kErrorStatuses.size(); ++i) {
    const int st = kErrorStatuses[i];
    errors_[i] = build(st, fmt::format("{} {}\n", st, reason_phrase(st)), false, ConnHeader::close);
  }
}

std::string_view ResponseTable::hello(bool head_only, ConnHeader conn) const {
  return hello_[head_only ? 1 : 0][static_cast<int>(conn)];
}

std::string_view ResponseTable::error(int status) const {
  for (std::size_t i = 0; i < kErrorStatuses.size(); ++i) {
    if (kErrorStatuses[i] == status) return errors_[i];
  }
  return errors_[kErrorStatuses.size() - 1];
}

ConnHeader ResponseTable::conn_header(bool close, uint8_t http_minor) {
  if (close) return ConnHeader::close;
  return http_minor == 0 ? ConnHeader::keep_alive : ConnHeader::none;
}

std::string_view ResponseTable::bytes_head(uint64_t n, ConnHeader conn, std::string& out) {
  out.clear();
  fmt::format_to(std::back_inserter(out),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n{}\r\n",
                 n, conn_line(conn));
  return out;
}

const ResponseTable& responses() {
  static const ResponseTable table;
  return table;
}

}  // namespace ringbench
