// Routing for the benchmark handler; see handler.hpp for the paths it answers.
#include "core/handler.hpp"

#include "core/cpu_burn.hpp"

#include <charconv>

#include <cstdint>
#include <string_view>

namespace ringbench {
namespace {

// Parses a decimal number that fills `s` exactly; false for empty, non-digit or overflowing input.
bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Handler::Handler(const ServerConfig& cfg) : cfg_(cfg) {
  if (cfg_.spin_ns > 0) burn_ns_per_iteration();  // calibrate now, not during the first request
}

Reply Handler::error(int status) {
  return Reply{responses().error(status), 0, status, true};
}

std::optional<Action> Handler::next(RequestParser& parser, std::string_view& input, bool force_close,
                                    std::string& scratch) const {
  const ParseResult r = parser.feed(input);
  input.remove_prefix(r.consumed);
  switch (r.status) {
    case ParseStatus::need_more: return std::nullopt;
    case ParseStatus::request: return handle(parser.request(), force_close, scratch);
    case ParseStatus::error: break;
  }
  return Action{0, error(r.http_status)};
}

Action Handler::handle(const Request& req, bool force_close, std::string& scratch) const {
  if (cfg_.spin_ns > 0) burn_cpu_ns(cfg_.spin_ns);
  const bool close = force_close || !req.keep_alive;
  const ConnHeader conn = ResponseTable::conn_header(close, req.http_minor);
  const bool head_only = req.method == Method::head;

  std::string_view path = req.target;
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

  if (path == "/healthz") return {0, Reply{responses().hello(head_only, conn), 0, 200, close}};
  uint32_t delay = cfg_.delay_ms;
  if (path.starts_with("/delay/")) {
    uint64_t ms = 0;
    if (!parse_u64(path.substr(7), ms) || ms > cfg_.limits.max_delay_ms) return {0, error(400)};
    delay = static_cast<uint32_t>(ms);
  } else if (path.starts_with("/bytes/")) {
    uint64_t n = 0;
    if (!parse_u64(path.substr(7), n) || n > cfg_.limits.max_response_bytes) return {0, error(400)};
    const std::string_view head = ResponseTable::bytes_head(n, conn, scratch);
    return {delay, Reply{head, head_only ? 0 : n, 200, close}};
  }
  return {delay, Reply{responses().hello(head_only, conn), 0, 200, close}};
}

}  // namespace ringbench
