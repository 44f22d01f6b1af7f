#!/usr/bin/env bash
# Configures (once) and builds ringbench incrementally.
# Usage: tools/build.sh BUILD_DIR [extra cmake -D options]   e.g. tools/build.sh build-asan -DRINGBENCH_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/${1:-build}"
shift || true
# Re-configure only when the options differ from the ones this directory was configured with.
stamp="$dir/.ringbench-cmake-args"
args="$*"
# The configure log stays inside the build directory, which .gitignore covers.
log="$dir/ringbench-configure.log"
if [[ ! -f "$dir/CMakeCache.txt" || ! -f "$stamp" || "$(cat "$stamp")" != "$args" ]]; then
  mkdir -p "$dir"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" > "$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  echo "$args" > "$stamp"
fi
# BUILD_TARGETS (space-separated) limits the build to those targets, e.g. for the ThreadSanitizer pass.
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
