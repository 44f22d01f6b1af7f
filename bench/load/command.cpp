// `ringbench load URL [options]`: hey's interface over the engine in engine.hpp.
//   ringbench load http://127.0.0.1:8000/ -n 10000 -c 100          closed loop, 10 000 requests
//   ringbench load http://127.0.0.1:8000/ -z 10s -c 1000 --rate 3000 --warmup 2s --ramp 1s --json out.json
#include <fcntl.h>
#include <unistd.h>

#include <cxxopts.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "core/cli_numbers.hpp"
#include "core/net.hpp"
#include "core/stop_signal.hpp"
#include "load/command.hpp"
#include "load/engine.hpp"
#include "load/summary.hpp"
#include "load/url.hpp"

namespace ringbench {
namespace {

constexpr uint64_t kDefaultRequests = 200;  // hey's default when neither -n nor -z is given
// Durations are bounded so that a typo (1e308s) is refused up front instead of running nothing: a week is
// longer than any benchmark, and -z below a millisecond measures nothing.
constexpr double kMaxDurationS = 7 * 24 * 3600.0;
constexpr double kMinRunS = 1e-3;
constexpr double kMaxRate = 1e9;  // requests/s; far beyond any loopback server

constexpr const char* kExamples =
    "\nExamples:\n"
    "  ringbench load http://127.0.0.1:8000/ -n 10000 -c 100                 closed loop, 10 000 requests\n"
    "  ringbench load http://127.0.0.1:8000/ -z 10s -c 100 --threads 2        closed loop for 10 s\n"
    "  ringbench load http://127.0.0.1:8000/ -z 10s -c 100 --rate 20000 --json -   open loop, JSON on stdout\n"
    "\nAs in hey, -z wins over -n, -t is the per-request timeout and -d the request body (wrk's -t and -d are\n"
    "--threads and -z here).\n";

cxxopts::Options make_options() {
  cxxopts::Options o("ringbench load", "HTTP load generator: closed loop (-n/-z) or open loop (--rate).");
  o.custom_help("URL [options]");
  // clang-format off
  o.add_options()
    ("url", "http://HOST[:PORT]/PATH", cxxopts::value<std::string>())
    ("n", "requests in total (closed loop; default 200; ignored with -z, as in hey)", cxxopts::value<std::string>())
    ("c", "connections", cxxopts::value<std::string>()->default_value("50"))
    ("z", "run for this long (10s, 500ms, 2m) instead of -n", cxxopts::value<std::string>())
    ("rate", "open loop: requests/s in total; latency counts from each request's intended send time", cxxopts::value<std::string>())
    ("t,timeout", "per-request timeout with a unit (20s, 500ms; 0 = none)", cxxopts::value<std::string>()->default_value("20s"))
    ("m", "HTTP method", cxxopts::value<std::string>()->default_value("GET"))
    ("H", "request header 'Name: value' (repeatable)", cxxopts::value<std::string>())
    ("d,body", "request body", cxxopts::value<std::string>())
    ("threads", "client threads (each drives its share of the connections)", cxxopts::value<std::string>()->default_value("1"))
    ("warmup", "leading window whose completions are not recorded", cxxopts::value<std::string>()->default_value("0s"))
    ("ramp", "stagger connection starts over this long", cxxopts::value<std::string>()->default_value("0s"))
    ("disable-keepalive", "a new connection per request; the client closes it")
    ("requests-per-conn", "reconnect after this many requests (0 = never)", cxxopts::value<std::string>()->default_value("0"))
    ("pipeline", "requests in flight per connection", cxxopts::value<std::string>()->default_value("1"))
    ("expect-status", "responses with another status are errors (default: any 2xx is fine)", cxxopts::value<std::string>())
    ("expect-body", "responses with another body are errors", cxxopts::value<std::string>())
    ("max-errors", "exit 1 (and stop) when errors exceed this", cxxopts::value<std::string>())
    ("engine", "each client thread's loop: epoll or uring (io_uring)", cxxopts::value<std::string>()->default_value("epoll"))
    ("client-lag", "also report how long responses waited in the socket before the client read them (kernel receive times)")
    ("json", "write all figures and the histogram to FILE (- for stdout; the summary then goes to stderr)", cxxopts::value<std::string>())
    ("h,help", "show this help");
  // clang-format on
  o.parse_positional({"url"});
  o.positional_help("URL");
  return o;
}

// "10s", "500ms", "250us", "2m", "1h" or a bare number of seconds; finite, 0 .. kMaxDurationS.
double parse_duration(const std::string& option, const std::string& text) {
  struct Unit {
    const char* suffix;
    double seconds;
  };
  static constexpr Unit kUnits[] = {{"ms", 1e-3}, {"us", 1e-6}, {"s", 1}, {"m", 60}, {"h", 3600}};
  std::string num = text;
  double scale = 1;
  for (const Unit& u : kUnits) {
    const std::size_t n = std::strlen(u.suffix);
    if (text.size() > n && text.compare(text.size() - n, n, u.suffix) == 0 &&
        std::isdigit(static_cast<unsigned char>(text[text.size() - n - 1]))) {
      num = text.substr(0, text.size() - n);
      scale = u.seconds;
      break;
    }
  }
  const double v = parse_number<double>(option, num) * scale;
  if (!std::isfinite(v) || v < 0 || v > kMaxDurationS) {
    throw std::invalid_argument(fmt::format("{}{} must be a duration from 0 to {:.0f}s, not {}",
                                            option.size() == 1 ? "-" : "--", option, kMaxDurationS, text));
  }
  return v;
}

// wrk's habits read differently here: `-t2` (wrk: 2 threads) would be a 2 s timeout and `-d10s` (wrk: run
// 10 s) a 3-byte body. A bare number to -t or a duration to -d is refused with the likely meaning.
void refuse_wrk_habits(int argc, char** argv) {
  static const std::regex kBareNumber("[0-9]+");
  static const std::regex kDuration("[0-9]+(\\.[0-9]+)?(us|ms|s|m|h)");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") return;
    if (a.size() < 2 || a[0] != '-' || (a[1] != 't' && a[1] != 'd')) continue;
    const std::string value = a.size() > 2 ? a.substr(2) : (i + 1 < argc ? argv[i + 1] : "");
    if (a[1] == 't' && std::regex_match(value, kBareNumber) && value != "0") {
      throw std::invalid_argument(fmt::format("-t {}: -t is the per-request timeout here and takes a unit "
                                              "(-t {}s); did you mean --threads {}?", value, value, value));
    }
    if (a[1] == 'd' && std::regex_match(value, kDuration)) {
      throw std::invalid_argument(fmt::format("-d {}: -d is the request body here (as in hey); did you mean "
                                              "-z {}? (a body that reads like this: --body {})", value, value, value));
    }
  }
}

// -H may repeat and its values hold commas, which cxxopts would split: take it out of argv first.
std::vector<std::string> take_headers(int& argc, char** argv) {
  std::vector<std::string> headers;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      while (i < argc) argv[out++] = argv[i++];
      break;
    }
    if (a == "-H" || a == "--header") {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a 'Name: value' argument");
      headers.emplace_back(argv[++i]);
    } else if (a.rfind("--header=", 0) == 0) {
      headers.push_back(a.substr(9));
    } else if (a.rfind("-H", 0) == 0 && a.size() > 2) {
      headers.push_back(a.substr(2));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return headers;
}

// Short options (-n, -c) are named with one dash in messages; parse_number writes two.
template <typename T>
T num(const cxxopts::ParseResult& r, const char* name, T lo, T hi) {
  try {
    return parse_number<T>(name, r[name].as<std::string>(), lo, hi);
  } catch (const std::invalid_argument& e) {
    if (std::strlen(name) != 1) throw;
    throw std::invalid_argument(std::string(e.what()).substr(1));
  }
}

load::LoadOptions to_options(const cxxopts::ParseResult& r, std::vector<std::string> headers) {
  load::LoadOptions o;
  if (r.count("url") != 1) throw std::invalid_argument("missing URL (http://HOST[:PORT]/PATH)");
  o.url = r["url"].as<std::string>();
  const load::Url u = load::parse_url(o.url);
  o.host = u.host;
  o.port = u.port;
  o.path = u.path;
  o.connections = num<uint32_t>(r, "c", 0, 1'000'000);
  if (o.connections == 0) throw std::invalid_argument("-c must be at least 1");
  if (r.count("z")) {
    o.duration_s = parse_duration("z", r["z"].as<std::string>());
    if (o.duration_s < kMinRunS) throw std::invalid_argument("-z must be at least 1ms");
  }
  if (r.count("n")) {
    const uint64_t n = num<uint64_t>(r, "n", 1, UINT64_MAX / 2);
    if (o.duration_s == 0) o.requests = n;  // as in hey, -z wins
  } else if (o.duration_s == 0) {
    o.requests = kDefaultRequests;
  }
  if (o.requests > 0 && o.duration_s == 0 && o.requests < o.connections) {
    throw std::invalid_argument(fmt::format("-n ({}) must be at least -c ({})", o.requests, o.connections));
  }
  if (r.count("rate")) {
    o.rate = parse_number<double>("rate", r["rate"].as<std::string>());
    if (!std::isfinite(o.rate) || o.rate <= 0 || o.rate > kMaxRate) {
      throw std::invalid_argument(fmt::format("--rate must be above 0 and at most {:.0e}, not {}", kMaxRate,
                                              r["rate"].as<std::string>()));
    }
  }
  o.timeout_s = parse_duration("timeout", r["timeout"].as<std::string>());
  o.method = r["m"].as<std::string>();
  o.headers = std::move(headers);
  if (r.count("body")) o.body = r["body"].as<std::string>();
  o.threads = num<uint32_t>(r, "threads", 1, 1024);
  o.warmup_s = parse_duration("warmup", r["warmup"].as<std::string>());
  o.ramp_s = parse_duration("ramp", r["ramp"].as<std::string>());
  o.keepalive = r.count("disable-keepalive") == 0;
  o.requests_per_conn = num<uint32_t>(r, "requests-per-conn", 0, UINT32_MAX);
  o.pipeline = num<uint32_t>(r, "pipeline", 1, 1024);
  if (r.count("expect-status")) o.expect_status = num<int>(r, "expect-status", 100, 599);
  if (r.count("expect-body")) o.expect_body = r["expect-body"].as<std::string>();
  if (r.count("max-errors")) o.max_errors = num<uint64_t>(r, "max-errors", 0, UINT64_MAX - 1);
  o.engine = r["engine"].as<std::string>();  // run_load() rejects other values
  o.client_lag = r.count("client-lag") > 0;
  o.progress = ::isatty(STDERR_FILENO) == 1;
  return o;
}

nlohmann::json options_json(const load::LoadOptions& o) {
  return {{"url", o.url},           {"method", o.method},         {"requests", o.requests},
          {"duration_s", o.duration_s}, {"connections", o.connections}, {"rate", o.rate},
          {"timeout_s", o.timeout_s}, {"threads", o.threads},       {"warmup_s", o.warmup_s},
          {"ramp_s", o.ramp_s},      {"keepalive", o.keepalive},   {"requests_per_conn", o.requests_per_conn},
          {"pipeline", o.pipeline},  {"expect_status", o.expect_status}, {"headers", o.headers},
          {"body_bytes", o.body.size()}, {"engine", o.engine}, {"client_lag", o.client_lag}};
}

// Where --json goes: stdout for "-", otherwise a file opened before the run, so an unwritable path is a
// usage error up front instead of a lost run. The file is truncated only when the figures are written.
class JsonSink {
 public:
  JsonSink() = default;
  explicit JsonSink(const std::string& path) : path_(path) {
    if (path == "-") return;
    fd_ = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_) throw std::invalid_argument(fmt::format("--json {}: {}", path, std::strerror(errno)));
  }
  bool active() const { return !path_.empty(); }
  bool to_stdout() const { return path_ == "-"; }

  // Returns false (with errno's reason on stderr) when the figures could not be written.
  bool write(const std::string& text) {
    if (to_stdout()) {
      std::fputs(text.c_str(), stdout);
      return std::fflush(stdout) == 0;
    }
    if (::ftruncate(fd_.get(), 0) != 0) return report_failure();
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::pwrite(fd_.get(), text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return report_failure();
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  bool report_failure() const {
    std::fprintf(stderr, "ringbench load: cannot write %s: %s\n", path_.c_str(), std::strerror(errno));
    return false;
  }

  std::string path_;
  Fd fd_;
};

}  // namespace

int load_main(int argc, char** argv) {
  load::LoadOptions opt;
  JsonSink json;
  try {
    std::vector<std::string> headers = take_headers(argc, argv);
    cxxopts::Options options = make_options();
    const cxxopts::ParseResult r = options.parse(argc, argv);
    if (r.count("help")) {
      std::fputs((options.help() + kExamples).c_str(), stdout);
      return 0;
    }
    refuse_wrk_habits(argc, argv);
    if (!r.unmatched().empty()) throw std::invalid_argument("unexpected argument '" + r.unmatched().front() + "'");
    opt = to_options(r, std::move(headers));
    if (r.count("json")) json = JsonSink(r["json"].as<std::string>());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench load: %s\n", e.what());
    return 2;
  }

  load::LoadResult res;
  try {
    install_stop_handlers();
    raise_nofile_limit();
    res = load::run_load(opt);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "ringbench load: %s\n", e.what());
    return 2;
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "ringbench load: %s\n", e.what());
    return 2;
  }

  // With --json - stdout carries the JSON alone, so the summary moves to stderr.
  std::fputs(load::format_summary(res).c_str(), json.to_stdout() ? stderr : stdout);
  std::fflush(stdout);
  if (json.active()) {
    nlohmann::json j = res.to_json();
    j["schema"] = "ringbench-load/1";
    j["options"] = options_json(opt);
    if (!json.write(j.dump(2) + "\n")) return 1;
  }
  if (res.total_errors() > opt.max_errors) {
    std::fprintf(stderr, "ringbench load: %llu errors exceed --max-errors %llu\n",
                 static_cast<unsigned long long>(res.total_errors()), static_cast<unsigned long long>(opt.max_errors));
    return 1;
  }
  return 0;
}

}  // namespace ringbench
