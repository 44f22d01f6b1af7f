#!/usr/bin/env bash
# 250 ms handler at c = 10 … 10 000: efficiency (req/s ÷ (c ÷ 0.25 s)), p99 and server CPU-µs per request,
# measured by `ringbench load` after a warm-up (WARM s unrecorded, then WIN s recorded), server on CPU 0,
# client on CPU 1, one server at a time, interleaved over REPS.
# LOAD_ARGS go to every `ringbench load`: with "--client-lag" the table adds the p99 latency at arrival in
# the client's socket and the p99 time responses waited there (the client's own queueing).
# RAMP staggers the connections' first requests over one delay period: without it every connection sends
# at the same instant, completions arrive in c-sized waves and a window count is quantised to whole waves.
#   REPS=2 WARM=3 WIN=10 RAMP=250ms CONNS="10 100 1000 10000" SERVERS="uring uring:--timer=ring epoll nginx" \
#     bench/scripts/uring_scale_250ms.sh          (from the repo root; holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
REPS=${REPS:-2}
WARM=${WARM:-3}
WIN=${WIN:-10}
RAMP=${RAMP:-250ms}
CONNS=${CONNS:-"10 100 1000 10000"}
SERVERS=${SERVERS:-"uring epoll nginx"}
LOAD_ARGS=${LOAD_ARGS:-}
PORT=${PORT:-28400}
OUT=$(mktemp -d /tmp/uring-scale.XXXXXX)
ulimit -n 20000
trap stop_server EXIT

hold_bench_lock

for rep in $(seq 1 "$REPS"); do
  for c in $CONNS; do
    for spec in $SERVERS; do
      name=$(spec_name "$spec")
      path=/
      [[ $name == nginx ]] && path=/sleep
      start_server "$name" "$PORT" --delay-ms 250 $(spec_args "$spec")
      t0=$(cpu_ticks "$SRV_PID")
      taskset -c 1 "$BIN" load "http://127.0.0.1:$PORT$path" -c "$c" -z "$((WARM + WIN))s" --warmup "${WARM}s" --ramp "$RAMP" $LOAD_ARGS \
        --json "$OUT/$spec.$c.$rep.json" > /dev/null
      t1=$(cpu_ticks "$SRV_PID")
      echo "$((t1 - t0)) $(rss_kib "$SRV_PID")" > "$OUT/$spec.$c.$rep.srv"
      stop_server
    done
  done
done

python3 - "$OUT" "$REPS" "$WARM" "$WIN" "$CONNS" $SERVERS <<'PY'
import json, statistics, sys
out, reps, warm, win, conns, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(), sys.argv[6:]
lag = any("client_lag_s" in json.load(open(f"{out}/{f}")) for f in __import__("os").listdir(out) if f.endswith(".json"))
extra = f" {'arr p99':>7} {'lag p99':>7}" if lag else ""
print(f"{'server':<24} {'c':>6} {'req/s':>9} {'eff %':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'CPU-us/req':>10} {'RSS MiB':>8}{extra}")
for c in conns:
    for s in servers:
        rows = []
        for r in range(1, reps + 1):
            j = json.load(open(f"{out}/{s}.{c}.{r}.json"))
            ticks, rss = map(int, open(f"{out}/{s}.{c}.{r}.srv").read().split())
            # Server CPU covers warm-up + window: divide by every request sent in that time (completions
            # of the whole run ~ window rate x run length).
            total = j["requests_per_s"] * (warm + win)
            rows.append((j["requests_per_s"], j["requests_per_s"] / (int(c) / 0.25) * 100,
                         j["latency_s"]["percentiles"]["p50"] * 1e3, j["latency_s"]["percentiles"]["p99"] * 1e3,
                         j["total_errors"], ticks * 0.01 / max(total, 1) * 1e6, rss / 1024,
                         j.get("arrival_latency_s", {}).get("percentiles", {}).get("p99", 0) * 1e3,
                         j.get("client_lag_s", {}).get("percentiles", {}).get("p99", 0) * 1e3))
        med = [statistics.median(x[i] for x in rows) for i in range(9)]
        tail = f" {med[7]:>7.1f} {med[8]:>7.1f}" if lag else ""
        print(f"{s:<24} {c:>6} {med[0]:>9.1f} {med[1]:>6.2f} {med[2]:>7.1f} {med[3]:>7.1f} {med[4]:>6.0f} {med[5]:>10.2f} {med[6]:>8.1f}{tail}")
print(f"raw output: {out}")
PY
