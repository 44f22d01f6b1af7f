// `ringbench load URL [options]`: hey's interface over the engine in engine.hpp.
//   ringbench load http://127.0.0.1:8000/ -n 10000 -c 100          closed loop, 10 000 requests
//   ringbench load http://127.0.0.1:8000/ -z 10s -c 1000 --rate 3000 --warmup 2s --ramp 1s --json out.json
#include <unistd.h>

#include <cxxopts.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
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

cxxopts::Options make_options() {
  cxxopts::Options o("ringbench load", "HTTP load generator: closed loop (-n/-z) or open loop (--rate).");
  o.custom_help("URL [options]");
  // clang-format off
  o.add_options()
    ("url", "http://HOST[:PORT]/PATH", cxxopts::value<std::string>())
    ("n", "requests in total (closed loop; default 200 without -z)", cxxopts::value<std::string>())
    ("c", "connections", cxxopts::value<std::string>()->default_value("50"))
    ("z", "run for this long (10s, 500ms, 2m) instead of -n", cxxopts::value<std::string>())
    ("rate", "open loop: requests/s in total; latency counts from each request's intended send time", cxxopts::value<std::string>())
    ("t,timeout", "per-request timeout (20s; 0 = none)", cxxopts::value<std::string>()->default_value("20s"))
    ("m", "HTTP method", cxxopts::value<std::string>()->default_value("GET"))
    ("H", "request header 'Name: value' (repeatable)", cxxopts::value<std::string>())
    ("d", "request body", cxxopts::value<std::string>())
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
    ("json", "write all figures and the histogram to FILE", cxxopts::value<std::string>())
    ("h,help", "show this help");
  // clang-format on
  o.parse_positional({"url"});
  o.positional_help("URL");
  return o;
}

// "10s", "500ms", "250us", "2m", "1h" or a bare number of seconds.
double parse_duration(const std::string& option, const std::string& text) {
  struct Unit {
    const char* suffix;
    double seconds;
  };
  static constexpr Unit kUnits[] = {{"ms", 1e-3}, {"us", 1e-6}, {"s", 1}, {"m", 60}, {"h", 3600}};
  for (const Unit& u : kUnits) {
    const std::size_t n = std::strlen(u.suffix);
    if (text.size() > n && text.compare(text.size() - n, n, u.suffix) == 0) {
      const std::string num = text.substr(0, text.size() - n);
      if (num.back() >= '0' && num.back() <= '9') {
        const double v = parse_number<double>(option, num);
        if (!(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("--" + option + " must not be negative");
        return v * u.seconds;
      }
    }
  }
  const double v = parse_number<double>(option, text);
  if (!(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("--" + option + " must not be negative");
  return v;
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
    if (o.duration_s <= 0) throw std::invalid_argument("-z must be longer than 0");
  }
  if (r.count("n")) {
    o.requests = num<uint64_t>(r, "n", 1, UINT64_MAX / 2);
  } else if (o.duration_s == 0) {
    o.requests = kDefaultRequests;
  }
  if (o.requests > 0 && o.duration_s == 0 && o.requests < o.connections) {
    throw std::invalid_argument(fmt::format("-n ({}) must be at least -c ({})", o.requests, o.connections));
  }
  if (r.count("rate")) {
    o.rate = parse_number<double>("rate", r["rate"].as<std::string>());
    if (!(o.rate > 0) || !std::isfinite(o.rate)) throw std::invalid_argument("--rate must be above 0");
  }
  o.timeout_s = parse_duration("timeout", r["timeout"].as<std::string>());
  o.method = r["m"].as<std::string>();
  o.headers = std::move(headers);
  if (r.count("d")) o.body = r["d"].as<std::string>();
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

}  // namespace

int load_main(int argc, char** argv) {
  load::LoadOptions opt;
  std::string json_path;
  try {
    std::vector<std::string> headers = take_headers(argc, argv);
    cxxopts::Options options = make_options();
    const cxxopts::ParseResult r = options.parse(argc, argv);
    if (r.count("help")) {
      std::fputs(options.help().c_str(), stdout);
      return 0;
    }
    if (!r.unmatched().empty()) throw std::invalid_argument("unexpected argument '" + r.unmatched().front() + "'");
    opt = to_options(r, std::move(headers));
    if (r.count("json")) json_path = r["json"].as<std::string>();
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

  std::fputs(load::format_summary(res).c_str(), stdout);
  std::fflush(stdout);
  if (!json_path.empty()) {
    nlohmann::json j = res.to_json();
    j["schema"] = "ringbench-load/1";
    j["options"] = options_json(opt);
    std::ofstream f(json_path);
    f << j.dump(2) << '\n';
    if (!f) {
      std::fprintf(stderr, "ringbench load: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  if (res.total_errors() > opt.max_errors) {
    std::fprintf(stderr, "ringbench load: %llu errors exceed --max-errors %llu\n",
                 static_cast<unsigned long long>(res.total_errors()), static_cast<unsigned long long>(opt.max_errors));
    return 1;
  }
  return 0;
}

}  // namespace ringbench
