// `ringbench serve BACKEND [options]`: parses the server options into a ServerConfig and runs a backend.
#include <cxxopts.hpp>
#include <cmath>
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "app/commands.hpp"
#include "blocking/server.hpp"
#include "core/cli_numbers.hpp"
#include "core/config.hpp"
#include "core/net.hpp"
#include "core/stop_signal.hpp"
#include "epoll/server.hpp"
#include "threads/server.hpp"
#include "uring_server/server.hpp"

namespace ringbench {
namespace {

const std::map<std::string, std::function<int(const ServerConfig&)>>& backends() {
  static const std::map<std::string, std::function<int(const ServerConfig&)>> table = {
      {"blocking", run_blocking_server},
      {"epoll", run_epoll_server},
      {"threads", run_threads_server},
      {"uring", run_uring_server},
  };
  return table;
}

cxxopts::Options make_options() {
  cxxopts::Options o("ringbench serve", "Run one HTTP server backend: uring, epoll, threads or blocking.");
  o.custom_help("BACKEND [options]");
  ServerConfig d;
  UringConfig u;
  // clang-format off
  o.add_options()
    ("backend", "uring | epoll | threads | blocking", cxxopts::value<std::string>())
    ("host", "address to bind", cxxopts::value<std::string>()->default_value(d.host))
    ("port", "port to bind; 0 picks a free one", cxxopts::value<std::string>()->default_value(std::to_string(d.port)))
    ("delay-ms", "handler delay before each reply", cxxopts::value<std::string>()->default_value(std::to_string(d.delay_ms)))
    ("threads", "event-loop threads (uring, epoll)", cxxopts::value<std::string>()->default_value("1"))
    ("workers", "preforked processes sharing the socket (blocking, threads)", cxxopts::value<std::string>()->default_value("1"))
    ("pool", "threads backend: fixed pool of N threads per process (0 = a thread per connection)", cxxopts::value<std::string>()->default_value("0"))
    ("stack-kb", "threads backend: stack size per thread", cxxopts::value<std::string>()->default_value(std::to_string(d.stack_kb)))
    ("header-timeout-ms", "cut off a client whose request is not complete this long after its first byte", cxxopts::value<std::string>()->default_value(std::to_string(d.header_timeout_ms)))
    ("keepalive-ms", "close a keep-alive connection idle this long; 0 closes after each reply (default: 0 for blocking and threads --pool, 60000 otherwise)", cxxopts::value<std::string>())
    ("drain-ms", "on SIGTERM, how long in-flight requests may still take", cxxopts::value<std::string>()->default_value(std::to_string(d.drain_ms)))
    ("send-timeout-ms", "cut off a client that stops reading its reply", cxxopts::value<std::string>()->default_value(std::to_string(d.send_timeout_ms)))
    ("linger-ms", "after an error reply, discard input this long before closing", cxxopts::value<std::string>()->default_value(std::to_string(d.linger_ms)))
    ("max-connections", "open connections per process; more are answered 503 and closed", cxxopts::value<std::string>()->default_value(std::to_string(d.max_connections)))
    ("backlog", "listen backlog", cxxopts::value<std::string>()->default_value(std::to_string(d.backlog)))
    ("no-reuseport", "share one listening socket between loop threads instead of one each")
    ("max-header-bytes", "request line + headers limit (431)", cxxopts::value<std::string>()->default_value(std::to_string(d.limits.max_header_bytes)))
    ("max-url-bytes", "request target limit (414)", cxxopts::value<std::string>()->default_value(std::to_string(d.limits.max_url_bytes)))
    ("max-body-bytes", "request body limit (413)", cxxopts::value<std::string>()->default_value(std::to_string(d.limits.max_body_bytes)))
    ("max-response-bytes", "largest GET /bytes/<n>", cxxopts::value<std::string>()->default_value(std::to_string(d.limits.max_response_bytes)))
    ("max-delay-ms", "largest GET /delay/<ms>", cxxopts::value<std::string>()->default_value(std::to_string(d.limits.max_delay_ms)))
    ("timer-slack-us", "epoll, uring --timer wheel: answer delays that end within this many µs of each other in one wake-up", cxxopts::value<std::string>()->default_value(std::to_string(d.timer_slack_us)))
    ("spin-us", "burn this much CPU per request, in µs, fractions allowed (inject a regression on purpose)", cxxopts::value<std::string>()->default_value("0"))
    ("h,help", "show this help");
  o.add_options("io_uring")
    ("sqpoll", "kernel SQ polling thread (IORING_SETUP_SQPOLL)")
    ("sqpoll-idle-ms", "SQPOLL thread idle time before it sleeps", cxxopts::value<std::string>()->default_value(std::to_string(u.sqpoll_idle_ms)))
    ("no-multishot-accept", "one accept SQE per connection")
    ("no-multishot-recv", "single-shot recv into per-connection buffers")
    ("no-buf-ring", "no provided buffer ring (implies --no-multishot-recv)")
    ("fixed-files", "registered (direct) descriptors")
    ("fixed-file-slots", "with --fixed-files: direct descriptors per loop; more clients wait in the backlog (0 = RLIMIT_NOFILE, at most 65536)", cxxopts::value<std::string>()->default_value("0"))
    ("defer-taskrun", "IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN (default on where supported)")
    ("no-defer-taskrun", "do not use DEFER_TASKRUN")
    ("coop-taskrun", "IORING_SETUP_COOP_TASKRUN")
    ("send-zc", "IORING_OP_SEND_ZC for large bodies")
    ("no-zc-report-usage", "with --send-zc: do not ask the kernel whether it copied (IORING_SEND_ZC_REPORT_USAGE; default on where supported)")
    ("recv-bundle", "receive bundles: one multishot recv completion fills several provided buffers (IORING_RECVSEND_BUNDLE, Linux 6.10)")
    ("buf-ring-inc", "incremental buffer consumption: each recv takes only what it needs of a provided buffer (IOU_PBUF_RING_INC, Linux 6.12)")
    ("no-iowait", "waits are not accounted as iowait, as epoll's are not (IORING_ENTER_NO_IOWAIT, Linux 6.15)")
    ("ring-entries", "submission queue entries", cxxopts::value<std::string>()->default_value(std::to_string(u.ring_entries)))
    ("buf-count", "provided buffers per ring", cxxopts::value<std::string>()->default_value(std::to_string(u.buf_count)))
    ("buf-size", "bytes per provided buffer", cxxopts::value<std::string>()->default_value(std::to_string(u.buf_size)))
    ("min-wait-us", "batch wake-ups: sleep at least this long unless --min-wait-batch completions come first (IORING_FEAT_MIN_TIMEOUT, Linux 6.12; 0 = off)", cxxopts::value<std::string>()->default_value(std::to_string(u.min_wait_us)))
    ("min-wait-batch", "completions that end a --min-wait-us sleep early", cxxopts::value<std::string>()->default_value(std::to_string(u.min_wait_batch)))
    ("timer", "delay timers: ring (one IORING_OP_TIMEOUT per request) | wheel (user-space wheel, one ring timeout)", cxxopts::value<std::string>()->default_value("wheel"));
  // clang-format on
  o.parse_positional({"backend"});
  o.positional_help("BACKEND");
  return o;
}

template <typename T>
T num(const cxxopts::ParseResult& r, const char* name) {
  return parse_number<T>(name, r[name].as<std::string>());
}

void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}

ServerConfig to_config(const cxxopts::ParseResult& r) {
  ServerConfig c;
  require(r.count("backend") == 1, "missing BACKEND (uring, epoll, threads or blocking)");
  c.backend = r["backend"].as<std::string>();
  require(backends().count(c.backend) == 1,
          fmt::format("unknown backend '{}' (uring, epoll, threads or blocking)", c.backend));
  c.host = r["host"].as<std::string>();
  const uint32_t port = num<uint32_t>(r, "port");
  require(port <= 65535, fmt::format("--port must be 0..65535, not {}", port));
  c.port = static_cast<uint16_t>(port);
  c.delay_ms = num<uint32_t>(r, "delay-ms");
  c.threads = num<uint32_t>(r, "threads");
  c.workers = num<uint32_t>(r, "workers");
  c.pool = num<uint32_t>(r, "pool");
  c.stack_kb = num<uint32_t>(r, "stack-kb");
  c.header_timeout_ms = num<uint32_t>(r, "header-timeout-ms");
  if (r.count("keepalive-ms")) c.keepalive_ms = num<int64_t>(r, "keepalive-ms");
  c.drain_ms = num<uint32_t>(r, "drain-ms");
  c.send_timeout_ms = num<uint32_t>(r, "send-timeout-ms");
  c.linger_ms = num<uint32_t>(r, "linger-ms");
  c.max_connections = num<uint32_t>(r, "max-connections");
  c.backlog = num<uint32_t>(r, "backlog");
  c.reuseport = r.count("no-reuseport") == 0;
  c.limits.max_header_bytes = num<std::size_t>(r, "max-header-bytes");
  c.limits.max_url_bytes = num<std::size_t>(r, "max-url-bytes");
  c.limits.max_body_bytes = num<std::size_t>(r, "max-body-bytes");
  c.limits.max_response_bytes = num<uint64_t>(r, "max-response-bytes");
  c.limits.max_delay_ms = num<uint32_t>(r, "max-delay-ms");
  c.timer_slack_us = num<uint32_t>(r, "timer-slack-us");
  // Fractions count: the gate's 10 % injection on a ~12 µs request is 1.2 µs.
  c.spin_ns = static_cast<uint64_t>(std::llround(parse_number<double>("spin-us", r["spin-us"].as<std::string>(), 0.0, 1e6) * 1000));

  UringConfig& u = c.uring;
  u.sqpoll = r.count("sqpoll") > 0;
  u.sqpoll_idle_ms = num<uint32_t>(r, "sqpoll-idle-ms");
  u.multishot_accept = r.count("no-multishot-accept") == 0;
  u.buf_ring = r.count("no-buf-ring") == 0;
  u.multishot_recv = r.count("no-multishot-recv") == 0 && u.buf_ring;
  u.fixed_files = r.count("fixed-files") > 0;
  u.fixed_file_slots = num<uint32_t>(r, "fixed-file-slots");
  require(!(r.count("defer-taskrun") && r.count("no-defer-taskrun")),
          "--defer-taskrun and --no-defer-taskrun contradict each other");
  u.defer_taskrun = r.count("no-defer-taskrun") == 0;
  u.coop_taskrun = r.count("coop-taskrun") > 0;
  u.send_zc = r.count("send-zc") > 0;
  u.zc_report_usage = r.count("no-zc-report-usage") == 0;
  u.recv_bundle = r.count("recv-bundle") > 0;
  u.buf_ring_inc = r.count("buf-ring-inc") > 0;
  u.no_iowait = r.count("no-iowait") > 0;
  u.ring_entries = num<uint32_t>(r, "ring-entries");
  u.buf_count = num<uint32_t>(r, "buf-count");
  u.buf_size = num<uint32_t>(r, "buf-size");
  u.min_wait_us = num<uint32_t>(r, "min-wait-us");
  u.min_wait_batch = num<uint32_t>(r, "min-wait-batch");
  const std::string timer = r["timer"].as<std::string>();
  require(timer == "ring" || timer == "wheel", fmt::format("--timer must be ring or wheel, not '{}'", timer));
  u.timer = timer == "ring" ? TimerKind::ring : TimerKind::wheel;

  require(c.threads >= 1 && c.threads <= 256, "--threads must be 1..256");
  require(c.workers >= 1 && c.workers <= 256, "--workers must be 1..256");
  require(c.pool <= 100'000, "--pool must be 0..100000");
  require(c.stack_kb >= 16, "--stack-kb must be at least 16");
  require(c.header_timeout_ms >= 1, "--header-timeout-ms must be at least 1");
  require(c.send_timeout_ms >= 1, "--send-timeout-ms must be at least 1");
  require(c.keepalive_ms >= -1, "--keepalive-ms must be 0 or more");
  require(c.max_connections >= 1, "--max-connections must be at least 1");
  require(c.backlog >= 1, "--backlog must be at least 1");
  require(c.limits.max_header_bytes >= 64, "--max-header-bytes must be at least 64");
  require(c.limits.max_url_bytes >= 1, "--max-url-bytes must be at least 1");
  require(c.delay_ms <= c.limits.max_delay_ms, "--delay-ms must not exceed --max-delay-ms");
  // Below 10 µs the delay wheel's 65 536 slots would span less than a 250 ms delay, and delays further away
  // than its span cost wake-ups that pop nothing.
  require(c.timer_slack_us >= 10 && c.timer_slack_us <= 10'000, "--timer-slack-us must be 10..10000");
  require(u.ring_entries >= 8 && u.ring_entries <= 32768 && (u.ring_entries & (u.ring_entries - 1)) == 0,
          "--ring-entries must be a power of two in 8..32768");
  require(u.buf_count >= 1 && u.buf_count <= 32768 && (u.buf_count & (u.buf_count - 1)) == 0,
          "--buf-count must be a power of two in 1..32768");
  require(u.min_wait_us <= 100'000, "--min-wait-us must be 0..100000");
  require(u.fixed_file_slots <= 65'536, "--fixed-file-slots must be 0..65536");
  require(u.min_wait_batch >= 2 && u.min_wait_batch <= 65'536, "--min-wait-batch must be 2..65536");
  require(u.buf_size >= 512 && u.buf_size <= (1u << 20), "--buf-size must be 512..1048576");
  return c;
}

}  // namespace

int serve_main(int argc, char** argv) {
  ServerConfig cfg;
  try {
    cxxopts::Options options = make_options();
    const cxxopts::ParseResult r = options.parse(argc, argv);
    if (r.count("help")) {
      std::fputs(options.help({"", "io_uring"}).c_str(), stdout);
      return 0;
    }
    cfg = to_config(r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench serve: %s\n", e.what());
    return 2;
  }
  try {
    install_stop_handlers();
    raise_nofile_limit();
    return backends().at(cfg.backend)(cfg);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "ringbench serve %s: %s\n", cfg.backend.c_str(), e.what());
    return 1;
  }
}

}  // namespace ringbench
