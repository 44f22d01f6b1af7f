// wrk and hey as child processes; see external_client.hpp.
#include "run/external_client.hpp"

#include "run/server_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace ringbench::run {
namespace {

// wrk's Lua done() hook prints what its --latency table leaves out (p99.9, error classes) as "RB" lines.
constexpr const char* kWrkScript = R"(done = function(summary, latency, requests)
  io.write(string.format("RB requests %d\n", summary.requests))
  io.write(string.format("RB duration_us %d\n", summary.duration))
  io.write(string.format("RB errors %d %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("RB pct %g %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("RB max %d\n", latency.max))
  io.write(string.format("RB mean %f\n", latency.mean))
end
)";

struct Captured {
  int status = -1;
  std::string out;
};

std::string temp_file(const char* tag) {
  std::string tmpl = std::string("/tmp/ringbench-run-") + tag + "-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  ::close(fd);
  return tmpl;
}

// Runs args (argv[0] searched on PATH) pinned to `cpu`, stdout+stderr captured.
Captured capture(const std::vector<std::string>& args, int cpu) {
  const std::string out_path = temp_file("client");
  const int fd = ::open(out_path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("open ") + out_path + ": " + std::strerror(errno));
  std::string failure;
  const pid_t pid = spawn_child(args, fd, fd, cpu, failure);
  ::close(fd);
  if (pid < 0) throw std::runtime_error(failure);
  Captured c;
  c.status = wait_child(pid, std::chrono::hours(24 * 365)).value_or(-1);
  std::ifstream f(out_path);
  std::stringstream ss;
  ss << f.rdbuf();
  c.out = ss.str();
  ::unlink(out_path.c_str());
  return c;
}

std::string url_of(const load::LoadOptions& o) {
  return o.url.empty() ? fmt::format("http://{}:{}{}", o.host, o.port, o.path) : o.url;
}

}  // namespace

bool tool_installed(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

load::LoadResult parse_wrk_output(const std::string& text) {
  load::LoadResult r;
  std::istringstream in(text);
  bool have_requests = false, have_duration = false;
  uint64_t non_2xx = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream w(line);
    std::string tag, key;
    w >> tag;
    if (tag == "Non-2xx") {
      // "  Non-2xx or 3xx responses: 5"
      const auto colon = line.rfind(':');
      if (colon != std::string::npos) non_2xx = std::strtoull(line.c_str() + colon + 1, nullptr, 10);
      continue;
    }
    if (tag != "RB") continue;
    w >> key;
    if (key == "requests") {
      w >> r.completed;
      have_requests = true;
    } else if (key == "duration_us") {
      double us = 0;
      w >> us;
      r.elapsed_s = us / 1e6;
      have_duration = us > 0;
    } else if (key == "errors") {
      uint64_t connect = 0, read = 0, write = 0, status = 0, timeout = 0;
      w >> connect >> read >> write >> status >> timeout;
      r.errors = {{"connect", connect}, {"read", read + write}, {"timeout", timeout}, {"status", status}, {"parse", 0}};
    } else if (key == "pct") {
      std::string p;
      double us = 0;
      w >> p >> us;
      r.percentiles_s["p" + p] = us / 1e6;
    } else if (key == "max") {
      double us = 0;
      w >> us;
      r.slowest_s = us / 1e6;
    } else if (key == "mean") {
      double us = 0;
      w >> us;
      r.average_s = us / 1e6;
    }
  }
  if (!have_requests || !have_duration) throw std::runtime_error("wrk printed no summary: " + text.substr(0, 300));
  // wrk counts a non-2xx/3xx reply as a completed request and, separately, as a status error.
  r.status_counts[200] = r.completed - std::min(r.completed, non_2xx);
  if (non_2xx) r.status_counts[500] = non_2xx;  // wrk does not say which statuses; 500 stands for "other"
  r.ok = r.completed - std::min(r.completed, non_2xx);
  r.requests_per_s = static_cast<double>(r.completed) / r.elapsed_s;
  return r;
}

load::LoadResult parse_hey_output(const std::string& text) {
  load::LoadResult r;
  auto number_after = [&](const char* label, double& out) {
    const auto at = text.find(label);
    if (at == std::string::npos) return false;
    out = std::strtod(text.c_str() + at + std::strlen(label), nullptr);
    return true;
  };
  double rps = 0;
  if (!number_after("Requests/sec:", rps) || !number_after("Total:", r.elapsed_s)) {
    throw std::runtime_error("hey printed no summary: " + text.substr(0, 300));
  }
  r.requests_per_s = rps;
  number_after("Slowest:", r.slowest_s);
  number_after("Fastest:", r.fastest_s);
  number_after("Average:", r.average_s);
  // "  50% in 0.2595 secs"
  static const std::regex pct(R"((\d+(?:\.\d+)?)% in ([0-9.]+) secs)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pct); it != std::sregex_iterator(); ++it) {
    r.percentiles_s["p" + (*it)[1].str()] = std::strtod((*it)[2].str().c_str(), nullptr);
  }
  // "  [200]	50 responses"
  static const std::regex status(R"(\[(\d{3})\]\s+(\d+) responses)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), status); it != std::sregex_iterator(); ++it) {
    const int code = std::atoi((*it)[1].str().c_str());
    const uint64_t n = std::strtoull((*it)[2].str().c_str(), nullptr, 10);
    r.status_counts[code] += n;
    r.completed += n;
    if (code >= 200 && code <= 299) r.ok += n;
  }
  // "Error distribution:\n  [5]	Get "...": dial tcp ...: connection refused"
  static const std::regex err(R"(\[(\d+)\]\s+(Get|Post|Head|Put|Delete)[^\n]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), err); it != std::sregex_iterator(); ++it) {
    const std::string what = (*it)[0].str();
    const uint64_t n = std::strtoull((*it)[1].str().c_str(), nullptr, 10);
    const char* cls = what.find("dial") != std::string::npos       ? "connect"
                      : what.find("Timeout") != std::string::npos || what.find("timeout") != std::string::npos
                          ? "timeout"
                          : "read";
    r.errors[cls] += n;
  }
  return r;
}

load::LoadResult run_wrk(const load::LoadOptions& o, int cpu) {
  if (o.requests > 0) throw std::runtime_error("wrk has no -n (a fixed request count); use the built-in client or hey");
  if (!tool_installed("wrk")) throw std::runtime_error("wrk is not installed (apt-get install wrk)");
  const std::string script = temp_file("wrk-lua");
  std::ofstream(script) << kWrkScript;
  const uint32_t threads = std::max<uint32_t>(1, std::min(o.threads, o.connections));
  const Captured c = capture({"wrk", "-t", std::to_string(threads), "-c", std::to_string(o.connections), "-d",
                              fmt::format("{}s", std::max<long>(1, std::lround(o.duration_s))), "--timeout",
                              fmt::format("{}s", std::max<long>(1, std::lround(o.timeout_s))), "-s", script, url_of(o)},
                             cpu);
  ::unlink(script.c_str());
  if (c.status != 0) throw std::runtime_error(fmt::format("wrk failed (exit status {}): {}", c.status, c.out.substr(0, 300)));
  return parse_wrk_output(c.out);
}

load::LoadResult run_hey(const load::LoadOptions& o, int cpu) {
  if (!tool_installed("hey")) throw std::runtime_error("hey is not installed (https://github.com/rakyll/hey)");
  std::vector<std::string> args = {"hey", "-c", std::to_string(o.connections), "-t",
                                   std::to_string(std::max<long>(1, std::lround(o.timeout_s)))};
  if (o.requests > 0) {
    args.insert(args.end(), {"-n", std::to_string(o.requests)});
  } else {
    args.insert(args.end(), {"-z", fmt::format("{}s", std::max<long>(1, std::lround(o.duration_s)))});
  }
  args.push_back(url_of(o));
  const Captured c = capture(args, cpu);
  if (c.status != 0) throw std::runtime_error(fmt::format("hey failed (exit status {}): {}", c.status, c.out.substr(0, 300)));
  return parse_hey_output(c.out);
}

}  // namespace ringbench::run
