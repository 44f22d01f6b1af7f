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
  # ccache (a Debian package tools/deps.sh installs) makes the three CI configurations and fresh clones
  # rebuild only what changed.
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" > "$log" 2>&1 || {
    cat "$log" >&2
    exit 1
  }
  echo "$args" > "$stamp"
fi
# BUILD_TARGETS (space-separated) limits the build to those targets, e.g. for the ThreadSanitizer pass.
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
# Paths relative to the tree, so checkouts of the same sources share ccache hits.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
