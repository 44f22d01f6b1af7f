// `ringbench probe [--json]`: what the running kernel's io_uring offers and what each `serve uring`
// option will use or fall back from. Exit 0 when io_uring works, 1 (one line saying why) when it does not.
#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "uring/features.hpp"

namespace ringbench {
namespace {

struct OptionVerdict {
  std::string option;   // the serve option (or default behaviour) it is about
  bool available;       // the kernel supports it
  std::string verdict;  // what `serve uring` does with it
};

std::string memlock_text(uint64_t bytes) {
  return bytes == UINT64_MAX ? "unlimited" : fmt::format("{} KiB", bytes / 1024);
}

std::string yes_no(bool b, const std::string& why_not) { return b ? "yes" : "no (" + why_not + ")"; }

std::vector<OptionVerdict> option_verdicts(const UringProbe& p) {
  const UringConfig defaults;
  const UringPlan plan = plan_uring(defaults, p);
  const UringConfig& u = plan.use;
  auto used = [](bool on, const char* yes, const char* no) { return std::string(on ? yes : no); };
  return {
      {"multishot accept (default; --no-multishot-accept)", p.multishot_accept,
       used(u.multishot_accept, "used", "falls back to one accept per connection")},
      {"multishot recv (default; --no-multishot-recv)", p.multishot_recv,
       used(u.multishot_recv, "used", "falls back to single-shot recv")},
      {"buffer ring (default; --no-buf-ring)", p.buf_ring, used(u.buf_ring, "used", "not used")},
      {"DEFER_TASKRUN (default; --no-defer-taskrun)", p.defer_taskrun,
       used(u.defer_taskrun, "used", "not used")},
      {"--sqpoll", p.sqpoll, used(p.sqpoll, "available when asked", "falls back to no SQPOLL")},
      {"--coop-taskrun", p.coop_taskrun, used(p.coop_taskrun, "available when asked", "falls back to none")},
      {"--fixed-files", p.fixed_files, used(p.fixed_files, "available when asked", "falls back to plain descriptors")},
      {"--send-zc", p.send_zc, used(p.send_zc, "available when asked", "falls back to copying sends")},
      {"--min-wait-us", p.min_timeout, used(p.min_timeout, "available when asked", "falls back to plain waits")},
      {"--recv-bundle", p.recv_bundle, used(p.recv_bundle, "available when asked", "falls back to one buffer per recv")},
      {"--buf-ring-inc", p.buf_ring_inc, used(p.buf_ring_inc, "available when asked", "falls back to whole buffers")},
      {"--no-iowait", p.no_iowait, used(p.no_iowait, "available when asked", "falls back to iowait-accounted waits")},
      {"SEND_ZC usage reports (--send-zc; --no-zc-report-usage)", p.zc_report_usage,
       used(p.zc_report_usage, "used with --send-zc", "copied sends not counted")},
      {"--timer ring|wheel", true, "both available (default wheel)"},
  };
}

void print_text(const UringProbe& p) {
  std::printf("kernel:              %s\n", p.kernel_release.c_str());
  std::printf("liburing (built):    %s\n", p.liburing_version.c_str());
  std::printf("io_uring_disabled:   %s\n",
              p.io_uring_disabled < 0 ? "absent (io_uring allowed)" : std::to_string(p.io_uring_disabled).c_str());
  std::printf("RLIMIT_MEMLOCK:      %s soft, %s hard\n", memlock_text(p.memlock_soft).c_str(),
              memlock_text(p.memlock_hard).c_str());
  std::string feats;
  for (const std::string& f : feature_names(p.ring_features)) feats += " " + f;
  std::printf("ring features:      %s\n", feats.c_str());
  std::printf("setup flags:\n");
  for (const SetupFlagProbe& f : p.setup_flags) {
    std::printf("  %-30s %s\n", f.name.c_str(), yes_no(f.works, f.error).c_str());
  }
  std::printf("capabilities:\n");
  std::printf("  %-30s %s\n", "buffer ring", yes_no(p.buf_ring, p.buf_ring_error).c_str());
  std::printf("  %-30s %s\n", "multishot accept", yes_no(p.multishot_accept, p.multishot_accept_error).c_str());
  std::printf("  %-30s %s\n", "multishot recv", yes_no(p.multishot_recv, p.multishot_recv_error).c_str());
  std::printf("  %-30s %s\n", "registered files", yes_no(p.fixed_files, p.fixed_files_error).c_str());
  std::printf("  %-30s %s\n", "SENDMSG_ZC", yes_no(p.send_zc, "opcode not supported").c_str());
  std::printf("  %-30s %s\n", "minimum wait (MIN_TIMEOUT)", yes_no(p.min_timeout, "needs Linux 6.12").c_str());
  std::printf("  %-30s %s\n", "receive bundles", yes_no(p.recv_bundle, p.recv_bundle_error).c_str());
  std::printf("  %-30s %s\n", "incremental buffer ring", yes_no(p.buf_ring_inc, p.buf_ring_inc_error).c_str());
  std::printf("  %-30s %s\n", "NO_IOWAIT waits", yes_no(p.no_iowait, p.no_iowait_error).c_str());
  std::printf("  %-30s %s\n", "SEND_ZC usage reports", yes_no(p.zc_report_usage, p.zc_report_usage_error).c_str());
  std::printf("opcodes (%zu):", p.opcodes.size());
  for (std::size_t i = 0; i < p.opcodes.size(); ++i) {
    std::printf("%s%s", i % 8 == 0 ? "\n  " : " ", opcode_name(p.opcodes[i]).c_str());
  }
  std::printf("\nserve uring options:\n");
  for (const OptionVerdict& v : option_verdicts(p)) {
    std::printf("  %-50s %s\n", v.option.c_str(), v.verdict.c_str());
  }
  std::printf("default plan: %s\n", plan_uring(UringConfig{}, p).summary().c_str());
}

nlohmann::json to_json(const UringProbe& p) {
  nlohmann::json j;
  j["kernel_release"] = p.kernel_release;
  j["liburing_version"] = p.liburing_version;
  j["available"] = p.available;
  j["io_uring_disabled"] = p.io_uring_disabled;
  j["memlock_soft"] = p.memlock_soft;
  j["memlock_hard"] = p.memlock_hard;
  if (!p.available) {
    j["unavailable_reason"] = p.unavailable_reason;
    return j;
  }
  j["ring_features"] = feature_names(p.ring_features);
  nlohmann::json flags = nlohmann::json::object();
  for (const SetupFlagProbe& f : p.setup_flags) flags[f.name] = {{"works", f.works}, {"error", f.error}};
  j["setup_flags"] = flags;
  std::vector<std::string> ops;
  for (unsigned op : p.opcodes) ops.push_back(opcode_name(op));
  j["opcodes"] = ops;
  j["capabilities"] = {
      {"buf_ring", p.buf_ring},           {"multishot_accept", p.multishot_accept},
      {"multishot_recv", p.multishot_recv}, {"fixed_files", p.fixed_files},
      {"send_zc", p.send_zc},             {"sqpoll", p.sqpoll},
      {"defer_taskrun", p.defer_taskrun}, {"coop_taskrun", p.coop_taskrun},
      {"min_timeout", p.min_timeout},
      {"recv_bundle", p.recv_bundle},     {"buf_ring_inc", p.buf_ring_inc},
      {"no_iowait", p.no_iowait},         {"zc_report_usage", p.zc_report_usage},
  };
  // Why each capability the kernel refused is missing; absent when it works.
  nlohmann::json why = nlohmann::json::object();
  auto flag_error = [&](const char* name) {
    for (const SetupFlagProbe& f : p.setup_flags) {
      if (f.name == name && !f.works) return "io_uring_setup: " + f.error;
    }
    return std::string();
  };
  const std::pair<const char*, std::string> reasons[] = {
      {"buf_ring", p.buf_ring_error},
      {"multishot_accept", p.multishot_accept_error},
      {"multishot_recv", p.multishot_recv_error},
      {"fixed_files", p.fixed_files_error},
      {"send_zc", p.send_zc ? "" : "IORING_OP_SENDMSG_ZC not supported"},
      {"sqpoll", flag_error("SQPOLL")},
      {"defer_taskrun", flag_error("SINGLE_ISSUER|DEFER_TASKRUN")},
      {"coop_taskrun", flag_error("COOP_TASKRUN|TASKRUN_FLAG")},
      {"min_timeout", p.min_timeout ? "" : "IORING_FEAT_MIN_TIMEOUT not reported (Linux 6.12)"},
      {"recv_bundle", p.recv_bundle_error},
      {"buf_ring_inc", p.buf_ring_inc_error},
      {"no_iowait", p.no_iowait_error},
      {"zc_report_usage", p.zc_report_usage_error},
  };
  for (const auto& [name, text] : reasons) {
    if (!text.empty()) why[name] = text;
  }
  j["unavailable_reasons"] = why;
  nlohmann::json opts = nlohmann::json::array();
  for (const OptionVerdict& v : option_verdicts(p)) {
    opts.push_back({{"option", v.option}, {"available", v.available}, {"verdict", v.verdict}});
  }
  j["serve_options"] = opts;
  const UringPlan plan = plan_uring(UringConfig{}, p);
  j["default_plan"] = {{"summary", plan.summary()}, {"fallbacks", plan.fallbacks}};
  return j;
}

}  // namespace

int probe_main(int argc, char** argv) {
  cxxopts::Options o("ringbench probe", "Show the running kernel's io_uring features and what `serve uring` will use.");
  o.add_options()("json", "machine-readable output")("h,help", "show this help");
  bool json = false;
  try {
    const cxxopts::ParseResult r = o.parse(argc, argv);
    if (r.count("help")) {
      std::fputs(o.help().c_str(), stdout);
      return 0;
    }
    if (!r.unmatched().empty()) throw std::invalid_argument("unexpected argument '" + r.unmatched().front() + "'");
    json = r.count("json") > 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringbench probe: %s\n", e.what());
    return 2;
  }
  const UringProbe p = probe_uring();
  if (json) {
    std::printf("%s\n", to_json(p).dump(2).c_str());
  } else if (p.available) {
    print_text(p);
  }
  if (!p.available) {
    std::fprintf(stderr, "ringbench probe: io_uring unavailable: %s\n", p.unavailable_reason.c_str());
    return 1;
  }
  return 0;
}

}  // namespace ringbench
