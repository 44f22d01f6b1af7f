// Strict number parsing for command-line values. cxxopts silently wraps out-of-range integers
// (--port 5000000000 became 705032704), so every numeric option is taken as text and parsed here.
#pragma once
#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace ringbench {

// Parses all of `text` as a number of type T; throws std::invalid_argument naming `option` otherwise.
template <typename T>
T parse_number(std::string_view option, std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  std::from_chars_result r{};
  if constexpr (std::is_floating_point_v<T>) {
    r = std::from_chars(text.data(), end, value);
  } else {
    r = std::from_chars(text.data(), end, value, 10);
  }
  if (text.empty() || r.ec == std::errc::invalid_argument || r.ptr != end) {
    throw std::invalid_argument("--" + std::string(option) + ": '" + std::string(text) + "' is not a number");
  }
  if (r.ec == std::errc::result_out_of_range) {
    throw std::invalid_argument("--" + std::string(option) + ": " + std::string(text) + " is out of range");
  }
  return value;
}

// Same, and checks lo <= value <= hi.
template <typename T>
T parse_number(std::string_view option, std::string_view text, T lo, T hi) {
  const T v = parse_number<T>(option, text);
  if (v < lo || v > hi) {
    throw std::invalid_argument(fmt::format("--{} must be {}..{}, not {}", option, lo, hi, text));
  }
  return v;
}

}  // namespace ringbench
