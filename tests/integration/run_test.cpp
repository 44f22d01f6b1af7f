// `ringbench run` end to end (tag [run]): the smoke scenario against real servers with tiny counts, an
// external command, a server that cannot start, wrk as the client, and bad command lines.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_server.hpp"

using namespace rbtest;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = "/tmp/ringbench-run-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

json read_json(const fs::path& p) {
  std::ifstream f(p);
  REQUIRE(f.good());
  return json::parse(f);
}

// Every figure the schema promises, present and plausible for an ok run of a 20 ms handler.
void check_ok_figures(const json& f, const json& cell) {
  INFO(cell["id"].get<std::string>() << ": " << f.dump());
  const double rps = f["requests_per_s"].get<double>();
  CHECK(rps > 0);
  const double eff = f["efficiency"].get<double>();
  CHECK(eff > 0);
  CHECK(eff <= 1.05);
  CHECK(eff == Approx(rps / cell["bound_rps"].get<double>()).epsilon(1e-6));
  for (const char* p : {"p50", "p90", "p99", "p99.9", "max"}) {
    INFO(p);
    const double v = f["latency_s"][p].get<double>();
    CHECK(v >= 0.019);  // the handler waits 20 ms
    CHECK(v < 10);
  }
  CHECK(f["latency_s"]["p50"].get<double>() <= f["latency_s"]["p99"].get<double>());
  CHECK(f["completed"].get<double>() > 0);
  for (const char* e : {"connect", "timeout", "read", "parse", "status"}) CHECK(f["errors"].contains(e));
  CHECK(f["error_total"].get<double>() == 0);
  CHECK(f["non_2xx"].get<double>() == 0);
  const json& s = f["server"];
  CHECK(s["cpu_s"].get<double>() > 0);
  CHECK(s["cpu_us_per_req"].get<double>() > 0);
  CHECK(s["cpu_us_per_req"].get<double>() < 1e6);
  CHECK(s["peak_rss_kb"].get<double>() > 100);
  CHECK(s["rss_per_conn_kb"].get<double>() >= 0);
  CHECK(s["threads"].get<double>() >= 1);
  CHECK(s["processes"].get<double>() >= 1);
  CHECK(s["ctx_voluntary"].get<double>() > 0);  // every request sleeps on a timer
  CHECK(s["ctx_involuntary"].get<double>() >= 0);
  CHECK(s["ctx_per_req"].get<double>() > 0);
  CHECK(f["client"]["cpu_util_max"].get<double>() >= 0);
  CHECK(f["client"]["client_bound"].is_boolean());
}

const json& cell_by_variant(const json& scenario, const std::string& variant) {
  for (const json& c : scenario["cells"]) {
    if (c["variant"] == variant) return c;
  }
  FAIL("no cell " << variant << " in " << scenario.dump());
  return scenario;
}

}  // namespace

TEST_CASE("run: the smoke scenario writes the schema with every figure plausible", "[run]") {
  TempDir dir;
  const auto r = run_ringbench({"run", "--scenario", "smoke", "--repeat", "2", "--out", dir.path.string()}, 90s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("smoke") != std::string::npos);
  CHECK(r.out.find("blocking 2 workers") != std::string::npos);

  const json j = read_json(dir.path / "results.json");
  CHECK(j["schema"] == "ringbench.results/1");
  for (const char* k : {"kernel", "cpu_model", "cores", "liburing_version", "compiler", "build_type", "sanitizers",
                        "mimalloc", "git_revision", "date", "command_line", "hostname"}) {
    INFO(k);
    CHECK(j["environment"].contains(k));
  }
  CHECK(j["environment"]["cores"].get<int>() >= 1);
  REQUIRE(j["scenarios"].size() == 1);
  const json& s = j["scenarios"][0];
  CHECK(s["name"] == "smoke");
  CHECK(s["repeat"] == 2);
  REQUIRE(s["cells"].size() == 2);
  for (const json& c : s["cells"]) {
    INFO(c.dump(1));
    CHECK(c["status"] == "ok");
    CHECK(c["scenario"] == "smoke");
    CHECK(c["backend"] == "blocking");
    CHECK(c["delay_ms"] == 20);
    CHECK(c["bound_rps"].get<double>() == Approx(100));  // 2 connections / 20 ms
    REQUIRE(c["runs"].size() == 2);
    for (const json& run : c["runs"]) {
      CHECK(run["status"] == "ok");
      CHECK(run["exit_status"] == 0);
      check_ok_figures(run, c);
    }
    check_ok_figures(c["median"], c);
    CHECK(c["min"]["requests_per_s"].get<double>() <= c["median"]["requests_per_s"].get<double>());
    CHECK(c["median"]["requests_per_s"].get<double>() <= c["max"]["requests_per_s"].get<double>());
  }
  const json& one = cell_by_variant(s, "blocking");
  CHECK(one["id"] == "smoke/blocking/c=2/n=20");
  CHECK(one["median"]["completed"] == 20);  // a closed loop over -n completes exactly n
  CHECK(one["median"]["server"]["processes"] == 1);
  // One worker serves one connection at a time: 2 connections of a 20 ms handler get half the bound.
  CHECK(one["median"]["efficiency"].get<double>() < 0.75);
  const json& two = cell_by_variant(s, "blocking:workers=2");
  CHECK(two["median"]["server"]["processes"] == 3);  // the parent and its two preforked workers

  std::ifstream csv(dir.path / "results.csv");
  std::stringstream ss;
  ss << csv.rdbuf();
  const std::string text = ss.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 1 + 2 * 2 + 2);  // header, 4 runs, 2 medians
  CHECK(fs::file_size(dir.path / "report.md") > 200);
  if (r.err.find("gnuplot is not installed") == std::string::npos) {
    for (const char* chart : {"smoke-throughput.png", "smoke-latency.svg", "smoke-cpu.png"}) {
      INFO(chart);
      CHECK(fs::exists(dir.path / chart));
      CHECK(fs::file_size(dir.path / chart) > 1000);
    }
  }
}

TEST_CASE("run: an external command is measured, a server that cannot start is reported", "[run]") {
  TempDir dir;
  const std::string ext = "ext=" + ringbench_binary() + " serve blocking --workers 2 --delay-ms 20 --port {port}";
  const auto r = run_ringbench({"run", "--scenario", "smoke", "--backends", "blocking:workers=2", "--external", ext,
                                "--external", "broken=false {port}", "--out", dir.path.string()},
                               90s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 1);  // some cells failed: the run went on, and says so in its exit status
  CHECK(r.out.find("FAILED") != std::string::npos);
  CHECK(r.err.find("ringbench run: 2 of 5 cells failed (first: broken: exited before it was ready") != std::string::npos);
  const json j = read_json(dir.path / "results.json");
  const json& s = j["scenarios"][0];
  // blocking:workers=2 kept; ext and broken each at the scenario's two loads.
  REQUIRE(s["cells"].size() == 5);
  std::size_t ext_cells = 0, broken_cells = 0;
  for (const json& c : s["cells"]) {
    INFO(c.dump(1));
    if (c["variant"] == "ext") {
      ++ext_cells;
      CHECK(c["backend"] == "external");
      CHECK(c["status"] == "ok");
      check_ok_figures(c["runs"][0], c);
      CHECK(c["median"]["server"]["processes"] == 3);  // the tree of an external command is measured too
    } else if (c["variant"] == "broken") {
      ++broken_cells;
      CHECK(c["status"] == "failed");
      CHECK(c["failure"].get<std::string>().find("exited before it was ready (exit status 1)") != std::string::npos);
      CHECK(c["median"].is_null());
    } else {
      CHECK(c["variant"] == "blocking:workers=2");
      CHECK(c["status"] == "ok");
    }
  }
  CHECK(ext_cells == 2);
  CHECK(broken_cells == 2);
}

TEST_CASE("run: a built-in backend that exits at start-up is reported in its row", "[run]") {
  // `serve` refuses an option it does not know (exit 2): the same path as a backend not built yet.
  TempDir dir;
  const auto r = run_ringbench({"run", "--scenario", "smoke", "--backends", "blocking:no-such-option", "--out",
                                dir.path.string()},
                               60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 1);  // every cell failed
  const json j = read_json(dir.path / "results.json");
  for (const json& c : j["scenarios"][0]["cells"]) {
    CHECK(c["status"] == "failed");
    CHECK(c["failure"].get<std::string>().find("exit status 2") != std::string::npos);
  }
}

TEST_CASE("run: an open-loop cell offers its rate to a slow server, and wrk cannot run it", "[run]") {
  // 400 req/s over 20 connections of a 20 ms handler: the server could take 1 000/s, so it completes what
  // is offered, no more. A closed loop on the same connections would approach 1 000/s.
  TempDir dir;
  const fs::path file = dir.path / "open.json";
  std::ofstream(file) << R"({"name": "open", "defaults": {"delay_ms": 20, "duration_s": 1.5, "warmup_s": 0.3},
    "cells": [{"variant": "epoll", "concurrency": 20, "rate": 400}]})";
  auto r = run_ringbench({"run", "--scenario", file.string(), "--out", (dir.path / "o").string()}, 60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const json cell = read_json(dir.path / "o" / "results.json")["scenarios"][0]["cells"][0];
  CHECK(cell["rate"].get<double>() == Approx(400));
  CHECK(cell["bound_rps"].get<double>() == Approx(400));
  const double rps = cell["median"]["requests_per_s"].get<double>();
  CHECK(rps > 300);
  CHECK(rps < 480);

  if (std::system("command -v wrk > /dev/null 2>&1") == 0) {
    r = run_ringbench({"run", "--scenario", file.string(), "--client", "wrk", "--out", (dir.path / "w").string()}, 60s);
    CHECK(r.exit_code == 1);  // the cell fails with the reason; nothing is measured with the wrong client
    CHECK(read_json(dir.path / "w" / "results.json")["scenarios"][0]["cells"][0]["failure"].get<std::string>().find(
              "built-in client") != std::string::npos);
  }
}

TEST_CASE("run: a client_lag cell reports p99 at arrival and the client's lag in its figures and row", "[run]") {
  TempDir dir;
  const fs::path file = dir.path / "lag.json";
  std::ofstream(file) << R"({"name": "lag", "defaults": {"delay_ms": 20, "duration_s": 1, "warmup_s": 0.2},
    "cells": [{"variant": "epoll", "concurrency": 10, "client_lag": true}]})";
  const auto r = run_ringbench({"run", "--scenario", file.string(), "--out", dir.path.string()}, 60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const json cell = read_json(dir.path / "results.json")["scenarios"][0]["cells"][0];
  CHECK(cell["client_lag"] == true);
  const json& lat = cell["median"]["latency_s"];
  const double arrival = lat["arrival_p99"].get<double>();
  CHECK(arrival >= 0.019);  // the handler waits 20 ms
  CHECK(arrival <= lat["p99"].get<double>() + 1e-3);
  CHECK(lat["client_lag_p99"].get<double>() >= 0);
  CHECK(lat["client_lag_p99"].get<double>() < 0.02);  // 10 connections cannot queue 20 ms in the client
  CHECK(r.out.find("p99 at arrival") != std::string::npos);
}

TEST_CASE("run: wrk as a cross-check client", "[run]") {
  if (std::system("command -v wrk > /dev/null 2>&1") != 0) {
    WARN("wrk is not installed: skipped");
    return;
  }
  TempDir dir;
  const fs::path scenario = dir.path / "wrk-check.json";
  std::ofstream(scenario) << R"({"name": "wrkcheck", "defaults": {"delay_ms": 20, "warmup_s": 0.2, "duration_s": 1},
    "cells": [{"variant": "blocking:workers=2,keepalive-ms=5000", "concurrency": 2}]})";
  const auto r = run_ringbench({"run", "--scenario", scenario.string(), "--client", "wrk", "--out", dir.path.string()}, 60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const json j = read_json(dir.path / "results.json");
  const json& c = j["scenarios"][0]["cells"][0];
  REQUIRE(c["status"] == "ok");
  CHECK(c["median"]["requests_per_s"].get<double>() > 10);
  CHECK(c["median"]["efficiency"].get<double>() <= 1.05);
  CHECK(c["median"]["server"]["cpu_s"].get<double>() > 0);
  // wrk reports neither its own CPU nor its connects: unknown, not 0.
  CHECK(c["median"]["client"]["cpu_util_max"].is_null());
  CHECK(c["median"]["client"]["connects"].is_null());
  CHECK(c["runs"][0]["client"]["connects"].is_null());
}

TEST_CASE("run: a failed cell makes the exit status 1 with one line, and --allow-failures relaxes it", "[run]") {
  TempDir dir;
  const fs::path file = dir.path / "rates.json";
  std::ofstream(file) << R"({"name": "rates", "defaults": {"delay_ms": 20, "concurrency": 4, "duration_s": 0.3},
    "cells": [{"variant": "epoll", "rate": 50}, {"variant": "epoll", "rate": 100}]})";
  const std::vector<std::string> args = {"run", "--scenario", file.string(), "--external", "deaf=/bin/sleep 60 {port}",
                                         "--ready-timeout-ms", "300", "--out", (dir.path / "o").string()};
  auto r = run_ringbench(args, 60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("ringbench run: 2 of 4 cells failed") != std::string::npos);
  CHECK(r.err.find("not ready after 300 ms") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  // The external server runs at every cell of the scenario: both rates, not once per concurrency.
  const json cells = read_json(dir.path / "o" / "results.json")["scenarios"][0]["cells"];
  std::vector<double> deaf_rates;
  for (const json& c : cells) {
    if (c["variant"] == "deaf") deaf_rates.push_back(c["rate"].get<double>());
  }
  CHECK(deaf_rates == std::vector<double>{50, 100});
  CHECK(r.out.find("z=0.3s @50/s") != std::string::npos);  // rows that differ only in rate read apart
  if (r.err.find("gnuplot") == std::string::npos) {
    // A rate sweep is drawn as lines against the offered rate: one block for epoll with both rates.
    std::ifstream dat(dir.path / "o" / "rates-sweep.dat");
    std::stringstream ss;
    ss << dat.rdbuf();
    CHECK(ss.str().rfind("# epoll\n50\t", 0) == 0);
    CHECK(ss.str().find("\n100\t") != std::string::npos);
    CHECK(fs::file_size(dir.path / "o" / "rates-throughput.png") > 1000);
  }

  auto relaxed = args;
  relaxed.push_back("--allow-failures");
  r = run_ringbench(relaxed, 60s);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("2 of 4 cells failed") != std::string::npos);
}

TEST_CASE("run: --out is checked before the first cell", "[run]") {
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_ringbench({"run", "--scenario", "smoke", "--out", "/proc/nope"}, 20s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("ringbench run: --out /proc/nope: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());  // no cell ran
  CHECK(elapsed_ms(start) < 5000);
}

TEST_CASE("run: SIGINT writes the finished cells, marks the run interrupted and exits 130", "[run]") {
  TempDir dir;
  const fs::path file = dir.path / "long.json";
  std::ofstream(file) << R"({"name": "long", "defaults": {"delay_ms": 20, "concurrency": 2},
    "cells": [{"variant": "epoll", "duration_s": 0.3}, {"variant": "epoll", "duration_s": 30, "concurrency": 3}]})";
  const fs::path out = dir.path / "o";
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_ringbench({"run", "--scenario", file.string(), "--out", out.string()}, 60s, [&](pid_t pid) {
    // results.json is rewritten as each cell completes: interrupt once the first one is in it.
    for (int i = 0; i < 400; ++i) {
      std::this_thread::sleep_for(50ms);
      std::ifstream f(out / "results.json");
      std::stringstream ss;
      ss << f.rdbuf();
      if (ss.str().find("long/epoll/c=2") != std::string::npos) break;
    }
    ::kill(pid, SIGINT);
  });
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 130);
  CHECK(elapsed_ms(start) < 25000);  // the 30 s cell was cut short
  CHECK(r.out.find("interrupted") != std::string::npos);
  const json j = read_json(out / "results.json");
  CHECK(j["interrupted"] == true);
  const json& s = j["scenarios"][0];
  CHECK(s["interrupted"] == true);
  REQUIRE(s["cells"].size() == 1);
  CHECK(s["cells"][0]["status"] == "ok");
  CHECK(s["cells"][0]["median"]["requests_per_s"].get<double>() > 0);
}

TEST_CASE("run: bad command lines exit 2 with one line", "[run]") {
  const std::vector<std::vector<std::string>> bad = {
      {"run", "--repeat", "0"},
      {"run", "--repeat", "x"},
      {"run", "--backends", "nginx"},
      {"run", "--backends", "uring:threads="},
      {"run", "--scenario", "no-such-scenario"},
      {"run", "--external", "x=cmd-without-port"},
      {"run", "--external", "noequals"},
      {"run", "--external", "uring=x {port}"},
      {"run", "--client", "ab"},
      {"run", "--server-bin", "/nonexistent/ringbench"},
      {"run", "--no-such-flag"},
      {"run", "stray"},
  };
  for (const auto& args : bad) {
    const auto r = run_ringbench(args, 20s);
    INFO(args.back() << " → stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("ringbench run: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
