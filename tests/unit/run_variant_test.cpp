// Unit tests of `ringbench run`'s variant text → serve arguments and {port} substitution.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "run/variant.hpp"

using ringbench::run::parse_variant;
using ringbench::run::substitute_port;

TEST_CASE("run: a bare backend has no arguments", "[run]") {
  const auto v = parse_variant("uring");
  CHECK(v.backend == "uring");
  CHECK(v.args.empty());
}

TEST_CASE("run: key=value becomes --key value and a bare key becomes --key, in order", "[run]") {
  CHECK(parse_variant("uring:threads=2").args == std::vector<std::string>{"--threads", "2"});
  CHECK(parse_variant("uring:sqpoll").args == std::vector<std::string>{"--sqpoll"});
  const auto v = parse_variant("threads:workers=4,pool=2");
  CHECK(v.backend == "threads");
  CHECK(v.args == std::vector<std::string>{"--workers", "4", "--pool", "2"});
  CHECK(parse_variant("uring:no_buf_ring,timer=ring").args == std::vector<std::string>{"--no-buf-ring", "--timer", "ring"});
}

TEST_CASE("run: malformed variants are refused with the reason", "[run]") {
  CHECK_THROWS_AS(parse_variant("nginx"), std::invalid_argument);
  CHECK_THROWS_AS(parse_variant("uring:"), std::invalid_argument);
  CHECK_THROWS_AS(parse_variant("uring:threads="), std::invalid_argument);
  CHECK_THROWS_AS(parse_variant("uring:threads=2,,sqpoll"), std::invalid_argument);
  CHECK_THROWS_AS(parse_variant("uring:--threads=2"), std::invalid_argument);
  CHECK_THROWS_WITH(parse_variant("nginx:workers=2"), Catch::Contains("unknown backend 'nginx'"));
}

TEST_CASE("run: every {port} is replaced and a command without one is refused", "[run]") {
  CHECK(substitute_port("gunicorn -b 127.0.0.1:{port} app:app", 8123) == "gunicorn -b 127.0.0.1:8123 app:app");
  CHECK(substitute_port("a {port} b {port}", 1) == "a 1 b 1");
  CHECK_THROWS_AS(substitute_port("gunicorn app:app", 1), std::invalid_argument);
}
