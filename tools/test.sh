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

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
"$root/tools/build.sh" build-asan -DRINGBENCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest -j"$jobs" --output-on-failure --timeout 600)

if grep -q 'threads' build/CTestTestfile.cmake build/tests/*.cmake 2>/dev/null; then
  echo "== ThreadSanitizer build, threads backend"
  BUILD_TARGETS="ringbench integration_tests" \
    "$root/tools/build.sh" build-tsan -DRINGBENCH_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  (cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest -j"$jobs" --output-on-failure --timeout 600 -R '^threads' \
     -E 'well under a second')  # TSan makes thread start-up ~40x slower: that case measures TSan, not races
fi
