// `ringbench gate A B`: the CI gate. Parses its own options from argv (argv[0] is the command's name) and returns the exit status
// (0 ok, 1 failure, 2 usage error).
#pragma once

namespace ringbench {

int gate_main(int argc, char** argv);

}  // namespace ringbench
