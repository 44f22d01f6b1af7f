#!/usr/bin/env bash
# 0 ms handler: server CPU-µs per request of the epoll baseline against nginx (1 worker, access_log off,
# `return 200 "Hello, World!\n"`, config written to /tmp), server on CPU 0, wrk -t1 -c100 on CPU 1,
# interleaved over REPS, plus syscalls per request. The measuring loop is bench/scripts/uring_cpu_per_request.sh
# (one harness for every server); this names the baselines' line-up.
#   REPS=5 DUR=5 bench/scripts/baselines_hello.sh           (from the repo root; holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
export BIN=${BIN:-build/ringbench}
export SERVERS=${SERVERS:-"epoll nginx threads"}
exec bench/scripts/uring_cpu_per_request.sh
