// Unit tests of scenario files: the format, its checks, and every shipped scenario.
#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>

#include "run/runner.hpp"

using nlohmann::json;
using namespace ringbench::run;

TEST_CASE("run: defaults apply to cells and a matrix expands variants x concurrency", "[run]") {
  const Scenario s = parse_scenario(json::parse(R"({
    "name": "t", "defaults": {"delay_ms": 100, "duration_s": 2, "warmup_s": 1},
    "labels": {"uring:threads=2": "uring 2"},
    "cells": [{"variant": "blocking", "requests": 10, "duration_s": 0, "concurrency": 5,
               "reference": {"label": "py", "requests_per_s": 3.9}}],
    "matrix": [{"variants": ["uring", "uring:threads=2"], "concurrency": [10, 100], "path": "/bytes/10"}]
  })"));
  REQUIRE(s.cells.size() == 5);
  const CellSpec& first = s.cells[0];
  CHECK(first.scenario == "t");
  CHECK(first.delay_ms == 100);
  CHECK(first.load.requests == 10);
  CHECK(first.reference->requests_per_s == Approx(3.9));
  CHECK(first.id() == "t/blocking/c=5/n=10");
  CHECK(*first.bound_rps() == Approx(50.0));
  CHECK(s.cells[1].id() == "t/uring/c=10/z=2s/path=/bytes/10");
  CHECK(s.cells[3].label == "uring 2");
  CHECK(s.cells[4].load.connections == 100);
  CHECK(s.cells[4].load.warmup_s == Approx(1.0));
}

TEST_CASE("run: a 0 ms cell has no Little's-law bound", "[run]") {
  CellSpec c;
  c.delay_ms = 0;
  CHECK_FALSE(c.bound_rps());
}

TEST_CASE("run: an open-loop cell's bound is its offered rate, capped by c / delay", "[run]") {
  const Scenario s = parse_scenario(json::parse(R"({
    "name": "t", "defaults": {"duration_s": 2, "concurrency": 50},
    "cells": [{"variant": "uring", "delay_ms": 0, "rate": 20000, "ramp_s": 0.1},
              {"variant": "epoll", "delay_ms": 250, "rate": 1000}]
  })"));
  REQUIRE(s.cells.size() == 2);
  CHECK(s.cells[0].load.rate == Approx(20000));
  CHECK(s.cells[0].load.ramp_s == Approx(0.1));
  CHECK(s.cells[0].id() == "t/uring/c=50/z=2s/rate=20000");
  CHECK(*s.cells[0].bound_rps() == Approx(20000));
  CHECK(*s.cells[1].bound_rps() == Approx(200));  // 50 connections can carry only 200 req/s of 250 ms each
  CHECK_FALSE(s.cells[0].load.client_lag);
  CHECK(parse_scenario(json::parse(R"({"name": "t", "cells": [{"variant": "uring", "requests": 10,
                                       "client_lag": true}]})")).cells[0].load.client_lag);
  CHECK_THROWS_WITH(parse_scenario(json::parse(R"({"name": "t", "cells": [{"variant": "uring", "requests": 10,
                                                   "client_lag": 1}]})")),
                    Catch::Contains("client_lag must be true or false"));
  CHECK_THROWS_WITH(parse_scenario(json::parse(R"({"name": "t", "cells": [{"variant": "uring", "requests": 5,
                                                   "rate": -3}]})")),
                    Catch::Contains("out of range"));
}

TEST_CASE("run: bad scenario files are refused with the reason", "[run]") {
  auto bad = [](const char* text) { return parse_scenario(json::parse(text)); };
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": [{"variant": "nginx", "requests": 5}]})"), Catch::Contains("nginx"));
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": [{"variant": "uring"}]})"), Catch::Contains("exactly one"));
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": [{"variant": "uring", "requests": 5, "duration_s": 1}]})"),
                    Catch::Contains("exactly one"));
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": [{"variant": "uring", "requests": 5, "conc": 1}]})"),
                    Catch::Contains("unknown field 'conc'"));
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": [{"variant": "uring", "requests": 5, "concurrency": -1}]})"),
                    Catch::Contains("out of range"));
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": [{"variant": "uring", "requests": 50},
                                                     {"variant": "uring", "requests": 50}]})"),
                    Catch::Contains("share the id"));
  CHECK_THROWS_WITH(bad(R"({"name": "t", "cells": []})"), Catch::Contains("no cells"));
  CHECK_THROWS_AS(load_scenario("no-such-scenario"), std::invalid_argument);
  CHECK_THROWS_AS(load_scenario("../etc/passwd"), std::invalid_argument);
}

TEST_CASE("run: every shipped scenario loads and the seed matches the seed experiment", "[run]") {
  const auto names = scenario_names();
  for (const char* n : {"seed", "scale", "hello", "large", "features", "smoke"}) {
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  }
  for (const auto& n : names) {
    INFO(n);
    CHECK_NOTHROW(load_scenario(n));
  }
  const Scenario seed = load_scenario("seed");
  REQUIRE(seed.cells.size() == 9);
  std::set<std::string> variants;
  for (const auto& c : seed.cells) {
    CHECK(c.delay_ms == 250);
    CHECK(c.load.warmup_s == 0);  // the seed's hey runs had none
    CHECK(c.load.requests > 0);
    variants.insert(c.variant);
  }
  CHECK(seed.cells[0].load.requests == 10);
  CHECK(seed.cells[0].load.connections == 5);
  CHECK(seed.cells[0].reference->requests_per_s == Approx(3.95));
  CHECK(variants.count("threads:workers=4,pool=2") == 1);
  CHECK(variants.count("uring:threads=4") == 1);
}
