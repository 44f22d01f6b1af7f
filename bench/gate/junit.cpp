// JUnit XML writer for the gate; see junit.hpp.
#include "gate/junit.hpp"

#include <fmt/format.h>

namespace ringbench::gate {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') break;
        out += ch;
    }
  }
  return out;
}

std::string render_junit(const GateReport& r) {
  std::string cases;
  std::size_t tests = 0, failures = 0, skipped = 0;
  for (const auto& c : r.comparisons) {
    ++tests;
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n", xml_escape(c.cell_id),
                         xml_escape(c.metric));
    const std::string text = fmt::format("baseline {:.6g}, current {:.6g}, change {:+.2f} %, p {:.4g}; {}; {}",
                                         c.base_median, c.cur_median, c.change_pct, c.p_value, c.test, c.detail);
    if (c.verdict == Verdict::regression) {
      ++failures;
      cases += fmt::format("      <failure type=\"regression\" message=\"{} worse by {:.1f} % (tolerance {} %, p {:.4g})\">{}</failure>\n",
                           xml_escape(c.metric), c.worse_pct, r.options.tolerance_pct, c.p_value, xml_escape(text));
    } else if (c.verdict == Verdict::untested) {
      ++skipped;
      cases += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(c.detail));
    } else {
      cases += fmt::format("      <system-out>{}: {}</system-out>\n", verdict_name(c.verdict), xml_escape(text));
    }
    cases += "    </testcase>\n";
  }
  for (const auto& id : r.cells) {
    ++tests;
    cases += fmt::format("    <testcase classname=\"{}\" name=\"correctness\" time=\"0\">\n", xml_escape(id));
    std::string what;
    for (const auto& f : r.correctness) {
      if (f.cell_id == id) what += (what.empty() ? "" : "; ") + f.what;
    }
    if (!what.empty()) {
      ++failures;
      cases += fmt::format("      <failure type=\"correctness\" message=\"{}\"/>\n", xml_escape(what));
    }
    cases += "    </testcase>\n";
  }
  std::string props;
  for (const auto& n : r.notes) props += fmt::format("      <property name=\"note\" value=\"{}\"/>\n", xml_escape(n));

  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"ringbench gate\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     tests, failures, skipped, r.duration_s);
  xml += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                     xml_escape(r.title), tests, failures, skipped, r.duration_s);
  xml += fmt::format("    <properties>\n      <property name=\"tolerance_pct\" value=\"{}\"/>\n"
                     "      <property name=\"alpha\" value=\"{}\"/>\n      <property name=\"warn_only\" value=\"{}\"/>\n{}"
                     "    </properties>\n",
                     r.options.tolerance_pct, r.options.alpha, r.options.warn_only, props);
  xml += cases;
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace ringbench::gate
