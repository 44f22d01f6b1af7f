// Charts with gnuplot: for each scenario a throughput chart (req/s against concurrency on a log axis, one
// line per server, when the scenario sweeps concurrency; otherwise bars beside the reference and the
// bound), latency percentiles per server, and server CPU-µs per request. PNG and SVG of each.
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>

#include "run/external_client.hpp"
#include "run/report.hpp"

namespace ringbench::run {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string cell_name(const CellSpec& c, bool with_load) {
  std::string n = c.label;
  if (c.load.path != "/") n += " " + c.load.path;
  if (with_load) n += fmt::format(" c={} {}", c.load.connections, c.load.requests ? fmt::format("n={}", c.load.requests) : fmt::format("z={:g}s", c.load.duration_s));
  return n;
}

double lat(const Figures& f, const char* k) {
  const auto it = f.latency_s.find(k);
  return it == f.latency_s.end() ? 0.0 : it->second;
}

// gnuplot's output lines for both formats around the same plot commands.
std::string both_formats(const std::string& base, const std::string& width_height, const std::string& plot) {
  return fmt::format(
      "set terminal pngcairo size {wh} noenhanced font 'sans,10'\nset output '{b}.png'\n{p}\n"
      "set terminal svg size {wh} noenhanced font 'sans,10' background rgb 'white'\nset output '{b}.svg'\n{p}\n"
      "unset output\n",
      fmt::arg("wh", width_height), fmt::arg("b", base), fmt::arg("p", plot));
}

// The cells of one scenario that have figures, and how to draw them.
struct ChartSet {
  std::string name;
  std::vector<const CellResult*> ok;
  std::set<uint32_t> concurrencies;
  bool sweep = false;      // lines against concurrency instead of bars
  bool with_load = false;  // bar labels need the load: a server appears under several loads
};

ChartSet chart_set(const ScenarioResult& s) {
  ChartSet set;
  set.name = s.scenario.name;
  std::set<std::string> variants;
  for (const auto& c : s.cells) {
    if (!c.median) continue;
    set.ok.push_back(&c);
    variants.insert(c.spec.variant);
    set.concurrencies.insert(c.spec.load.connections);
  }
  // A sweep: some server runs the same load at several concurrencies, and never one concurrency twice
  // (the seed runs one server at -n 20 and -n 50 with c = 10: bars suit it better than lines).
  std::map<std::string, std::vector<uint32_t>> series;
  for (const CellResult* c : set.ok) {
    series[fmt::format("{}|{}|{}", c->spec.variant, c->spec.load.path, c->spec.delay_ms)].push_back(c->spec.load.connections);
  }
  bool several = false, repeated = false;
  for (auto& [key, cs] : series) {
    several |= cs.size() >= 2;
    std::sort(cs.begin(), cs.end());
    repeated |= std::adjacent_find(cs.begin(), cs.end()) != cs.end();
  }
  set.sweep = several && !repeated;
  set.with_load = !set.sweep && set.ok.size() > variants.size();
  return set;
}

// Throughput against concurrency on log axes: one data block and one line per server (and per path).
std::string sweep_plot(const std::string& dir, const ChartSet& set) {
  std::map<std::string, std::vector<const CellResult*>> lines;
  for (const CellResult* c : set.ok) lines[cell_name(c->spec, false)].push_back(c);
  std::ofstream data(dir + "/" + set.name + "-throughput.dat");
  std::string parts;
  int index = 0;
  for (const auto& [label, cells] : lines) {
    data << "# " << label << "\n";
    for (const CellResult* c : cells) data << c->spec.load.connections << "\t" << c->median->requests_per_s << "\n";
    data << "\n\n";
    parts += fmt::format("{}'{}-throughput.dat' index {} using 1:2 with linespoints lw 2 title {}",
                         parts.empty() ? "" : ", ", set.name, index++, quoted(label));
  }
  const uint32_t delay = set.ok.front()->spec.delay_ms;
  const bool same_delay = std::all_of(set.ok.begin(), set.ok.end(), [&](const CellResult* c) { return c->spec.delay_ms == delay; });
  if (delay > 0 && same_delay) {
    parts += fmt::format(", x/{:g} with lines dt 2 lc rgb 'gray40' title 'Little bound (c / {} ms)'", delay / 1000.0, delay);
  }
  return fmt::format(
      "set title {}\nset logscale x 10\nset logscale y 10\nset xlabel 'concurrency (connections)'\n"
      "set ylabel 'requests/s (median)'\nset xrange [{}:{}]\nplot {}\nunset logscale\nset autoscale\n",
      quoted(set.name + ": throughput against concurrency"), *set.concurrencies.begin() / 1.5,
      *set.concurrencies.rbegin() * 1.5, parts);
}

// Throughput bars per cell beside the reference and the bound.
std::string bars_plot(const std::string& dir, const ChartSet& set) {
  double lo = 1e300, hi = 0;
  bool any_ref = false, any_bound = false;
  std::ofstream data(dir + "/" + set.name + "-throughput.dat");
  for (const CellResult* c : set.ok) {
    lo = std::min(lo, c->median->requests_per_s);
    hi = std::max(hi, c->median->requests_per_s);
    any_ref |= c->spec.reference.has_value();
    any_bound |= c->spec.bound_rps().has_value();
    data << quoted(cell_name(c->spec, set.with_load)) << "\t" << c->median->requests_per_s << "\t"
         << (c->spec.reference ? fmt::format("{:g}", c->spec.reference->requests_per_s) : "NaN") << "\t"
         << (c->spec.bound_rps() ? fmt::format("{:g}", *c->spec.bound_rps()) : "NaN") << "\n";
  }
  const bool log_bars = lo > 0 && hi / lo > 100;
  return fmt::format(
      "set title {}\nset style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
      "set boxwidth 0.9\nset xtics rotate by -30 left\nset ylabel 'requests/s (median{log})'\n{scale}\n"
      "plot '{n}-throughput.dat' using 2:xtic(1) title 'ringbench'{ref}{bound}\n"
      "set style data points\nset xtics norotate\nunset logscale\nset autoscale\n",
      quoted(set.name + ": throughput"), fmt::arg("n", set.name), fmt::arg("log", log_bars ? ", log" : ""),
      fmt::arg("scale", log_bars ? "set logscale y 10\nset yrange [*:*]" : "set yrange [0:*]"),
      fmt::arg("ref", any_ref ? ", '' using 3 title 'seed (Python) reference'" : ""),
      fmt::arg("bound", any_bound ? ", '' using 4 title 'Little bound'" : ""));
}

// One bar chart over <name>-cells.dat: `settings` (axis lines) and the `using` clauses of its plot.
std::string cell_bars(const ChartSet& set, const std::string& title, const std::string& settings, const std::string& series) {
  return fmt::format(
      "set title {}\nset style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
      "set boxwidth 0.9\nset xtics rotate by -30 left\n{}\nplot '{}-cells.dat' {}\n"
      "unset logscale\nset xtics norotate\nset style data points\nset autoscale\n",
      quoted(set.name + ": " + title), settings, set.name, series);
}

// Latency percentiles and CPU per request: one bar group per cell.
std::string cell_plots(const std::string& dir, const ChartSet& set, std::vector<std::string>& files) {
  std::ofstream data(dir + "/" + set.name + "-cells.dat");
  for (const CellResult* c : set.ok) {
    const Figures& m = *c->median;
    data << quoted(cell_name(c->spec, !set.sweep ? set.with_load : true)) << "\t" << lat(m, "p50") * 1e3 << "\t"
         << lat(m, "p90") * 1e3 << "\t" << lat(m, "p99") * 1e3 << "\t" << lat(m, "p99.9") * 1e3 << "\t"
         << m.server.cpu_us_per_req.value_or(0) << "\n";
  }
  std::string script = both_formats(
      set.name + "-latency", "1100,600",
      cell_bars(set, "latency percentiles per server (median run)",
                "set logscale y 10\nset ylabel 'latency (ms, log)'\nset yrange [*:*]",
                "using 2:xtic(1) title 'p50', '' using 3 title 'p90', '' using 4 title 'p99', '' using 5 title 'p99.9'"));
  script += both_formats(set.name + "-cpu", "1100,600",
                         cell_bars(set, "server CPU per request", "set ylabel 'server CPU-us per request'\nset yrange [0:*]",
                                   "using 6:xtic(1) title 'server CPU-us/request (utime+stime of the tree)'"));
  for (const char* kind : {"-latency", "-cpu"}) {
    files.push_back(set.name + kind + ".png");
    files.push_back(set.name + kind + ".svg");
  }
  return script;
}

}  // namespace

ChartsOutcome write_charts(const std::string& dir, const std::vector<ScenarioResult>& scenarios) {
  ChartsOutcome out;
  if (!tool_installed("gnuplot")) {
    out.note = "gnuplot is not installed (apt-get install gnuplot-nox): charts skipped";
    return out;
  }
  std::string script = "set datafile separator '\\t'\nset grid ytics\nset key above\n";
  for (const auto& s : scenarios) {
    const ChartSet set = chart_set(s);
    if (set.ok.empty()) continue;
    script += both_formats(set.name + "-throughput", "1100,600", set.sweep ? sweep_plot(dir, set) : bars_plot(dir, set));
    out.files.push_back(set.name + "-throughput.png");
    out.files.push_back(set.name + "-throughput.svg");
    script += cell_plots(dir, set, out.files);
  }
  std::ofstream(dir + "/charts.gp") << script;
  const std::string cmd = fmt::format("cd '{}' && gnuplot charts.gp > charts.log 2>&1", dir);
  if (std::system(cmd.c_str()) != 0) {
    out.note = fmt::format("gnuplot failed (see {}/charts.log)", dir);
    out.files.clear();
  }
  return out;
}

}  // namespace ringbench::run
