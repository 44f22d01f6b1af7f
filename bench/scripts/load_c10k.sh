#!/usr/bin/env bash
# 250 ms handler, 10 000 connections: does `ringbench load` keep every connection busy? Starts
# `ringbench serve BACKEND` on CPU 0, loads it from CPU 1 with and without --ramp/--warmup, REPS times,
# and prints efficiency = req/s ÷ (c ÷ delay). Holds the machine-wide bench lock; stops the server by PID.
#   BACKEND=uring C=10000 DUR=10 REPS=3 bench/scripts/load_c10k.sh
set -euo pipefail
BIN=${BIN:-build/ringbench}
BACKEND=${BACKEND:-uring}
C=${C:-10000}
DELAY_MS=${DELAY_MS:-250}
DUR=${DUR:-10}
REPS=${REPS:-3}
RAMP=${RAMP:-1s}
WARMUP=${WARMUP:-3s}
OUT=$(mktemp -d /tmp/load-c10k.XXXXXX)
ulimit -n 20000

exec 9>/tmp/ringbench-bench.lock
flock 9

taskset -c 0 "$BIN" serve "$BACKEND" --port 0 --delay-ms "$DELAY_MS" > "$OUT/server.out" 2> "$OUT/server.err" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^listening on' "$OUT/server.out" && break; sleep 0.05; done
PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$OUT/server.out")
URL="http://127.0.0.1:$PORT/"

for rep in $(seq 1 "$REPS"); do
  taskset -c 1 "$BIN" load "$URL" -c "$C" -z "${DUR}s" --ramp "$RAMP" --warmup "$WARMUP" --json "$OUT/ramp.$rep.json" > /dev/null
  taskset -c 1 "$BIN" load "$URL" -c "$C" -z "${DUR}s" --json "$OUT/burst.$rep.json" > /dev/null
done

python3 - "$OUT" "$REPS" "$C" "$DELAY_MS" <<'PY'
import json, statistics, sys
out, reps, c, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]) / 1000
bound = c / delay
for kind, label in (("ramp", "--ramp + --warmup"), ("burst", "no ramp, no warm-up")):
    runs = [json.load(open(f"{out}/{kind}.{r}.json")) for r in range(1, reps + 1)]
    eff = [j["requests_per_s"] / bound for j in runs]
    print(f"{label:>20}: req/s " + " ".join(f"{j['requests_per_s']:.0f}" for j in runs)
          + f" | efficiency median {statistics.median(eff)*100:.1f} % of {bound:.0f}"
          + f" | p50 {statistics.median(j['latency_s']['percentiles']['p50'] for j in runs)*1e3:.1f} ms"
          + f" p99 {statistics.median(j['latency_s']['percentiles']['p99'] for j in runs)*1e3:.1f} ms"
          + f" | connections {min(j['connections_used'] for j in runs)}, connects {max(j['connects'] for j in runs)}"
          + f", errors {max(j['total_errors'] for j in runs)}, client CPU {max(max(j['thread_cpu_util']) for j in runs)*100:.0f} %")
PY
echo "raw output: $OUT"
