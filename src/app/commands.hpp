// The application's own sub-commands (serve, probe); load, run and gate declare theirs in bench/.
// Each parses its own options and returns the exit status (0 ok, 1 failure, 2 usage error).
#pragma once

namespace ringbench {

int serve_main(int argc, char** argv);
int probe_main(int argc, char** argv);

}  // namespace ringbench
