// Burns a set amount of CPU per request, for `serve --spin-us` (the gate's injected regression).
// The work is a calibrated count of loop iterations, not a clock check: reading the thread CPU clock is a
// system call (~1 µs in a VM guest), so a clock-checking spin overshoots a 1 µs request by several
// times; a fixed amount of work costs the same CPU whether or not the thread is preempted meanwhile.
#pragma once
#include <cstdint>

namespace ringbench {

// Nanoseconds of this thread's CPU time one burn iteration takes; measured once per process (the first
// call takes ~30 ms), then cached. Call it at start-up so the first request does not pay for it.
double burn_ns_per_iteration();

// Burns about `ns` nanoseconds of CPU time.
void burn_cpu_ns(uint64_t ns);

// This thread's CPU time so far (CLOCK_THREAD_CPUTIME_ID), in ns: what a burn is measured against.
int64_t thread_cpu_ns();

}  // namespace ringbench
