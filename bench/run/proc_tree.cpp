// /proc readers for the server's process tree; see proc_tree.hpp.
#include "run/proc_tree.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace ringbench::run {
namespace {

// The tick-based figure is only trusted over the per-task one by more than its own resolution.
constexpr double kTickSlackS = 0.03;

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> numeric_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

// Fields of /proc/PID/stat after the ")" that closes the command name (which may contain spaces).
std::vector<std::string> stat_fields(const std::string& text) {
  std::vector<std::string> out;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream in(text.substr(close + 1));
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Field numbers from proc(5), counted from 1 at the pid; stat_fields() starts at field 3 (state).
constexpr std::size_t kPpid = 4 - 3, kUtime = 14 - 3, kStime = 15 - 3, kThreads = 20 - 3;

double status_kb(const std::string& status, const char* key) {
  const auto at = status.find(key);
  if (at == std::string::npos) return 0;
  return std::strtod(status.c_str() + at + std::char_traits<char>::length(key), nullptr);
}

uint64_t status_count(const std::string& status, const char* key) {
  const auto at = status.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + std::char_traits<char>::length(key), nullptr, 10);
}

}  // namespace

std::vector<pid_t> process_tree(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& name : numeric_entries("/proc")) {
    const auto f = stat_fields(read_all("/proc/" + name + "/stat"));
    if (f.size() <= kPpid) continue;
    children.emplace(static_cast<pid_t>(std::atoi(f[kPpid].c_str())), static_cast<pid_t>(std::atoi(name.c_str())));
  }
  std::vector<pid_t> tree = {root};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    auto [lo, hi] = children.equal_range(tree[i]);
    for (auto it = lo; it != hi; ++it) tree.push_back(it->second);
  }
  return tree;
}

TreeSample sample_tree(pid_t root, bool per_task) {
  static const double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
  TreeSample s;
  for (pid_t pid : process_tree(root)) {
    const std::string dir = "/proc/" + std::to_string(pid);
    const auto f = stat_fields(read_all(dir + "/stat"));
    if (f.size() <= kThreads) continue;  // exited meanwhile
    ++s.processes;
    s.cpu_s_ticks += (std::strtod(f[kUtime].c_str(), nullptr) + std::strtod(f[kStime].c_str(), nullptr)) / ticks_per_s;
    s.threads += std::strtoull(f[kThreads].c_str(), nullptr, 10);
    const std::string status = read_all(dir + "/status");
    s.rss_kb += status_kb(status, "VmRSS:");
    s.hwm_kb += status_kb(status, "VmHWM:");
    if (!per_task) continue;
    for (const auto& tid : numeric_entries(dir + "/task")) {
      const std::string tdir = dir + "/task/" + tid;
      TaskCounters t;
      // schedstat: time on CPU (ns), time waiting to run (ns), timeslices.
      t.cpu_s = std::strtod(read_all(tdir + "/schedstat").c_str(), nullptr) / 1e9;
      const std::string tstatus = read_all(tdir + "/status");
      t.ctx_voluntary = status_count(tstatus, "\nvoluntary_ctxt_switches:");
      t.ctx_involuntary = status_count(tstatus, "\nnonvoluntary_ctxt_switches:");
      s.cpu_s_tasks += t.cpu_s;
      s.ctx_voluntary += t.ctx_voluntary;
      s.ctx_involuntary += t.ctx_involuntary;
      s.tasks[static_cast<pid_t>(std::atoi(tid.c_str()))] = t;
    }
  }
  return s;
}

TaskCounters tasks_between(const TreeSample& before, const TreeSample& after) {
  TaskCounters d;
  for (const auto& [tid, _] : before.tasks) d.lost += after.tasks.count(tid) ? 0 : 1;
  for (const auto& [tid, now] : after.tasks) {
    const auto it = before.tasks.find(tid);
    const TaskCounters then = it == before.tasks.end() ? TaskCounters{} : it->second;
    d.cpu_s += std::max(0.0, now.cpu_s - then.cpu_s);
    d.ctx_voluntary += now.ctx_voluntary > then.ctx_voluntary ? now.ctx_voluntary - then.ctx_voluntary : 0;
    d.ctx_involuntary += now.ctx_involuntary > then.ctx_involuntary ? now.ctx_involuntary - then.ctx_involuntary : 0;
  }
  return d;
}

double cpu_between(const TreeSample& before, const TreeSample& after) {
  const double precise = tasks_between(before, after).cpu_s;
  const double ticks = std::max(0.0, after.cpu_s_ticks - before.cpu_s_ticks);
  return ticks > precise + kTickSlackS ? ticks : precise;
}

}  // namespace ringbench::run
