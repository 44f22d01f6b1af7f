// JUnit XML for CI systems that render test reports: one test case per cell and metric (failed on a
// regression) and one correctness test case per cell (failed on errors or non-2xx answers).
#pragma once
#include <string>

#include "gate/compare.hpp"

namespace ringbench::gate {

std::string render_junit(const GateReport& report);

// Escapes &, <, >, " and ' for XML attributes and text; drops control characters XML 1.0 forbids.
std::string xml_escape(std::string_view text);

}  // namespace ringbench::gate
