// Server variants as text: "BACKEND[:key=value,key,...]" → `ringbench serve BACKEND --key value --key`.
// Used by the runner to build the server's command line and by tests to check the mapping.
#pragma once
#include <string>
#include <vector>

namespace ringbench::run {

struct ParsedVariant {
  std::string backend;            // uring | epoll | threads | blocking
  std::vector<std::string> args;  // serve options, in the order written
};

// Throws std::invalid_argument for an unknown backend or a malformed option list.
ParsedVariant parse_variant(const std::string& variant);

bool is_builtin_backend(const std::string& name);

// Replaces every "{port}" in `cmd`; throws std::invalid_argument when there is none.
std::string substitute_port(const std::string& cmd, unsigned port);

}  // namespace ringbench::run
