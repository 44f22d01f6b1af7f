// `ringbench probe` (tag [probe]): the report names this kernel, the opcodes the server relies on and a
// verdict for each `serve uring` option; --json is machine-readable; bad options exit 2 with one line.
// Run: build/tests/integration_tests "[probe]"
#include <sys/utsname.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <string>

#include "test_server.hpp"

using namespace rbtest;

namespace {

std::string kernel_release() {
  utsname u{};
  REQUIRE(::uname(&u) == 0);
  return u.release;
}

}  // namespace

TEST_CASE("probe reports the kernel, opcodes and a verdict per serve option", "[probe]") {
  const CommandResult res = run_ringbench({"probe"}, 30s);
  if (res.exit_code == 1) {
    // io_uring unavailable here: the one line must say so, and that is all this machine can check.
    CHECK(res.err.find("io_uring unavailable") != std::string::npos);
    WARN("io_uring unavailable: " << res.err);
    return;
  }
  REQUIRE(res.exit_code == 0);
  CHECK(res.out.find(kernel_release()) != std::string::npos);
  for (const char* op : {"ACCEPT", "RECV", "SEND", "TIMEOUT", "ASYNC_CANCEL"}) {
    CHECK(res.out.find(op) != std::string::npos);
  }
  CHECK(res.out.find("serve uring options") != std::string::npos);
  CHECK(res.out.find("--sqpoll") != std::string::npos);
  CHECK(res.out.find("--min-wait-us") != std::string::npos);
  CHECK(res.out.find("minimum wait (MIN_TIMEOUT)") != std::string::npos);
  CHECK(res.out.find("RLIMIT_MEMLOCK") != std::string::npos);
  for (const char* line : {"receive bundles", "incremental buffer ring", "NO_IOWAIT waits", "SEND_ZC usage reports",
                           "--recv-bundle", "--buf-ring-inc", "--no-iowait", "--no-zc-report-usage"}) {
    CHECK(res.out.find(line) != std::string::npos);
  }
}

TEST_CASE("probe --json is one JSON document with the same facts", "[probe]") {
  const CommandResult res = run_ringbench({"probe", "--json"}, 30s);
  REQUIRE((res.exit_code == 0 || res.exit_code == 1));
  const nlohmann::json j = nlohmann::json::parse(res.out);
  CHECK(j.at("kernel_release") == kernel_release());
  CHECK(j.at("available").get<bool>() == (res.exit_code == 0));
  if (res.exit_code != 0) return;
  const auto ops = j.at("opcodes").get<std::vector<std::string>>();
  CHECK(std::find(ops.begin(), ops.end(), "ACCEPT") != ops.end());
  for (const char* cap : {"buf_ring", "multishot_accept", "multishot_recv", "fixed_files", "send_zc", "sqpoll", "min_timeout",
                          "recv_bundle", "buf_ring_inc", "no_iowait", "zc_report_usage"}) {
    CHECK(j.at("capabilities").at(cap).is_boolean());
    // A capability the kernel refused carries its reason; one it has carries none.
    CHECK(j.at("unavailable_reasons").contains(cap) == !j.at("capabilities").at(cap).get<bool>());
  }
  CHECK(j.at("serve_options").size() >= 8);
  CHECK(j.at("default_plan").at("summary").get<std::string>().find("io_uring:") == 0);
}

TEST_CASE("probe rejects unknown options with exit 2 and one line", "[probe]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"probe", "--no-such-option"},
                                               std::vector<std::string>{"probe", "extra"}}) {
    const CommandResult res = run_ringbench(args, 10s);
    CHECK(res.exit_code == 2);
    CHECK(res.err.find("ringbench probe") != std::string::npos);
    CHECK(std::count(res.err.begin(), res.err.end(), '\n') == 1);
  }
}
