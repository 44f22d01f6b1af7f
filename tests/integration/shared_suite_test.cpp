// The integration suite every backend must pass unchanged (tag [shared]). The backend comes from the
// environment (see tests/support/test_server.hpp), so one source runs against all of them.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/response.hpp"
#include "http_client.hpp"
#include "test_server.hpp"

using namespace rbtest;
using Clock = std::chrono::steady_clock;

namespace {

// Keep-alive is on for these tests on every backend (the blocking server closes after each reply by default).
const std::vector<std::string> kKeepAlive = {"--keepalive-ms", "5000", "--delay-ms", "0"};

std::string pattern_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = ringbench::pattern_block()[i % ringbench::kPatternBlockBytes];
  return s;
}

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

// A bad request gets `status`, the connection is closed, and the server still answers a new client.
void expect_rejected(ServerProcess& srv, const std::string& bytes, int status) {
  Client c(srv.port());
  c.send(bytes);
  const auto r = c.read_response(5s);
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->header("connection") == "close");
  CHECK(c.wait_closed(5s));
  const auto ok = http_get(srv.port(), "/healthz");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

}  // namespace

TEST_CASE("GET answers 200 with the exact body after the delay", "[shared]") {
  ServerProcess srv({"--delay-ms", "150"});
  const auto t0 = Clock::now();
  const auto r = http_get(srv.port(), "/");
  REQUIRE(r);
  CHECK(elapsed_ms(t0) >= 140);
  CHECK(r->status == 200);
  CHECK(r->body == "Hello, World!\n");
  CHECK(r->header("content-length") == "14");
  CHECK(r->header("content-type") == "text/plain");
  CHECK(r->header("transfer-encoding").empty());
}

TEST_CASE("healthz answers at once, /delay/<ms> overrides the delay", "[shared]") {
  ServerProcess srv({"--delay-ms", "2000"});
  auto t0 = Clock::now();
  auto r = http_get(srv.port(), "/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(elapsed_ms(t0) < 1000);
  t0 = Clock::now();
  r = http_get(srv.port(), "/delay/100");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(elapsed_ms(t0) >= 90);
  CHECK(elapsed_ms(t0) < 1500);
  r = http_get(srv.port(), "/delay/notanumber");
  REQUIRE(r);
  CHECK(r->status == 400);
  r = http_get(srv.port(), "/delay/99999999");
  REQUIRE(r);
  CHECK(r->status == 400);
}

TEST_CASE("GET /bytes/<n> answers exactly n pattern bytes, HEAD the same headers and no body", "[shared]") {
  ServerProcess srv(kKeepAlive);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{65536}, std::size_t{1000003}}) {
    const auto r = http_get(srv.port(), "/bytes/" + std::to_string(n), 10s);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("content-length") == std::to_string(n));
    CHECK(r->body == pattern_bytes(n));
  }
  {  // closed before the next request: one blocking worker serves one connection at a time
    Client c(srv.port());
    c.send("HEAD /bytes/70000 HTTP/1.1\r\nHost: t\r\n\r\n");
    auto h = c.read_response(5s, true);
    REQUIRE(h);
    CHECK(h->status == 200);
    CHECK(h->header("content-length") == "70000");
    CHECK(h->body.empty());
    // No stray body bytes may follow: the next reply on this connection parses cleanly.
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    h = c.read_response(5s, true);
    REQUIRE(h);
    CHECK(h->header("content-length") == "14");
    c.send(get("/"));
    const auto g = c.read_response();
    REQUIRE(g);
    CHECK(g->body == "Hello, World!\n");
  }
  const auto huge = http_get(srv.port(), "/bytes/999999999999");
  REQUIRE(huge);
  CHECK(huge->status == 400);
}

TEST_CASE("a 64 MiB body arrives whole", "[shared]") {
  ServerProcess srv(kKeepAlive);
  const std::size_t n = 64u << 20;
  const auto r = http_get(srv.port(), "/bytes/" + std::to_string(n), 60s);
  REQUIRE(r);
  CHECK(r->body.size() == n);
  CHECK(r->body == pattern_bytes(n));
}

TEST_CASE("keep-alive serves several requests on one connection", "[shared]") {
  ServerProcess srv(kKeepAlive);
  Client c(srv.port());
  for (int i = 0; i < 5; ++i) {
    REQUIRE(c.send(get("/")));
    const auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("connection").empty());
  }
}

TEST_CASE("pipelined requests are answered in order", "[shared]") {
  ServerProcess srv(kKeepAlive);
  Client c(srv.port());
  REQUIRE(c.send(get("/delay/200") + get("/bytes/3") + "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + get("/healthz")));
  const auto a = c.read_response();
  const auto b = c.read_response();
  const auto h = c.read_response(5s, true);
  const auto d = c.read_response();
  REQUIRE((a && b && h && d));
  CHECK(a->body == "Hello, World!\n");
  CHECK(b->body == pattern_bytes(3));
  CHECK(h->body.empty());
  CHECK(h->header("content-length") == "14");
  CHECK(d->body == "Hello, World!\n");
}

TEST_CASE("an Upgrade offer is declined and the next pipelined request gets its own reply", "[shared]") {
  ServerProcess srv(kKeepAlive);
  Client c(srv.port());
  // A websocket and an h2c attempt, each followed by a different request on the same connection.
  REQUIRE(c.send(get("/bytes/4", "Connection: Upgrade\r\nUpgrade: websocket\r\n") + get("/bytes/7") +
                 get("/bytes/2", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n") +
                 get("/healthz")));
  const auto a = c.read_response();
  const auto b = c.read_response();
  const auto d = c.read_response();
  const auto e = c.read_response();
  REQUIRE((a && b && d && e));
  CHECK(a->status == 200);
  CHECK(a->body == pattern_bytes(4));
  CHECK(b->body == pattern_bytes(7));
  CHECK(d->body == pattern_bytes(2));
  CHECK(e->body == "Hello, World!\n");
  CHECK(e->header("connection").empty());
}

TEST_CASE("CONNECT gets 501 and a close, and no pipelined bytes after it are answered", "[shared]") {
  ServerProcess srv(kKeepAlive);
  Client c(srv.port());
  REQUIRE(c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + get("/bytes/3")));
  const auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 501);
  CHECK(r->header("connection") == "close");
  CHECK(c.wait_closed());
}

TEST_CASE("requests split into single bytes are parsed", "[shared]") {
  ServerProcess srv(kKeepAlive);
  Client c(srv.port());
  const std::string req = "POST /bytes/5 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
  for (char ch : req) {
    REQUIRE(c.send(std::string(1, ch)));
    std::this_thread::sleep_for(1ms);
  }
  const auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == pattern_bytes(5));
}

TEST_CASE("Connection: close and HTTP/1.0 follow the keep-alive rules", "[shared]") {
  ServerProcess srv(kKeepAlive);
  {
    Client c(srv.port());
    c.send(get("/", "Connection: close\r\n"));
    const auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("connection") == "close");
    CHECK(c.wait_closed());
  }
  {
    Client c(srv.port());
    c.send("GET / HTTP/1.0\r\n\r\n");
    const auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("connection") == "close");
    CHECK(c.wait_closed());
  }
  {
    Client c(srv.port());
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("connection") == "keep-alive");
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 200);
  }
}

TEST_CASE("request bodies are read and discarded", "[shared]") {
  ServerProcess srv(kKeepAlive);
  Client c(srv.port());
  const std::string big(200000, 'x');
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big);
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
  r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  c.send(get("/bytes/2"));
  r = c.read_response();
  REQUIRE(r);
  CHECK(r->body == pattern_bytes(2));
}

TEST_CASE("bad input gets its status and a close, and the server keeps serving", "[shared]") {
  ServerProcess srv({"--delay-ms", "0", "--max-header-bytes", "1024", "--max-body-bytes", "1000",
                     "--max-url-bytes", "256"});
  struct Case {
    const char* name;
    std::string bytes;
    int status;
  };
  const std::vector<Case> cases = {
      {"garbage", "HELLO\r\n\r\n", 400},
      {"invalid method token", "G(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"bad version", "GET / HTTP/9.9\r\nHost: t\r\n\r\n", 400},
      {"CL with TE", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"conflicting CL", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"bad chunk size", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
      {"bare LF", "GET / HTTP/1.1\nHost: t\n\n", 400},
      {"NUL in header", std::string("GET / HTTP/1.1\r\nHost: t\0x\r\n\r\n", 29), 400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n", 400},
      {"header over limit", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n", 431},
      {"endless header", "GET / HTTP/1.1\r\nX: " + std::string(5000, 'b'), 431},
      {"URL over limit", "GET /" + std::string(300, 'u') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
      {"CL over limit", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", 413},
      {"chunked over limit", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + std::string(2000, 'c') + "\r\n0\r\n\r\n", 413},
  };
  for (const auto& tc : cases) {
    SECTION(tc.name) { expect_rejected(srv, tc.bytes, tc.status); }
  }
}

TEST_CASE("a client stalled mid-request is cut off after the header timeout", "[shared]") {
  ServerProcess srv({"--header-timeout-ms", "300", "--delay-ms", "0"});
  Client stalled(srv.port());
  stalled.send("GET / HTTP/1.1\r\nHost: t\r\n");
  const auto t0 = Clock::now();
  const auto r = stalled.read_response(5s);
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(stalled.wait_closed(5s));
  CHECK(elapsed_ms(t0) < 3000);
  const auto ok = http_get(srv.port(), "/healthz");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("SIGTERM answers the requests in flight, then exits 0", "[shared]") {
  ServerProcess srv({"--delay-ms", "400", "--workers", "1"});
  std::vector<std::unique_ptr<Client>> clients;
  // Two in flight: enough for every model, including one blocking worker that serves them in turn.
  for (int i = 0; i < 2; ++i) {
    clients.push_back(std::make_unique<Client>(srv.port()));
    clients.back()->send(get("/"));
  }
  std::this_thread::sleep_for(100ms);
  srv.send_signal(SIGTERM);
  for (auto& c : clients) {
    const auto r = c->read_response(5s);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(srv.wait_exit(10s) == std::optional<int>(0));
}

TEST_CASE("unknown options and bad values exit 2 with one line", "[shared]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", backend_under_test(), "--no-such-option"},
        std::vector<std::string>{"serve", backend_under_test(), "--port", "70000"},
        std::vector<std::string>{"serve", backend_under_test(), "--delay-ms", "-5"},
        std::vector<std::string>{"serve", backend_under_test(), "--timer-slack-us", "5"},
        std::vector<std::string>{"serve", backend_under_test(), "--timer-slack-us", "20000"},
        std::vector<std::string>{"serve", "no-such-backend"}}) {
    const auto res = run_ringbench(args, 10s);
    CHECK(res.exit_code == 2);
    CHECK(res.err.find("ringbench serve") != std::string::npos);
    CHECK(std::count(res.err.begin(), res.err.end(), '\n') == 1);
  }
}
