// Variant text → serve arguments, and the {port} substitution of external commands.
#include "run/variant.hpp"

#include <array>
#include <stdexcept>
#include <string_view>

namespace ringbench::run {
namespace {

constexpr std::array<std::string_view, 4> kBackends = {"uring", "epoll", "threads", "blocking"};

bool valid_key(std::string_view k) {
  if (k.empty() || k[0] < 'a' || k[0] > 'z') return false;
  for (char ch : k) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool is_builtin_backend(const std::string& name) {
  for (auto b : kBackends) {
    if (b == name) return true;
  }
  return false;
}

ParsedVariant parse_variant(const std::string& variant) {
  ParsedVariant out;
  const auto colon = variant.find(':');
  out.backend = variant.substr(0, colon);
  if (!is_builtin_backend(out.backend)) {
    throw std::invalid_argument("unknown backend '" + out.backend + "' in '" + variant +
                                "' (uring, epoll, threads or blocking; --external NAME=CMD for others)");
  }
  if (colon == std::string::npos) return out;
  const std::string opts = variant.substr(colon + 1);
  if (opts.empty()) throw std::invalid_argument("empty option list in variant '" + variant + "'");
  std::size_t start = 0;
  while (start <= opts.size()) {
    const auto comma = opts.find(',', start);
    const std::string item = opts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    // Underscores are accepted as a convenience and become the CLI's dashes.
    std::string flag = "--" + key;
    for (char& ch : flag) {
      if (ch == '_') ch = '-';
    }
    if (!valid_key(key)) throw std::invalid_argument("bad option '" + item + "' in variant '" + variant + "'");
    out.args.push_back(flag);
    if (eq != std::string::npos) {
      const std::string value = item.substr(eq + 1);
      if (value.empty()) throw std::invalid_argument("option '" + key + "' has no value in variant '" + variant + "'");
      out.args.push_back(value);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string substitute_port(const std::string& cmd, unsigned port) {
  static constexpr std::string_view kPlaceholder = "{port}";
  std::string out;
  std::size_t pos = 0;
  bool found = false;
  for (;;) {
    const auto at = cmd.find(kPlaceholder, pos);
    if (at == std::string::npos) break;
    out.append(cmd, pos, at - pos);
    out += std::to_string(port);
    pos = at + kPlaceholder.size();
    found = true;
  }
  if (!found) throw std::invalid_argument("external command has no {port}: '" + cmd + "'");
  out.append(cmd, pos, std::string::npos);
  return out;
}

}  // namespace ringbench::run
