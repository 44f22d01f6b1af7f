#!/usr/bin/env bash
# What --min-wait-us costs at low concurrency: 0 ms handler, `ringbench load` with c connections (one
# request in flight each), req/s, p50 and p99 per server spec; server on CPU 0, client on CPU 1, 0.5 s
# warm-up then a DUR s window, interleaved over REPS, medians.
#   REPS=3 DUR=3 CONNS="1 10 100" SERVERS="uring uring:--min-wait-us=50 uring:--min-wait-us=300" \
#     bench/scripts/uring_min_wait_latency.sh        (from the repo root; holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
REPS=${REPS:-3}
DUR=${DUR:-3}
CONNS=${CONNS:-"1 10 100"}
SERVERS=${SERVERS:-"uring uring:--min-wait-us=50 uring:--min-wait-us=100 uring:--min-wait-us=300"}
PORT=${PORT:-28520}
OUT=$(mktemp -d /tmp/uring-min-wait.XXXXXX)
trap stop_server EXIT
hold_bench_lock

for rep in $(seq 1 "$REPS"); do
  for c in $CONNS; do
    for spec in $SERVERS; do
      start_server "$(spec_name "$spec")" "$PORT" --delay-ms 0 $(spec_args "$spec")
      taskset -c 1 "$BIN" load "http://127.0.0.1:$PORT/" -c "$c" -z "$(python3 -c "print($DUR + 0.5)")s" --warmup 0.5s \
        --json "$OUT/$spec.$c.$rep.json" > /dev/null
      stop_server
    done
  done
done

python3 - "$OUT" "$REPS" "$CONNS" $SERVERS <<'PY'
import json, statistics, sys
out, reps, conns, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
print(f"{'server':<28} {'c':>4} {'req/s':>9} {'p50 us':>8} {'p99 us':>8}")
for c in conns:
    for s in servers:
        js = [json.load(open(f"{out}/{s}.{c}.{r}.json")) for r in range(1, reps + 1)]
        med = lambda f: statistics.median(f(j) for j in js)
        print(f"{s:<28} {c:>4} {med(lambda j: j['requests_per_s']):>9.0f} "
              f"{med(lambda j: j['latency_s']['percentiles']['p50']) * 1e6:>8.0f} "
              f"{med(lambda j: j['latency_s']['percentiles']['p99']) * 1e6:>8.0f}")
print(f"raw output: {out}")
PY
