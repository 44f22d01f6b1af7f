#!/usr/bin/env bash
# io_uring task-run modes at 250 ms and c = 10 000: each SERVERS spec serves in turn (server on CPU 0) while
# `ringbench load --client-lag` drives 10 000 connections (client on CPU 1), interleaved over REPS; prints
# every run (a mode that sometimes collapses shows up as single bad runs, which a median would hide) with
# the server's late wake-ups: waits that ended over 1 ms past their timer (the machine's share of the tail).
#   REPS=4 SERVERS="uring uring:--no-defer-taskrun,--coop-taskrun uring:--no-defer-taskrun" \
#     bench/scripts/uring_taskrun_10k.sh          (from the repo root; holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
REPS=${REPS:-4}
C=${C:-10000}
SERVERS=${SERVERS:-"uring uring:--no-defer-taskrun,--coop-taskrun"}
PORT=${PORT:-28483}
OUT=$(mktemp -d /tmp/uring-taskrun.XXXXXX)
ulimit -n 20000
trap stop_server EXIT

hold_bench_lock

for rep in $(seq 1 "$REPS"); do
  for spec in $SERVERS; do
    measure_250ms "$BIN" "$OUT/$spec.$rep" "$C" "$(spec_name "$spec")" $(spec_args "$spec")
  done
done

python3 - "$OUT" "$REPS" "$C" $SERVERS <<'PY'
import json, sys
out, reps, c, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
print(f"{'server':<42} {'run':>3} {'eff %':>6} {'p99 ms':>7} {'arr p99':>7} {'lag p99':>7} {'CPU-us/req':>10} {'late wake-ups':>17} {'late ms':>8} {'worst ms':>8}")
for s in servers:
    for r in range(1, reps + 1):
        j = json.load(open(f"{out}/{s}.{r}.json"))
        ticks = int(open(f"{out}/{s}.{r}.ticks").read())
        late = open(f"{out}/{s}.{r}.late").read().split()
        pct = lambda key: j.get(key, {}).get("percentiles", {}).get("p99", 0) * 1e3
        print(f"{s:<42} {r:>3} {j['requests_per_s'] / (c / 0.25) * 100:>6.2f} {pct('latency_s'):>7.1f} "
              f"{pct('arrival_latency_s'):>7.1f} {pct('client_lag_s'):>7.1f} {ticks * 0.01 / max(j['requests_per_s'] * 14, 1) * 1e6:>10.2f}"
              f" {late[0] + ' of ' + late[3]:>17} {late[1]:>8} {late[2]:>8}")
print(f"raw output: {out}")
PY
