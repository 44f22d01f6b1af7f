// Charts with gnuplot, PNG and SVG of each. A scenario that sweeps concurrency or rate gets lines of
// req/s, latency and server CPU-µs per request against that load, one line per server (external servers
// under their own names), min–max bars when repeated, the Little bound dashed, client-bound and
// not-comparable points circled. Any other scenario gets bars per cell beside the reference and bound.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "run/external_client.hpp"
#include "run/report.hpp"

namespace ringbench::run {
namespace {

constexpr const char* kSize = "1100,600";
constexpr const char* kFlag = " †";  // after a bar label: client-bound or not comparable

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string load_text(const CellSpec& c) {
  std::string t = fmt::format("c={} ", c.load.connections);
  t += c.load.requests ? fmt::format("n={}", c.load.requests) : fmt::format("z={:g}s", c.load.duration_s);
  if (c.load.rate > 0) t += fmt::format(" rate={:g}/s", c.load.rate);
  return t;
}

std::string cell_name(const CellSpec& c, bool with_load) {
  std::string n = c.label;
  if (c.load.path != "/") n += " " + c.load.path;
  if (with_load) n += " " + load_text(c);
  return n;
}

double lat(const Figures& f, const char* k) {
  const auto it = f.latency_s.find(k);
  return it == f.latency_s.end() ? NAN : it->second;
}

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:g}", v) : "NaN"; }
std::string num(const std::optional<double>& v) { return v ? num(*v) : "NaN"; }

// gnuplot's output lines for both formats around the same plot commands.
std::string both_formats(const std::string& base, const std::string& plot) {
  return fmt::format(
      "set terminal pngcairo size {wh} noenhanced font 'sans,10'\nset output '{b}.png'\n{p}\n"
      "set terminal svg size {wh} noenhanced font 'sans,10' background rgb 'white'\nset output '{b}.svg'\n{p}\n"
      "unset output\nreset\nset datafile separator '\\t'\nset grid ytics\nset key above\n",
      fmt::arg("wh", kSize), fmt::arg("b", base), fmt::arg("p", plot));
}

enum class Axis { none, concurrency, rate };

// The cells of one scenario that have figures, and how to draw them.
struct ChartSet {
  std::string name;
  std::string shared;  // what every cell has in common: delay and the load apart from the swept figure
  std::vector<const CellResult*> ok;
  Axis axis = Axis::none;
  bool repeated = false;   // min–max bars
  bool with_load = false;  // bar labels need the load: a server appears under several loads
};

bool any_flagged(const ChartSet& set) {
  return std::any_of(set.ok.begin(), set.ok.end(), [](const CellResult* c) { return !not_comparable(*c).empty(); });
}

double x_of(const CellSpec& c, Axis a) { return a == Axis::rate ? c.load.rate : c.load.connections; }
std::string series_of(const CellSpec& c) { return cell_name(c, false) + (c.delay_ms ? fmt::format(" {}ms", c.delay_ms) : ""); }

// A sweep: some server runs at several values of one figure (concurrency or rate), never at one value
// twice (the seed runs one server at -n 20 and -n 50 with c = 10: bars suit it better than lines).
Axis sweep_axis(const std::vector<const CellResult*>& ok) {
  for (Axis a : {Axis::concurrency, Axis::rate}) {
    std::map<std::string, std::vector<double>> series;
    for (const CellResult* c : ok) series[series_of(c->spec)].push_back(x_of(c->spec, a));
    bool several = false, repeated = false, positive = true;
    for (auto& [key, xs] : series) {
      several |= xs.size() >= 2;
      std::sort(xs.begin(), xs.end());
      repeated |= std::adjacent_find(xs.begin(), xs.end()) != xs.end();
      positive &= xs.front() > 0;
    }
    if (several && !repeated && positive) return a;
  }
  return Axis::none;
}

// "delay 250 ms, z=10s, closed loop": the load every cell shares, for the titles.
std::string shared_load(const std::vector<const CellResult*>& ok, Axis axis) {
  auto same = [&](auto get) {
    return std::all_of(ok.begin(), ok.end(), [&](const CellResult* c) { return get(c->spec) == get(ok.front()->spec); });
  };
  const CellSpec& f = ok.front()->spec;
  std::vector<std::string> parts;
  if (same([](const CellSpec& c) { return c.delay_ms; })) parts.push_back(fmt::format("delay {} ms", f.delay_ms));
  if (axis != Axis::concurrency && same([](const CellSpec& c) { return c.load.connections; })) {
    parts.push_back(fmt::format("c={}", f.load.connections));
  }
  if (same([](const CellSpec& c) { return std::pair(c.load.requests, c.load.duration_s); })) {
    parts.push_back(f.load.requests ? fmt::format("n={}", f.load.requests) : fmt::format("z={:g}s", f.load.duration_s));
  }
  if (axis != Axis::rate && same([](const CellSpec& c) { return c.load.rate; })) {
    parts.push_back(f.load.rate > 0 ? fmt::format("open loop {:g}/s", f.load.rate) : "closed loop");
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

ChartSet chart_set(const ScenarioResult& s) {
  ChartSet set;
  set.name = s.scenario.name;
  set.repeated = s.repeat > 1;
  std::set<std::string> variants;
  for (const auto& c : s.cells) {
    if (!c.median) continue;
    set.ok.push_back(&c);
    variants.insert(c.spec.variant);
  }
  if (set.ok.empty()) return set;
  set.axis = sweep_axis(set.ok);
  set.shared = shared_load(set.ok, set.axis);
  set.with_load = set.axis == Axis::none && set.ok.size() > variants.size();
  return set;
}

// <name>-sweep.dat: one block per server, rows sorted by the swept figure. Columns: x, req/s median min
// max, p50 ms, p99 ms median min max, CPU-µs/req median min max, flagged (client-bound/not comparable).
std::vector<std::string> write_sweep_data(const std::string& dir, const ChartSet& set) {
  std::map<std::string, std::vector<const CellResult*>> lines;
  for (const CellResult* c : set.ok) lines[series_of(c->spec)].push_back(c);
  std::ofstream data(dir + "/" + set.name + "-sweep.dat");
  std::vector<std::string> labels;
  for (auto& [key, cells] : lines) {
    std::sort(cells.begin(), cells.end(), [&](const CellResult* a, const CellResult* b) {
      return x_of(a->spec, set.axis) < x_of(b->spec, set.axis);
    });
    labels.push_back(cell_name(cells.front()->spec, false));
    data << "# " << labels.back() << "\n";
    for (const CellResult* c : cells) {
      const Figures &m = *c->median, &lo = *c->min, &hi = *c->max;
      data << x_of(c->spec, set.axis) << "\t" << m.requests_per_s << "\t" << lo.requests_per_s << "\t"
           << hi.requests_per_s << "\t" << num(lat(m, "p50") * 1e3) << "\t" << num(lat(m, "p99") * 1e3) << "\t"
           << num(lat(lo, "p99") * 1e3) << "\t" << num(lat(hi, "p99") * 1e3) << "\t" << num(m.server.cpu_us_per_req)
           << "\t" << num(lo.server.cpu_us_per_req) << "\t" << num(hi.server.cpu_us_per_req) << "\t"
           << (not_comparable(*c).empty() ? 0 : 1) << "\n";
    }
    data << "\n\n";
  }
  return labels;
}

// One line chart over the sweep data: column `col` (min/max in the next two when `ranged`) per server.
std::string sweep_chart(const ChartSet& set, const std::vector<std::string>& labels, const std::string& what,
                        const std::string& ylabel, int col, bool ranged, const std::string& extra) {
  const std::string file = quoted(set.name + "-sweep.dat");
  std::string parts;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const bool bars = ranged && set.repeated;
    parts += fmt::format("{}{} index {} using 1:{}{} with {} lw 2 lc {} title {}", parts.empty() ? "" : ", ", file, i, col,
                         bars ? fmt::format(":{}:{}", col + 1, col + 2) : "", bars ? "yerrorlines" : "linespoints",
                         i + 1, quoted(labels[i]));
  }
  for (std::size_t i = 0; any_flagged(set) && i < labels.size(); ++i) {
    parts += fmt::format(", {} index {} using 1:($12 > 0 ? ${} : NaN) with points pt 6 ps 2.5 lc rgb 'black' {}", file,
                         i, col, i == 0 ? "title 'client-bound or not comparable'" : "notitle");
  }
  const std::string xlabel = set.axis == Axis::rate ? "offered rate (requests/s)" : "concurrency (connections)";
  std::set<double> xs;
  for (const CellResult* c : set.ok) xs.insert(x_of(c->spec, set.axis));
  std::string tics;
  for (double x : xs) tics += fmt::format("{}{:g}", tics.empty() ? "" : ", ", x);
  return fmt::format("set title {}\nset logscale x 10\nset xrange [{:g}:{:g}]\nset xtics ({})\nset xlabel '{}'\n"
                     "set ylabel '{}'\n{}plot {}{}\n",
                     quoted(fmt::format("{}: {} against {} ({}){}", set.name, what,
                                        set.axis == Axis::rate ? "rate" : "concurrency", set.shared,
                                        set.repeated ? ", median with min–max" : "")),
                     *xs.begin() / 1.5, *xs.rbegin() * 1.5, tics, xlabel, ylabel, ylabel.find("log") != std::string::npos ? "set logscale y 10\n" : "", parts, extra);
}

std::string sweep_plots(const std::string& dir, const ChartSet& set, std::vector<std::string>& files) {
  const std::vector<std::string> labels = write_sweep_data(dir, set);
  const uint32_t delay = set.ok.front()->spec.delay_ms;
  const bool same_delay = std::all_of(set.ok.begin(), set.ok.end(), [&](const CellResult* c) { return c->spec.delay_ms == delay; });
  std::string bound;
  if (set.axis == Axis::rate) {
    bound = ", x with lines dt 2 lc rgb 'gray40' title 'offered rate'";
  } else if (delay > 0 && same_delay) {
    bound = fmt::format(", x/{:g} with lines dt 2 lc rgb 'gray40' title 'Little bound (c / {} ms)'", delay / 1000.0, delay);
  }
  std::string script = both_formats(set.name + "-throughput",
                                    sweep_chart(set, labels, "req/s", "requests/s (log)", 2, true, bound));
  const std::string delay_line =
      delay > 0 && same_delay ? fmt::format(", {} with lines dt 2 lc rgb 'gray40' title 'handler delay ({} ms)'", delay, delay) : "";
  script += both_formats(set.name + "-latency",
                         sweep_chart(set, labels, "p99 latency", "p99 latency (ms, log)", 6, true, delay_line));
  script += both_formats(set.name + "-cpu", sweep_chart(set, labels, "server CPU per request",
                                                         "server CPU-µs per request (log)", 9, true, ""));
  for (const char* kind : {"-throughput", "-latency", "-cpu"}) {
    files.push_back(set.name + kind + ".png");
    files.push_back(set.name + kind + ".svg");
  }
  return script;
}

// <name>-cells.dat: one row per cell. Columns: label, req/s median min max, reference, bound, p50 p90 p99
// p99.9 ms, CPU-µs/req.
double write_cell_data(const std::string& dir, const ChartSet& set) {
  std::ofstream data(dir + "/" + set.name + "-cells.dat");
  double top = 0;
  for (const CellResult* c : set.ok) {
    const Figures& m = *c->median;
    std::optional<double> ref;
    if (c->spec.reference) ref = c->spec.reference->requests_per_s;
    top = std::max({top, c->max->requests_per_s, ref.value_or(0), c->spec.bound_rps().value_or(0)});
    data << quoted(cell_name(c->spec, set.with_load) + (not_comparable(*c).empty() ? "" : kFlag)) << "\t"
         << m.requests_per_s << "\t" << c->min->requests_per_s << "\t" << c->max->requests_per_s << "\t" << num(ref)
         << "\t" << num(c->spec.bound_rps()) << "\t" << num(lat(m, "p50") * 1e3) << "\t" << num(lat(m, "p90") * 1e3)
         << "\t" << num(lat(m, "p99") * 1e3) << "\t" << num(lat(m, "p99.9") * 1e3) << "\t"
         << num(m.server.cpu_us_per_req) << "\n";
  }
  return top;
}

// Bars per cell: throughput beside the reference and the bound (within the chart: the y range covers the
// tallest), latency percentiles, CPU per request.
std::string bar_plots(const std::string& dir, const ChartSet& set, std::vector<std::string>& files) {
  const double top = write_cell_data(dir, set);
  const bool any_ref = std::any_of(set.ok.begin(), set.ok.end(), [](const CellResult* c) { return c->spec.reference.has_value(); });
  const bool any_bound = std::any_of(set.ok.begin(), set.ok.end(), [](const CellResult* c) { return c->spec.bound_rps().has_value(); });
  const std::string file = quoted(set.name + "-cells.dat");
  const std::string style = "set style data histograms\nset style fill solid 0.8 border -1\nset boxwidth 0.9\n"
                            "set xtics rotate by -30 left\n";
  const std::string title_tail = fmt::format(" ({}){}", set.shared, set.repeated ? ", median with min–max" : "");
  const std::string flag_note = any_flagged(set) ? "  († client-bound or not comparable)" : "";
  std::string script = both_formats(
      set.name + "-throughput",
      fmt::format("set title {}\n{}set style histogram errorbars gap 1 lw 1\nset ylabel 'requests/s'\nset yrange [0:{:g}]\n"
                  "plot {} using 2:3:4:xtic(1) title 'req/s (median{})'{}{}\n",
                  quoted(set.name + ": throughput" + title_tail + flag_note), style, top * 1.1, file,
                  set.repeated ? ", min–max" : "", any_ref ? ", '' using 5:5:5 title 'seed (Python) reference'" : "",
                  any_bound ? ", '' using 6:6:6 title 'Little bound'" : ""));
  script += both_formats(
      set.name + "-latency",
      fmt::format("set title {}\n{}set style histogram clustered gap 1\nset logscale y 10\nset ylabel 'latency (ms, log)'\n"
                  "plot {} using 7:xtic(1) title 'p50', '' using 8 title 'p90', '' using 9 title 'p99', '' using 10 title 'p99.9'\n",
                  quoted(set.name + ": latency percentiles, median run" + title_tail), style, file));
  script += both_formats(
      set.name + "-cpu",
      fmt::format("set title {}\n{}set style histogram clustered gap 1\nset ylabel 'server CPU-µs per request'\nset yrange [0:*]\n"
                  "plot {} using 11:xtic(1) title 'server CPU-µs/request (utime+stime of the tree)'\n",
                  quoted(set.name + ": server CPU per request" + title_tail), style, file));
  for (const char* kind : {"-throughput", "-latency", "-cpu"}) {
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
    script += set.axis == Axis::none ? bar_plots(dir, set, out.files) : sweep_plots(dir, set, out.files);
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
