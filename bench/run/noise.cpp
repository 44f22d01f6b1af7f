// The noise record; see noise.hpp.
#include "run/noise.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace ringbench::run {
namespace {

std::optional<double> first_number(const std::string& path) {
  std::ifstream f(path);
  double v = 0;
  if (!(f >> v)) return std::nullopt;
  return v;
}

double seconds_of(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

double rusage_cpu_s(int who) {
  rusage ru{};
  if (::getrusage(who, &ru) != 0) return 0;
  return seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime);
}

// The aggregate "cpu" line: user nice system idle iowait irq softirq steal (guest time is inside user).
void read_stat(NoiseMark& m) {
  std::ifstream f("/proc/stat");
  std::string label;
  double v[8] = {};
  if (!(f >> label) || label != "cpu") return;
  for (double& x : v) {
    if (!(f >> x)) return;
  }
  static const double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for (double x : v) total += x;
  m.total_s = total / ticks_per_s;
  m.steal_s = v[7] / ticks_per_s;
  m.busy_s = (total - v[3] - v[4] - v[7]) / ticks_per_s;
}

std::optional<double> diff(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return std::nullopt;
  return *b - *a;
}

}  // namespace

NoiseMark noise_mark() {
  NoiseMark m;
  m.loadavg = first_number("/proc/loadavg");
  read_stat(m);
  m.self_cpu_s = rusage_cpu_s(RUSAGE_SELF) + rusage_cpu_s(RUSAGE_CHILDREN);
  return m;
}

NoiseRecord noise_between(const NoiseMark& before, const NoiseMark& after, double own_cpu_s, double window_s) {
  NoiseRecord r;
  r.loadavg_before = before.loadavg;
  r.loadavg_after = after.loadavg;
  const auto total = diff(before.total_s, after.total_s);
  const auto steal = diff(before.steal_s, after.steal_s);
  if (total && steal && *total > 0) r.steal = *steal / *total;
  if (const auto busy = diff(before.busy_s, after.busy_s)) {
    const double self = after.self_cpu_s - before.self_cpu_s;
    r.other_cpu_s = std::max(0.0, *busy - self - own_cpu_s);
    if (window_s > 0) r.other_cores = *r.other_cpu_s / window_s;
  }
  std::ifstream gov("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  std::getline(gov, r.governor);
  if (auto khz = first_number("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) r.freq_mhz = *khz / 1000;
  if (r.other_cores && *r.other_cores > kOtherCoresLimit) {
    r.why = fmt::format("other processes used {:.2f} cores", *r.other_cores);
  }
  if (r.steal && *r.steal > kStealLimit) {
    r.why += fmt::format("{}steal {:.0f}%", r.why.empty() ? "" : ", ", *r.steal * 100);
  }
  r.disturbed = !r.why.empty();
  return r;
}

}  // namespace ringbench::run
