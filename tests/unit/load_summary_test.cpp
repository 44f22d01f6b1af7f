// The load summary's number formatting (bench/load/summary.hpp): seconds keep their significant digits
// below a millisecond, where hey's four decimals read 0.0000.
#include <catch2/catch.hpp>

#include "load/summary.hpp"

using ringbench::load::format_seconds;

TEST_CASE("seconds print with hey's four decimals, and more below 0.1 s", "[load]") {
  CHECK(format_seconds(2.5) == "2.5000");
  CHECK(format_seconds(0.25) == "0.2500");
  CHECK(format_seconds(0.05) == "0.0500");
  CHECK(format_seconds(0.0012) == "0.00120");
  CHECK(format_seconds(0.000123) == "0.000123");
  CHECK(format_seconds(0.0000451) == "0.0000451");
  CHECK(format_seconds(0) == "0.0000");
  CHECK(format_seconds(1e-12) == "0.000000000");  // bounded decimals, no runaway precision
}
