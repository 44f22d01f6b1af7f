#!/usr/bin/env bash
# The main comparison, from a fresh Debian 12 machine: installs missing packages, builds, and runs the
# `seed` scenario (the seed experiment's runs, every I/O model, with its published Python numbers beside
# ours). Extra arguments go to `ringbench run`, e.g. tools/compare.sh --scenario scale --out results/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh" bench
"$root/tools/build.sh" build >/dev/null
ulimit -n "$(ulimit -Hn)"
if [[ " $* " != *" --scenario "* ]]; then set -- --scenario seed "$@"; fi
exec "$root/build/ringbench" run "$@"
