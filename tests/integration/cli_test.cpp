// The top-level command line (tag [cli]): unknown commands and help.
#include <catch2/catch.hpp>

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
