// A small blocking HTTP/1.1 client for tests: raw bytes out, responses parsed by llhttp (response mode),
// every wait bounded by a timeout so a broken server fails a test instead of hanging it.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rbtest {

using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;
  int http_minor = 1;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const;  // "" when absent
};

class Client {
 public:
  explicit Client(uint16_t port, const char* host = "127.0.0.1");  // fails the test if it cannot connect
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }
  // Sends all of `bytes`; false if the connection broke.
  bool send(std::string_view bytes);
  // Reads one response; nullopt on timeout, close or garbage. `head_request` tells it there is no body.
  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout = 5s, bool head_request = false);
  // True if the server closes (EOF or reset) within `timeout` with no further bytes beyond `allowed`.
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  // Closes with RST (SO_LINGER 0) instead of FIN.
  void reset();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffered_;
  bool eof_ = false;
};

// One request on a fresh connection: "GET path HTTP/1.1" with Host, returns the response.
std::optional<HttpResponse> http_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout = 5s);

}  // namespace rbtest
