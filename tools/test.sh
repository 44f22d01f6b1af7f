#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs missing packages, builds, and runs every
# test in a Release build, again under AddressSanitizer + UndefinedBehaviorSanitizer, and the threads
# backend under ThreadSanitizer. Usage: tools/test.sh   (CI runs exactly this through .ci/run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/tools/deps.sh" build

# Tests start servers that open many sockets; the hard limit is enough, the soft one often is not.
ulimit -n "$(ulimit -Hn)"

jobs=3  # most tests wait on sockets and timers; 3 at a time keeps 2 cores busy without starving timing checks

echo "== Release build and tests"
"$root/tools/build.sh" build
(cd build && ctest -j"$jobs" --output-on-failure --timeout 300)

# The sanitizer passes build only what runs instrumented: the integration tests start `ringbench` as a
# separate process (RINGBENCH_BIN), so the Release test binary drives the sanitized server, load
# generator, runner and gate; only the in-process unit tests need a sanitized test binary. This halves
# the compile time of each pass (the Catch2 test files are the heaviest to compile). -g1: line tables are
# enough for sanitizer reports and cost much less to build than full debug info.
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1"
                 "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1")

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
BUILD_TARGETS="ringbench unit_tests" "$root/tools/build.sh" build-asan -DRINGBENCH_SANITIZE=ON "${sanitizer_flags[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build-asan/tests/unit_tests
(cd build && RINGBENCH_BIN="$root/build-asan/ringbench" \
   ctest -j"$jobs" --output-on-failure --timeout 600 -E '^unit:')
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== ThreadSanitizer build, threads backend"
BUILD_TARGETS="ringbench" "$root/tools/build.sh" build-tsan -DRINGBENCH_TSAN=ON "${sanitizer_flags[@]}"
# TSan makes thread start-up ~40x slower: the 'well under a second' case would measure TSan, not races.
(cd build && RINGBENCH_BIN="$root/build-tsan/ringbench" TSAN_OPTIONS=halt_on_error=1 \
   ctest -j"$jobs" --output-on-failure --timeout 600 -R '^threads' -E 'well under a second')
