// RequestParser unit tests: good requests split at every byte boundary, pipelining, and bad input with
// the status each must get. No sockets: the parser only ever sees bytes.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/http_parser.hpp"

using namespace ringbench;

namespace {

struct Parsed {
  std::vector<Request> requests;
  int error = 0;
};

// Feeds `chunks` in order, collecting every complete request until an error.
Parsed parse_chunks(const std::vector<std::string>& chunks, const Limits& limits = Limits{}) {
  RequestParser p(limits);
  Parsed out;
  for (const auto& chunk : chunks) {
    std::string_view in = chunk;
    while (!in.empty()) {
      const ParseResult r = p.feed(in);
      in.remove_prefix(r.consumed);
      if (r.status == ParseStatus::error) {
        out.error = r.http_status;
        return out;
      }
      if (r.status == ParseStatus::request) out.requests.push_back(p.request());
      if (r.status == ParseStatus::need_more) break;
    }
  }
  return out;
}

Parsed parse(const std::string& bytes, const Limits& limits = Limits{}) { return parse_chunks({bytes}, limits); }

}  // namespace

TEST_CASE("good requests parse the same whether whole, split at any byte, or byte by byte", "[parser]") {
  struct Good {
    std::string bytes;
    Method method;
    std::string target;
    uint8_t minor;
    bool keep_alive;
    uint64_t body;
  };
  const std::vector<Good> table = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Method::get, "/", 1, true, 0},
      {"HEAD /bytes/10 HTTP/1.1\r\nHost: a\r\n\r\n", Method::head, "/bytes/10", 1, true, 0},
      {"GET /x?q=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", Method::get, "/x?q=1", 1, false, 0},
      {"GET / HTTP/1.0\r\n\r\n", Method::get, "/", 0, false, 0},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", Method::get, "/", 0, true, 0},
      {"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", Method::other, "/p", 1, true, 5},
      {"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: 1\r\n\r\n",
       Method::other, "/", 1, true, 5},
      {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Method::get, "/", 1, true, 0},
  };
  for (const auto& g : table) {
    INFO(g.bytes);
    std::vector<std::vector<std::string>> splits = {{g.bytes}};
    for (std::size_t cut = 1; cut < g.bytes.size(); ++cut) splits.push_back({g.bytes.substr(0, cut), g.bytes.substr(cut)});
    std::vector<std::string> bytewise;
    for (char c : g.bytes) bytewise.emplace_back(1, c);
    splits.push_back(bytewise);
    for (const auto& chunks : splits) {
      const Parsed p = parse_chunks(chunks);
      REQUIRE(p.error == 0);
      REQUIRE(p.requests.size() == 1);
      const Request& r = p.requests[0];
      CHECK(r.method == g.method);
      CHECK(r.target == g.target);
      CHECK(r.http_minor == g.minor);
      CHECK(r.keep_alive == g.keep_alive);
      CHECK(r.body_bytes == g.body);
    }
  }
}

TEST_CASE("pipelined requests come out one at a time, in order", "[parser]") {
  const std::string three = "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nxyHEAD /c HTTP/1.1\r\n\r\n";
  RequestParser p(Limits{});
  std::string_view in = three;
  std::vector<std::string> targets;
  for (;;) {
    const ParseResult r = p.feed(in);
    in.remove_prefix(r.consumed);
    if (r.status != ParseStatus::request) {
      CHECK(r.status == ParseStatus::need_more);
      break;
    }
    targets.push_back(p.request().target);
    CHECK(p.mid_request() == false);
  }
  CHECK(targets == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK(in.empty());
}

TEST_CASE("mid_request turns on with the first byte of a request", "[parser]") {
  RequestParser p(Limits{});
  CHECK_FALSE(p.mid_request());
  CHECK(p.feed("GE").status == ParseStatus::need_more);
  CHECK(p.mid_request());
  CHECK(p.feed("T / HTTP/1.1\r\n\r\n").status == ParseStatus::request);
  CHECK_FALSE(p.mid_request());
}

TEST_CASE("bad input gets the right status", "[parser]") {
  Limits lim;
  lim.max_header_bytes = 512;
  lim.max_url_bytes = 64;
  lim.max_body_bytes = 100;
  struct Bad {
    const char* name;
    std::string bytes;
    int status;
  };
  const std::vector<Bad> table = {
      {"garbage", "HELLO WORLD\r\n\r\n", 400},
      {"lower-case method", "get / HTTP/1.1\r\n\r\n", 400},
      {"invalid method token", "G(T / HTTP/1.1\r\n\r\n", 400},
      {"unknown version", "GET / HTTP/3.7\r\n\r\n", 400},
      {"missing version", "GET /\r\n\r\n", 400},
      {"space in target", "GET /a b HTTP/1.1\r\n\r\n", 400},
      {"control char in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400},
      {"CL with TE", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TE with CL", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400},
      {"conflicting CL", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"repeated CL", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
      {"CL list", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
      {"negative CL", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"CL with letters", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"TE not chunked last", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
      {"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"chunk size overflow", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400},
      {"chunk data too long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", 400},
      {"bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n", 400},
      {"bare CR", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
      {"NUL in header value", std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), 400},
      {"NUL in method", std::string("G\0T / HTTP/1.1\r\n\r\n", 18), 400},
      {"obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
      {"header without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400},
      {"header name with space", "GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", 400},
      {"headers over limit", "GET / HTTP/1.1\r\nX: " + std::string(600, 'a') + "\r\n\r\n", 431},
      {"endless headers", "GET / HTTP/1.1\r\nX: " + std::string(600, 'a'), 431},
      {"many small headers", "GET / HTTP/1.1\r\n" + [] { std::string s; for (int i = 0; i < 80; ++i) s += "X-" + std::to_string(i) + ": v\r\n"; return s; }(), 431},
      {"URL over limit", "GET /" + std::string(100, 'u') + " HTTP/1.1\r\n\r\n", 414},
      {"CL over limit", "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
      {"chunked over limit", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" + std::string(101, 'c') + "\r\n0\r\n\r\n", 413},
  };
  REQUIRE(table.size() >= 25);
  for (const auto& b : table) {
    INFO(b.name);
    CHECK(parse(b.bytes, lim).error == b.status);
    // The verdict does not depend on how the bytes were split.
    std::vector<std::string> bytewise;
    for (char c : b.bytes) bytewise.emplace_back(1, c);
    CHECK(parse_chunks(bytewise, lim).error == b.status);
  }
}

TEST_CASE("limits are inclusive: exactly at the limit is accepted", "[parser]") {
  Limits lim;
  const std::string head = "GET / HTTP/1.1\r\nX: ";
  const std::string tail = "\r\n\r\n";
  lim.max_header_bytes = 256;
  const std::string exact = head + std::string(lim.max_header_bytes - head.size() - tail.size(), 'a') + tail;
  REQUIRE(exact.size() == lim.max_header_bytes);
  CHECK(parse(exact, lim).requests.size() == 1);
  lim.max_body_bytes = 5;
  CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", lim).requests.size() == 1);
}
