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
  if (c.path != "/") n += " " + c.path;
  if (with_load) n += fmt::format(" c={} {}", c.concurrency, c.requests ? fmt::format("n={}", c.requests) : fmt::format("z={:g}s", c.duration_s));
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

}  // namespace

ChartsOutcome write_charts(const std::string& dir, const std::vector<ScenarioResult>& scenarios) {
  ChartsOutcome out;
  if (!tool_installed("gnuplot")) {
    out.note = "gnuplot is not installed (apt-get install gnuplot-nox): charts skipped";
    return out;
  }
  std::string script = "set datafile separator '\\t'\nset grid ytics\nset key above\n";
  for (const auto& s : scenarios) {
    std::vector<const CellResult*> ok;
    std::set<std::string> variants;
    std::set<uint32_t> concurrencies;
    for (const auto& c : s.cells) {
      if (!c.median) continue;
      ok.push_back(&c);
      variants.insert(c.spec.variant);
      concurrencies.insert(c.spec.concurrency);
    }
    if (ok.empty()) continue;
    const std::string name = s.scenario.name;
    // A sweep: some server runs the same load at several concurrencies, and never one concurrency twice
    // (the seed runs one server at -n 20 and -n 50 with c = 10: bars suit it better than lines).
    std::map<std::string, std::vector<uint32_t>> series;
    for (const CellResult* c : ok) {
      series[fmt::format("{}|{}|{}", c->spec.variant, c->spec.path, c->spec.delay_ms)].push_back(c->spec.concurrency);
    }
    bool several = false, repeated = false;
    for (auto& [key, cs] : series) {
      several |= cs.size() >= 2;
      std::sort(cs.begin(), cs.end());
      repeated |= std::adjacent_find(cs.begin(), cs.end()) != cs.end();
    }
    const bool sweep = several && !repeated;
    double lo = 1e300, hi = 0;
    for (const CellResult* c : ok) {
      lo = std::min(lo, c->median->requests_per_s);
      hi = std::max(hi, c->median->requests_per_s);
    }
    const bool log_bars = lo > 0 && hi / lo > 100;
    const bool with_load = !sweep && ok.size() > variants.size();

    // Throughput.
    std::string plot;
    if (sweep) {
      // One data block per server (and per path): concurrency, req/s, bound.
      std::map<std::string, std::vector<const CellResult*>> lines;
      for (const CellResult* c : ok) lines[cell_name(c->spec, false)].push_back(c);
      std::ofstream data(dir + "/" + name + "-throughput.dat");
      std::string parts;
      int index = 0;
      for (const auto& [label, cells] : lines) {
        data << "# " << label << "\n";
        for (const CellResult* c : cells) {
          data << c->spec.concurrency << "\t" << c->median->requests_per_s << "\n";
        }
        data << "\n\n";
        parts += fmt::format("{}'{}-throughput.dat' index {} using 1:2 with linespoints lw 2 title {}",
                             parts.empty() ? "" : ", ", name, index++, quoted(label));
      }
      const uint32_t delay = ok.front()->spec.delay_ms;
      const bool same_delay = std::all_of(ok.begin(), ok.end(), [&](const CellResult* c) { return c->spec.delay_ms == delay; });
      if (delay > 0 && same_delay) parts += fmt::format(", x/{:g} with lines dt 2 lc rgb 'gray40' title 'Little bound (c / {} ms)'", delay / 1000.0, delay);
      plot = fmt::format(
          "set title {}\nset logscale x 10\nset logscale y 10\nset xlabel 'concurrency (connections)'\n"
          "set ylabel 'requests/s (median)'\nset xrange [{}:{}]\nplot {}\nunset logscale\nset autoscale\n",
          quoted(name + ": throughput against concurrency"), *concurrencies.begin() / 1.5, *concurrencies.rbegin() * 1.5,
          parts);
    } else {
      std::ofstream data(dir + "/" + name + "-throughput.dat");
      bool any_ref = false, any_bound = false;
      for (const CellResult* c : ok) {
        any_ref |= c->spec.reference.has_value();
        any_bound |= c->spec.bound_rps().has_value();
        data << quoted(cell_name(c->spec, with_load)) << "\t" << c->median->requests_per_s << "\t"
             << (c->spec.reference ? fmt::format("{:g}", c->spec.reference->requests_per_s) : "NaN") << "\t"
             << (c->spec.bound_rps() ? fmt::format("{:g}", *c->spec.bound_rps()) : "NaN") << "\n";
      }
      plot = fmt::format(
          "set title {}\nset style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
          "set boxwidth 0.9\nset xtics rotate by -30 left\nset ylabel 'requests/s (median{log})'\n{scale}\n"
          "plot '{n}-throughput.dat' using 2:xtic(1) title 'ringbench'{ref}{bound}\n"
          "set style data points\nset xtics norotate\nunset logscale\nset autoscale\n",
          quoted(name + ": throughput"), fmt::arg("n", name), fmt::arg("log", log_bars ? ", log" : ""),
          fmt::arg("scale", log_bars ? "set logscale y 10\nset yrange [*:*]" : "set yrange [0:*]"),
          fmt::arg("ref", any_ref ? ", '' using 3 title 'seed (Python) reference'" : ""),
          fmt::arg("bound", any_bound ? ", '' using 4 title 'Little bound'" : ""));
    }
    script += both_formats(name + "-throughput", "1100,600", plot);
    out.files.push_back(name + "-throughput.png");
    out.files.push_back(name + "-throughput.svg");

    // Latency percentiles and CPU per request: one bar group per cell.
    {
      std::ofstream data(dir + "/" + name + "-cells.dat");
      for (const CellResult* c : ok) {
        const Figures& m = *c->median;
        data << quoted(cell_name(c->spec, !sweep ? with_load : true)) << "\t" << lat(m, "p50") * 1e3 << "\t"
             << lat(m, "p90") * 1e3 << "\t" << lat(m, "p99") * 1e3 << "\t" << lat(m, "p99.9") * 1e3 << "\t"
             << m.server.cpu_us_per_req.value_or(0) << "\n";
      }
    }
    const std::string bars =
        "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
        "set boxwidth 0.9\nset xtics rotate by -30 left\n";
    script += both_formats(
        name + "-latency", "1100,600",
        fmt::format("set title {}\n{}set logscale y 10\nset ylabel 'latency (ms, log)'\nset yrange [*:*]\n"
                    "plot '{n}-cells.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p90', '' using 4 title 'p99', "
                    "'' using 5 title 'p99.9'\nunset logscale\nset xtics norotate\nset style data points\nset autoscale\n",
                    quoted(name + ": latency percentiles per server (median run)"), bars, fmt::arg("n", name)));
    out.files.push_back(name + "-latency.png");
    out.files.push_back(name + "-latency.svg");
    script += both_formats(
        name + "-cpu", "1100,600",
        fmt::format("set title {}\n{}set ylabel 'server CPU-us per request'\nset yrange [0:*]\n"
                    "plot '{n}-cells.dat' using 6:xtic(1) title 'server CPU-us/request (utime+stime of the tree)'\n"
                    "set xtics norotate\nset style data points\nset autoscale\n",
                    quoted(name + ": server CPU per request"), bars, fmt::arg("n", name)));
    out.files.push_back(name + "-cpu.png");
    out.files.push_back(name + "-cpu.svg");
  }
  const std::string script_path = dir + "/charts.gp";
  std::ofstream(script_path) << script;
  const std::string cmd = fmt::format("cd '{}' && gnuplot charts.gp > charts.log 2>&1", dir);
  const int status = std::system(cmd.c_str());
  if (status != 0) {
    out.note = fmt::format("gnuplot failed (see {}/charts.log)", dir);
    out.files.clear();
  }
  return out;
}

}  // namespace ringbench::run
