// A noise record per run: what else the machine did while a cell was measured, so that a disturbed cell
// can be told from a real change. Read from /proc/loadavg, /proc/stat and cpufreq in /sys; what a
// kernel or container does not expose stays unknown (nullopt → null in JSON, "–" in tables).
#pragma once
#include <optional>
#include <string>

namespace ringbench::run {

// A cell is flagged "disturbed" when other processes used more than this many cores on average during
// its window, or the hypervisor stole more than kStealLimit of the CPU time.
inline constexpr double kOtherCoresLimit = 0.25;
inline constexpr double kStealLimit = 0.05;

struct NoiseRecord {
  std::optional<double> loadavg_before, loadavg_after;  // 1-minute load average
  std::optional<double> steal;                          // stolen share of all CPU time in the window, 0..1
  std::optional<double> other_cpu_s;  // CPU seconds of every other process in the window (all CPUs)
  std::optional<double> other_cores;  // other_cpu_s ÷ window: cores busy with something else
  std::string governor;               // cpufreq scaling governor of CPU 0; empty when unreadable
  std::optional<double> freq_mhz;     // current frequency of CPU 0 at the window's end
  bool disturbed = false;
  std::string why;                    // what exceeded its limit, for the table and the JSON
};

// Counters at one edge of a window.
struct NoiseMark {
  std::optional<double> loadavg;
  std::optional<double> busy_s, steal_s, total_s;  // summed over CPUs, from /proc/stat
  double self_cpu_s = 0;                           // this process and its waited-for children
};

NoiseMark noise_mark();

// The record between two marks; `own_cpu_s` is what the measurement itself used beyond this process (the
// server tree's CPU seconds), `window_s` the window's length.
NoiseRecord noise_between(const NoiseMark& before, const NoiseMark& after, double own_cpu_s, double window_s);

}  // namespace ringbench::run
