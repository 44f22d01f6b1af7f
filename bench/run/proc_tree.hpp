// Figures of a server's whole process tree (prefork children included) read from /proc.
// CPU time comes from each task's schedstat (nanoseconds) and, as a floor that also covers threads that
// have already exited, from the thread group's utime+stime in /proc/PID/stat (clock ticks).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

namespace ringbench::run {

struct TaskCounters {
  double cpu_s = 0;  // schedstat run time
  uint64_t ctx_voluntary = 0;
  uint64_t ctx_involuntary = 0;
  uint64_t lost = 0;  // tasks_between(): tasks of `before` gone by `after` (their counts are missing)
};

struct TreeSample {
  std::map<pid_t, TaskCounters> tasks;  // per thread id, when sampled per task
  double cpu_s_tasks = 0;  // sum of live tasks' schedstat run time
  double cpu_s_ticks = 0;  // sum of processes' utime+stime (includes exited threads, 10 ms resolution)
  double rss_kb = 0;       // sum of VmRSS
  double hwm_kb = 0;       // sum of VmHWM
  uint64_t threads = 0;
  uint64_t processes = 0;
  uint64_t ctx_voluntary = 0;    // summed over live tasks
  uint64_t ctx_involuntary = 0;
};

// `root` and every descendant (found by scanning /proc/*/stat for parent ids).
std::vector<pid_t> process_tree(pid_t root);

// With `per_task` the CPU and context-switch figures are read per thread (costly with thousands of
// threads: take it at the window's edges only); without it only RSS/HWM/threads/processes and ticks.
TreeSample sample_tree(pid_t root, bool per_task);

// What the tasks alive at `after` did since `before`, task by task (a task born in between counts from
// zero), so threads that exit in between do not turn the difference negative.
TaskCounters tasks_between(const TreeSample& before, const TreeSample& after);

// CPU seconds spent between two full samples: the precise per-task figure, unless the tick figure shows
// more (threads that exited in between took their schedstat with them).
double cpu_between(const TreeSample& before, const TreeSample& after);

}  // namespace ringbench::run
