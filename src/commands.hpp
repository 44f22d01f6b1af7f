// Sub-commands of the single `ringbench` binary. Each parses its own options and returns the exit status
// (0 ok, 1 failure, 2 usage error).
#pragma once

namespace ringbench {

int serve_main(int argc, char** argv);  // src/serve_command.cpp
int probe_main(int argc, char** argv);  // src/probe_command.cpp
int load_main(int argc, char** argv);   // bench/load/load_command.cpp
int run_main(int argc, char** argv);    // bench/run/run_command.cpp
int gate_main(int argc, char** argv);   // bench/gate/gate_command.cpp

}  // namespace ringbench
