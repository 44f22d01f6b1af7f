// Terminal table, CSV and Markdown reports; see report.hpp.
#include "run/report.hpp"

#include "run/noise.hpp"

#include <fmt/format.h>

#include <map>
#include <tuple>

namespace ringbench::run {
namespace {

std::string rate(double v) { return v >= 1000 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v); }

std::string seconds(double s) {
  if (s >= 1) return fmt::format("{:.2f}s", s);
  if (s >= 0.001) return fmt::format("{:.1f}ms", s * 1e3);
  return fmt::format("{:.0f}us", s * 1e6);
}

std::string load_text(const CellSpec& c) {
  // The rate is part of the load: cells that differ only in rate must not read alike.
  std::string t = c.load.requests > 0 ? fmt::format("n={}", c.load.requests) : fmt::format("z={:g}s", c.load.duration_s);
  if (c.load.rate > 0) t += fmt::format(" @{:g}/s", c.load.rate);
  return t;
}

double lat(const Figures& f, const char* k) {
  const auto it = f.latency_s.find(k);
  return it == f.latency_s.end() ? 0.0 : it->second;
}

constexpr const char* kUnknown = "–";
// p50 under this share of the scenario's delay: the server does not wait as asked, so its row measures
// something else than its neighbours'.
constexpr double kDelayHonouredShare = 0.5;

std::string join_notes(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "; " + b;
}

struct Row {
  std::string mark, label, c, load, rps, bound, eff, p50, p99, errors, cpu, rss, ref, note;
};

Row make_row(const CellResult& cell, bool best, uint32_t repeat) {
  const CellSpec& s = cell.spec;
  Row r;
  r.mark = best ? "*" : "";
  r.label = s.label + (s.load.path != "/" ? " " + s.load.path : "");
  r.c = std::to_string(s.load.connections);
  r.load = load_text(s);
  r.bound = s.bound_rps() ? rate(*s.bound_rps()) : kUnknown;
  r.ref = s.reference ? fmt::format("{:g} {}", s.reference->requests_per_s, s.reference->label) : "";
  if (!cell.median) {
    r.note = "FAILED: " + cell.failure();
    return r;
  }
  const Figures& m = *cell.median;
  r.rps = rate(m.requests_per_s);
  if (repeat > 1) r.rps += fmt::format(" ({}-{})", rate(cell.min->requests_per_s), rate(cell.max->requests_per_s));
  r.eff = m.efficiency ? fmt::format("{:.0f}%", *m.efficiency * 100) : kUnknown;
  r.p50 = seconds(lat(m, "p50"));
  r.p99 = seconds(lat(m, "p99"));
  r.errors = fmt::format("{:g}", m.error_total + m.non_2xx);
  r.cpu = m.server.cpu_us_per_req ? fmt::format("{:.1f}", *m.server.cpu_us_per_req) : kUnknown;
  r.rss = fmt::format("{:.1f}", m.server.peak_rss_kb / 1024);
  std::size_t failed = 0;
  for (const auto& run : cell.runs) failed += run.ok ? 0 : 1;
  if (failed) r.note = fmt::format("{} of {} runs failed: {}", failed, cell.runs.size(), cell.runs.front().ok ? "" : cell.runs.front().failure);
  r.note = join_notes(r.note, not_comparable(cell));
  if (m.latency_s.count("arrival_p99")) {
    r.note = join_notes(r.note, fmt::format("p99 at arrival {}, client lag p99 {}", seconds(lat(m, "arrival_p99")),
                                            seconds(lat(m, "client_lag_p99"))));
  }
  r.note = join_notes(r.note, disturbed(cell));
  return r;
}

const Row kHeader = {"", "server", "c", "load", "req/s", "bound", "eff", "p50", "p99", "errors", "CPU-µs/req", "RSS MiB", "reference", ""};

std::vector<Row> rows_of(const ScenarioResult& s) {
  const auto best = best_cells(s);
  std::vector<Row> rows;
  for (std::size_t i = 0; i < s.cells.size(); ++i) rows.push_back(make_row(s.cells[i], best[i], s.repeat));
  return rows;
}

}  // namespace

std::string not_comparable(const CellResult& cell) {
  if (!cell.median) return {};
  const Figures& m = *cell.median;
  std::string why = m.client.client_bound ? "client-bound" : "";
  const double delay_s = cell.spec.delay_ms / 1000.0;
  const auto p50 = m.latency_s.find("p50");
  if (delay_s > 0 && p50 != m.latency_s.end() && p50->second < delay_s * kDelayHonouredShare) {
    why = join_notes(why, fmt::format("does not honour the delay (p50 {} under {} ms)", seconds(p50->second),
                                      cell.spec.delay_ms));
  }
  return why;
}

std::string disturbed(const CellResult& cell) {
  std::size_t n = 0;
  std::string first;
  for (const auto& r : cell.runs) {
    if (!r.noise.disturbed) continue;
    if (n++ == 0) first = r.noise.why;
  }
  if (n == 0) return {};
  return cell.runs.size() == 1 ? "disturbed: " + first
                               : fmt::format("disturbed in {} of {} runs: {}", n, cell.runs.size(), first);
}

std::vector<bool> best_cells(const ScenarioResult& s) {
  using Key = std::tuple<uint32_t, uint32_t, uint64_t, double, double, std::string>;
  std::map<Key, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < s.cells.size(); ++i) {
    const CellSpec& c = s.cells[i].spec;
    if (!s.cells[i].median || !not_comparable(s.cells[i]).empty()) continue;
    groups[{c.delay_ms, c.load.connections, c.load.requests, c.load.duration_s, c.load.rate, c.load.path}].push_back(i);
  }
  std::vector<bool> best(s.cells.size(), false);
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    const bool by_cpu = std::get<0>(key) == 0;
    std::size_t pick = members.front();
    for (std::size_t i : members) {
      const Figures& a = *s.cells[i].median;
      const Figures& b = *s.cells[pick].median;
      const bool better = by_cpu ? a.server.cpu_us_per_req.value_or(1e300) < b.server.cpu_us_per_req.value_or(1e300)
                                 : a.requests_per_s > b.requests_per_s;
      if (better) pick = i;
    }
    best[pick] = true;
  }
  return best;
}

void print_table(std::FILE* out, const ScenarioResult& s) {
  std::vector<Row> rows = rows_of(s);
  rows.insert(rows.begin(), kHeader);
  auto cols = [](const Row& r) {
    return std::vector<const std::string*>{&r.mark, &r.label, &r.c, &r.load, &r.rps, &r.bound, &r.eff,
                                           &r.p50, &r.p99, &r.errors, &r.cpu, &r.rss};
  };
  std::vector<std::size_t> width(cols(kHeader).size(), 0);
  for (const Row& r : rows) {
    const auto c = cols(r);
    if (!r.note.empty() && r.rps.empty()) continue;  // a failed row's columns are blank
    for (std::size_t i = 0; i < c.size(); ++i) width[i] = std::max(width[i], c[i]->size());
  }
  for (const Row& r : rows) width[1] = std::max(width[1], r.label.size());
  fmt::print(out, "\n{} — {}{}{}\n", s.scenario.name, s.scenario.description,
             s.repeat > 1 ? fmt::format(" (median of {}, min-max)", s.repeat) : "",
             s.interrupted ? " — interrupted: only the finished runs below" : "");
  bool any_ref = false;
  for (const auto& c : s.cells) any_ref |= c.spec.reference.has_value();
  for (const Row& r : rows) {
    const auto c = cols(r);
    std::string line;
    for (std::size_t i = 0; i < c.size(); ++i) {
      // Text columns left-aligned, figures right-aligned.
      line += i < 2 ? fmt::format("{:<{}} ", *c[i], width[i]) : fmt::format("{:>{}}  ", *c[i], width[i]);
      if (!r.note.empty() && r.rps.empty() && i == 3) break;
    }
    if (!r.note.empty() && r.rps.empty()) {
      line += r.note;
    } else {
      if (any_ref) line += r.ref;
      if (!r.note.empty()) line += "  [" + r.note + "]";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out, "{}\n", line);
  }
  std::fflush(out);
}

std::string markdown_table(const ScenarioResult& s) {
  std::string md = "| | server | c | load | req/s | bound | efficiency | p50 | p99 | errors | CPU-µs/req | RSS MiB | reference | note |\n";
  md += "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n";
  for (const Row& r : rows_of(s)) {
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", r.mark.empty() ? "" : "**best**",
                      r.label, r.c, r.load, r.rps, r.bound, r.eff, r.p50, r.p99, r.errors, r.cpu, r.rss, r.ref, r.note);
  }
  return md;
}

std::string results_csv(const std::vector<ScenarioResult>& scenarios) {
  auto q = [](const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char ch : v) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
  };
  auto o = [](const std::optional<double>& v) { return v ? fmt::format("{:g}", *v) : std::string(); };
  std::string csv =
      "scenario,cell_id,variant,label,backend,delay_ms,concurrency,requests,duration_s,path,run,status,failure,"
      "requests_per_s,efficiency,p50_s,p90_s,p99_s,p99_9_s,max_s,completed,error_total,non_2xx,cpu_s,"
      "cpu_us_per_req,peak_rss_kb,rss_per_conn_kb,threads,processes,ctx_voluntary,ctx_involuntary,ctx_per_req,"
      "client_cpu_util_max,client_bound,bound_rps,reference_rps,disturbed,other_cores\n";
  for (const auto& s : scenarios) {
    for (const auto& cell : s.cells) {
      const CellSpec& c = cell.spec;
      auto row = [&](const std::string& run, const std::string& status, const std::string& failure, const Figures& f,
                     const NoiseRecord* noise) {
        const ServerFigures& sv = f.server;
        csv += fmt::format(
            "{},{},{},{},{},{},{},{},{:g},{},{},{},{},{:g},{},{:g},{:g},{:g},{:g},{:g},{:g},{:g},{:g},{:g},{},{:g},{:g},"
            "{:g},{:g},{},{},{},{},{},{},{},{},{}\n",
            q(c.scenario), q(c.id()), q(c.variant), q(c.label), c.backend(), c.delay_ms, c.load.connections, c.load.requests,
            c.load.duration_s, q(c.load.path), run, status, q(failure), f.requests_per_s, o(f.efficiency), lat(f, "p50"),
            lat(f, "p90"), lat(f, "p99"), lat(f, "p99.9"), lat(f, "max"), f.completed, f.error_total, f.non_2xx,
            sv.cpu_s, o(sv.cpu_us_per_req), sv.peak_rss_kb, sv.rss_per_conn_kb, sv.threads, sv.processes,
            o(sv.ctx_voluntary), o(sv.ctx_involuntary), o(sv.ctx_per_req), o(f.client.cpu_util_max),
            f.client.client_bound ? 1 : 0, o(c.bound_rps()),
            c.reference ? fmt::format("{:g}", c.reference->requests_per_s) : "", noise ? (noise->disturbed ? 1 : 0) : 0,
            noise ? o(noise->other_cores) : "");
      };
      for (std::size_t i = 0; i < cell.runs.size(); ++i) {
        const RunResult& r = cell.runs[i];
        row(std::to_string(i + 1), r.ok ? "ok" : "failed", r.failure, r.figures, &r.noise);
      }
      if (cell.median) row("median", "ok", "", *cell.median, nullptr);
    }
  }
  return csv;
}

std::string report_markdown(const nlohmann::json& env, const std::vector<ScenarioResult>& scenarios,
                            const std::vector<std::string>& charts, const std::string& charts_note) {
  std::string md = "# ringbench run\n\n";
  md += fmt::format("`{}`\n\n", env.value("command_line", ""));
  md += "| environment | |\n|---|---|\n";
  for (const char* k : {"date", "kernel", "cpu_model", "cores", "liburing_version", "compiler", "build_type",
                        "sanitizers", "mimalloc", "git_revision", "git_dirty", "hostname"}) {
    if (!env.contains(k)) continue;
    const auto& v = env.at(k);
    md += fmt::format("| {} | {} |\n", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  md += fmt::format("\nEfficiency is req/s ÷ the Little's-law bound (concurrency ÷ delay); CPU-µs/req is the server's whole "
        "process tree (utime+stime) over the measured window ÷ completed requests; RSS is its peak. "
        "`*`/**best**: the best cell among those under the same load (highest req/s; lowest CPU-µs/req at 0 ms); "
        "client-bound cells and cells whose p50 is under half the delay (the server does not honour it) are never "
        "ranked. \"disturbed\": other processes used more than {:g} cores, or steal exceeded {:g} %, while the cell "
        "ran. – marks a figure that was not measured.\n", kOtherCoresLimit, kStealLimit * 100);
  for (const auto& s : scenarios) {
    md += fmt::format("\n## {}\n\n{}{}{}\n\n", s.scenario.name, s.scenario.description,
                      s.repeat > 1 ? fmt::format(" Median of {} runs, req/s min–max in brackets.", s.repeat) : "",
                      s.interrupted ? " **Interrupted**: only the finished runs are shown." : "");
    md += markdown_table(s);
    for (const auto& c : charts) {
      if (c.rfind(s.scenario.name + "-", 0) == 0 && c.ends_with(".png")) md += fmt::format("\n![{}]({})\n", c, c);
    }
  }
  if (!charts_note.empty()) md += "\nCharts: " + charts_note + "\n";
  return md;
}

}  // namespace ringbench::run
