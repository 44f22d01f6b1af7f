// Unit tests of the wrk/hey summary readers and the /proc process-tree sampler.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "run/external_client.hpp"
#include "run/proc_tree.hpp"

using namespace ringbench::run;

TEST_CASE("run: hey's summary is read as the seed printed it", "[run]") {
  // The seed experiment's 4-worker run (shared/seed/flask-async-poc.md), with hey's distribution blocks.
  const std::string text = R"(
Summary:
  Total:	3.3011 secs
  Slowest:	0.7626 secs
  Fastest:	0.2556 secs
  Average:	0.5891 secs
  Requests/sec:	15.1464

Latency distribution:
  10% in 0.2570 secs
  50% in 0.5093 secs
  90% in 0.7601 secs
  99% in 0.7626 secs

Status code distribution:
  [200]	48 responses
  [503]	2 responses

Error distribution:
  [3]	Get "http://localhost:8000": dial tcp 127.0.0.1:8000: connect: connection refused
)";
  const auto r = parse_hey_output(text);
  CHECK(r.requests_per_s == Approx(15.1464));
  CHECK(r.elapsed_s == Approx(3.3011));
  CHECK(r.slowest_s == Approx(0.7626));
  CHECK(r.percentiles_s.at("p50") == Approx(0.5093));
  CHECK(r.percentiles_s.at("p99") == Approx(0.7626));
  CHECK(r.completed == 50);
  CHECK(r.ok == 48);
  CHECK(r.status_counts.at(503) == 2);
  CHECK(r.errors.at("connect") == 3);
  CHECK_THROWS(parse_hey_output("hey: bad flag"));
}

TEST_CASE("run: wrk's summary and the runner's done() lines are read", "[run]") {
  const std::string text = R"(Running 1s test @ http://127.0.0.1:18777/
  1 threads and 4 connections
  295 requests in 1.00s, 28.23KB read
  Non-2xx or 3xx responses: 5
Requests/sec:    294.09
RB requests 295
RB duration_us 1003100
RB errors 1 2 0 5 3
RB pct 50 13730
RB pct 90 16150
RB pct 99 22880
RB pct 99.9 24500
RB max 24600
RB mean 13440.5
)";
  const auto r = parse_wrk_output(text);
  CHECK(r.completed == 295);
  CHECK(r.ok == 290);
  CHECK(r.elapsed_s == Approx(1.0031));
  CHECK(r.requests_per_s == Approx(295 / 1.0031));
  CHECK(r.percentiles_s.at("p99.9") == Approx(0.0245));
  CHECK(r.slowest_s == Approx(0.0246));
  CHECK(r.errors.at("connect") == 1);
  CHECK(r.errors.at("read") == 2);
  CHECK(r.errors.at("timeout") == 3);
  CHECK_THROWS(parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused"));
}

TEST_CASE("run: the process tree includes forked children and counts their CPU", "[run]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A grandchild that burns CPU until killed, like a prefork worker.
    if (::fork() == 0) {
      for (;;) ::getppid();  // a system call per turn: CPU time the optimiser cannot remove
    }
    ::pause();
    ::_exit(0);
  }
  const auto before = sample_tree(child, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto after = sample_tree(child, true);
  const auto tree = process_tree(child);
  for (pid_t p : tree) ::kill(p, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(tree.size() == 2);
  CHECK(after.processes == 2);
  CHECK(after.threads >= 2);
  CHECK(after.rss_kb > 0);
  CHECK(after.hwm_kb >= after.rss_kb);
  // Generous: the spinner shares 2 cores with everything else on the machine.
  CHECK(cpu_between(before, after) > 0.02);
  CHECK(cpu_between(before, after) < 1.0);
}

TEST_CASE("run: per-task differences survive threads that come and go", "[run]") {
  TreeSample before, after;
  before.tasks[10] = {1.0, 100, 5};
  before.tasks[11] = {5.0, 900, 50};  // exits before `after`: its counts are gone, not negative
  after.tasks[10] = {1.5, 130, 6};
  after.tasks[12] = {0.25, 40, 1};    // born in between: counts from zero
  const TaskCounters d = tasks_between(before, after);
  CHECK(d.cpu_s == Approx(0.75));
  CHECK(d.ctx_voluntary == 70);
  CHECK(d.ctx_involuntary == 2);
  CHECK(cpu_between(before, after) == Approx(0.75));
  after.cpu_s_ticks = 2.0;  // the thread group's ticks include the exited thread: trusted when clearly more
  CHECK(cpu_between(before, after) == Approx(2.0));
}

TEST_CASE("run: tasks that exited are counted as lost", "[run]") {
  TreeSample before, after;
  before.tasks[1] = {1.0, 10, 1};
  before.tasks[2] = {1.0, 10, 1};
  after.tasks[1] = {2.0, 20, 2};
  CHECK(tasks_between(before, after).lost == 1);
  CHECK(tasks_between(after, after).lost == 0);
}
