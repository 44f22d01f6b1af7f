// `ringbench gate --ab OLD NEW`: runs two server builds interleaved in one job through the in-process runner
// (bench/run/runner.hpp) with the same load generator, and decides on the paired ratios NEW/OLD. Pairs run
// in alternating order (A B, B A, A B …) so a drift of the machine during the job hits both builds alike.
// A suspected regression is re-measured once with as many pairs again, and decided on all pairs together.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gate/compare.hpp"

namespace ringbench::gate {

struct AbOptions {
  std::string old_bin, new_bin;
  std::string scenario;                  // name or .json path, see run::load_scenario
  uint32_t repeat = 9;                   // pairs per cell (each build runs this many times)
  std::vector<std::string> server_args;  // both builds
  std::vector<std::string> old_args;     // OLD only (e.g. to inject a difference on purpose)
  std::vector<std::string> new_args;     // NEW only
  bool pin = true;                       // server on CPU 0, client on CPU 1
  bool remeasure = true;                 // re-measure a suspected regression once before failing
  std::string results_out;               // optional: every run of both builds as results JSON
  GateOptions gate;
};

// The scenario the A/B mode runs when --scenario is not given: a small 0 ms cell measuring CPU per request.
std::string default_ab_scenario();

// Runs the comparison; progress lines go to `log` (may be nullptr). Throws GateInputError when the OLD build
// cannot be measured at all or the scenario is unusable (the command maps it to exit status 2).
GateReport run_ab(const AbOptions& opt, std::FILE* log);

}  // namespace ringbench::gate
