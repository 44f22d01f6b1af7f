// wrk and hey as cross-check clients: run them as child processes and read their summaries into the
// same LoadResult the built-in generator returns. Parsers are separate so tests can feed them real output.
#pragma once
#include <string>

#include "load/engine.hpp"

namespace ringbench::run {

// Runs `wrk` (duration only: wrk has no -n) or `hey` for the measured window of `opt` (warm-up is the
// caller's job), pinned to `cpu` when >= 0. Throws std::runtime_error when the tool is missing, fails,
// or prints nothing we can read.
load::LoadResult run_wrk(const load::LoadOptions& opt, int cpu);
load::LoadResult run_hey(const load::LoadOptions& opt, int cpu);

// `wrk --latency` and `hey` summaries → LoadResult; throws std::runtime_error naming what is missing.
load::LoadResult parse_wrk_output(const std::string& text);
load::LoadResult parse_hey_output(const std::string& text);

// Whether `tool` is an executable on PATH.
bool tool_installed(const std::string& tool);

}  // namespace ringbench::run
