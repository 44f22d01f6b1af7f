// The top-level command line (tag [cli]): unknown commands and help.
#include <catch2/catch.hpp>
#include <algorithm>

#include "test_server.hpp"

using namespace rbtest;

TEST_CASE("ringbench without a command, or with an unknown one, exits 2", "[cli]") {
  CHECK(run_ringbench({}).exit_code == 2);
  const auto r = run_ringbench({"frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
}

TEST_CASE("ringbench --help and serve --help list what there is", "[cli]") {
  const auto top = run_ringbench({"--help"});
  CHECK(top.exit_code == 0);
  for (const char* cmd : {"serve", "load", "run", "gate", "probe"}) CHECK(top.out.find(cmd) != std::string::npos);
  const auto serve = run_ringbench({"serve", "--help"});
  CHECK(serve.exit_code == 0);
  for (const char* opt : {"--delay-ms", "--max-header-bytes", "--max-body-bytes", "--header-timeout-ms",
                          "--max-connections", "--drain-ms", "--sqpoll", "--timer"}) {
    CHECK(serve.out.find(opt) != std::string::npos);
  }
}

TEST_CASE("ringbench --version names the version, git revision and liburing", "[cli]") {
  const auto r = run_ringbench({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("ringbench 0.", 0) == 0);
  CHECK(r.out.find("(git ") != std::string::npos);
  CHECK(r.out.find("liburing 2.") != std::string::npos);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
}

TEST_CASE("every help text of the top level, load and gate carries an example", "[cli]") {
  CHECK(run_ringbench({"--help"}).out.find("example: ringbench") != std::string::npos);
  for (const char* cmd : {"load", "gate"}) {
    const auto r = run_ringbench({cmd, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(std::string("Examples:\n  ringbench ")) != std::string::npos);
  }
}
