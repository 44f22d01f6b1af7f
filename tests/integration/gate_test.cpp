// `ringbench gate` end to end (tag [gate]): exit statuses and messages on synthetic results files, the report
// files it writes, and an --ab run with tiny counts where the NEW build burns CPU (--spin-us) and must fail.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_server.hpp"

using namespace rbtest;
using nlohmann::json;

namespace {

// A temporary file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& content, const char* suffix = ".json") {
    char tmpl[] = "/tmp/ringbench-gate-test-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::remove(tmpl);
    path_ = std::string(tmpl) + suffix;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  std::string read() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string path_;
};

json results(const std::vector<double>& cpu_us, double errors_in_first_run = 0) {
  json runs = json::array();
  for (double v : cpu_us) {
    runs.push_back({{"status", "ok"},
                    {"requests_per_s", 1e5 / v},
                    {"efficiency", nullptr},
                    {"latency_s", {{"p99", 0.002}}},
                    {"error_total", runs.empty() ? errors_in_first_run : 0},
                    {"non_2xx", 0},
                    {"server", {{"cpu_us_per_req", v}, {"peak_rss_kb", 4000}}}});
  }
  return {{"schema", "ringbench.results/1"},
          {"environment", json::object()},
          {"scenarios",
           {{{"name", "hello"}, {"cells", {{{"id", "hello/uring/c=100/z=5s"}, {"status", "ok"}, {"runs", runs}}}}}}}};
}

const std::vector<double> kBase = {6.0, 6.1, 5.9, 6.05, 6.0};
const std::vector<double> kSlower = {7.0, 7.1, 6.9, 7.05, 7.0};

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

}  // namespace

TEST_CASE("file compare: identical results pass with exit 0", "[gate]") {
  TempFile base(results(kBase).dump()), cur(results(kBase).dump());
  const auto r = run_ringbench({"gate", base.path(), cur.path()});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("gate: PASS") != std::string::npos);
}

TEST_CASE("file compare: a clear regression exits 1 and writes Markdown and JUnit", "[gate]") {
  TempFile base(results(kBase).dump()), cur(results(kSlower).dump());
  TempFile md("", ".md"), xml("", ".xml");
  const auto r = run_ringbench({"gate", base.path(), cur.path(), "--metric", "cpu_us_per_req", "--markdown",
                                md.path(), "--junit", xml.path(), "--quiet"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("gate: FAIL") != std::string::npos);
  CHECK(md.read().find("REGRESSION") != std::string::npos);
  CHECK(xml.read().find("<failure type=\"regression\"") != std::string::npos);
  // --warn-only reports the same regression but passes.
  const auto warn = run_ringbench({"gate", base.path(), cur.path(), "--warn-only"});
  CHECK(warn.exit_code == 0);
  CHECK(warn.out.find("WARN") != std::string::npos);
  // A tolerance above the change passes too.
  CHECK(run_ringbench({"gate", base.path(), cur.path(), "--tolerance", "25"}).exit_code == 0);
}

TEST_CASE("file compare: request errors in the current build fail even at equal speed", "[gate]") {
  TempFile base(results(kBase).dump()), cur(results(kBase, 2).dump());
  const auto r = run_ringbench({"gate", base.path(), cur.path()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("2 request errors") != std::string::npos);
}

TEST_CASE("file compare: corrupt, mismatched or missing input exits 2 with one line naming it", "[gate]") {
  TempFile good(results(kBase).dump());
  TempFile corrupt(results(kBase).dump().substr(0, 60));
  auto r = run_ringbench({"gate", good.path(), corrupt.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(corrupt.path()) != std::string::npos);
  CHECK(r.err.find("corrupt JSON") != std::string::npos);
  CHECK(one_line(r.err));

  json other = results(kBase);
  other["schema"] = "ringbench.results/0";
  TempFile wrong_schema(other.dump());
  r = run_ringbench({"gate", good.path(), wrong_schema.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("schema") != std::string::npos);
  CHECK(one_line(r.err));

  json renamed = results(kBase);
  renamed["scenarios"][0]["cells"][0]["id"] = "hello/epoll/c=100/z=5s";
  TempFile missing(renamed.dump());
  r = run_ringbench({"gate", good.path(), missing.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("hello/uring/c=100/z=5s") != std::string::npos);
  CHECK(one_line(r.err));

  CHECK(run_ringbench({"gate", good.path()}).exit_code == 2);
  CHECK(run_ringbench({"gate", good.path(), "/nonexistent/x.json"}).exit_code == 2);
  r = run_ringbench({"gate", good.path(), good.path(), "--metric", "speed"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("speed") != std::string::npos);
  CHECK(run_ringbench({"gate", good.path(), good.path(), "--tolerance", "abc"}).exit_code == 2);
  CHECK(run_ringbench({"gate", good.path(), good.path(), "--new-args", "--spin-us 5"}).exit_code == 2);
}

TEST_CASE("file compare: a gate that tested nothing exits 2 with one line, never PASS", "[gate]") {
  TempFile two(results({6.0, 6.1}).dump());
  const auto r = run_ringbench({"gate", two.path(), two.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "ringbench gate: could not decide: 4 comparisons untested, need ≥ 3 runs a side\n");
  CHECK(r.out.find("PASS") == std::string::npos);
  CHECK(r.out.find("COULD NOT DECIDE") != std::string::npos);
  // A smaller alpha needs more runs, and the line says how many.
  TempFile three(results({6.0, 6.1, 5.9}).dump());
  const auto strict = run_ringbench({"gate", three.path(), three.path(), "--alpha", "0.01"});
  CHECK(strict.exit_code == 2);
  CHECK(strict.err.find("need ≥ 5 runs a side") != std::string::npos);
  CHECK(run_ringbench({"gate", three.path(), three.path()}).exit_code == 0);
}

TEST_CASE("file compare: a malformed or missing metric exits 2 naming the file and cell", "[gate]") {
  TempFile good(results(kBase).dump());
  json damaged = results(kBase);
  damaged["scenarios"][0]["cells"][0]["runs"][3]["server"]["cpu_us_per_req"] = "fast";
  TempFile bad(damaged.dump());
  auto r = run_ringbench({"gate", good.path(), bad.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(bad.path()) != std::string::npos);
  CHECK(r.err.find("cell hello/uring/c=100/z=5s run 4") != std::string::npos);
  CHECK(r.err.find("cpu_us_per_req") != std::string::npos);
  CHECK(one_line(r.err));
  CHECK(r.out.find("PASS") == std::string::npos);

  json missing = results(kBase);
  for (auto& run : missing["scenarios"][0]["cells"][0]["runs"]) run["server"].erase("cpu_us_per_req");
  TempFile without(missing.dump());
  r = run_ringbench({"gate", without.path(), without.path(), "--metric", "cpu_us_per_req"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("metric cpu_us_per_req missing") != std::string::npos);
  CHECK(one_line(r.err));
}

TEST_CASE("gate: non-finite or out-of-range numbers exit 2 before anything is read", "[gate]") {
  TempFile base(results(kBase).dump()), cur(results(kSlower).dump());
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {"--tolerance", "nan"}, {"--tolerance", "inf"}, {"--tolerance", "-1"}, {"--alpha", "nan"},
           {"--alpha", "-inf"}, {"--alpha", "0.9"}}) {
    std::vector<std::string> args = {"gate", base.path(), cur.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    INFO(extra[0] << " " << extra[1]);
    const auto r = run_ringbench(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(extra[0]) != std::string::npos);
    CHECK(one_line(r.err));
    CHECK(r.out.empty());
  }
}

TEST_CASE("A/B: a NEW build that burns CPU per request fails, identical builds pass", "[gate]") {
  // Tiny counts keep this to seconds; --spin-us 300 makes each request cost far more CPU than the server's
  // own few microseconds, so the regression is unmistakable even on a busy machine.
  const std::string variant = backend_under_test();
  const json scenario = {{"name", "gate-test"},
                         {"defaults", {{"delay_ms", 0}, {"requests", 1500}}},
                         {"cells", {{{"variant", variant}, {"concurrency", 4}}}}};
  TempFile sc(scenario.dump());
  TempFile md("", ".md");
  const std::string bin = ringbench_binary();
  auto r = run_ringbench({"gate", "--ab", bin, bin, "--scenario", sc.path(), "--repeat", "5", "--no-pin",
                          "--new-args", "--spin-us 300", "--markdown", md.path()},
                         120s);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("REGRESSION") != std::string::npos);
  CHECK(r.err.find("re-measuring") != std::string::npos);
  CHECK(md.read().find("cpu_us_per_req") != std::string::npos);

  // Same build and settings: with a generous tolerance nothing may fail.
  r = run_ringbench({"gate", "--ab", bin, bin, "--scenario", sc.path(), "--repeat", "5", "--no-pin",
                     "--tolerance", "50"},
                    120s);
  INFO(r.err);
  CHECK(r.exit_code == 0);

  r = run_ringbench({"gate", "--ab", "/nonexistent/ringbench", bin, "--scenario", sc.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/nonexistent/ringbench") != std::string::npos);
}
