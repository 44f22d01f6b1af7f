// parse_url; see url.hpp.
#include "load/url.hpp"

#include <stdexcept>

#include "core/cli_numbers.hpp"

namespace ringbench::load {

Url parse_url(const std::string& text) {
  const auto bad = [&](const std::string& why) { return std::invalid_argument("URL '" + text + "': " + why); };
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) throw bad("expected http://HOST[:PORT]/PATH");
  std::string scheme = text.substr(0, scheme_end);
  for (char& ch : scheme) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (scheme != "http") throw bad("scheme '" + scheme + "' is not supported (http only)");

  const std::string rest = text.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, path_start);
  Url url;
  if (path_start != std::string::npos) {
    url.path = rest.substr(path_start);
    if (const auto frag = url.path.find('#'); frag != std::string::npos) url.path.resize(frag);
    if (url.path.empty() || url.path[0] != '/') url.path.insert(0, "/");
  }
  for (char ch : url.path) {
    if (static_cast<unsigned char>(ch) <= ' ' || ch == 0x7f) throw bad("the path holds a space or control byte");
  }
  if (authority.find('@') != std::string::npos) throw bad("user info is not supported");

  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) throw bad("unterminated [IPv6] host");
    url.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw bad("junk after ]");
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) throw bad("missing host");
  if (!port_text.empty()) {
    try {
      url.port = parse_number<uint16_t>("port", port_text, 1, 65535);
    } catch (const std::invalid_argument&) {
      throw bad("port '" + port_text + "' is not 1..65535");
    }
  } else if (authority.back() == ':') {
    throw bad("empty port");
  }
  return url;
}

}  // namespace ringbench::load
