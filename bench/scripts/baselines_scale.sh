#!/usr/bin/env bash
# 250 ms handler as c grows: efficiency (req/s ÷ (c ÷ 0.25 s)), p99, errors, server CPU-µs per request,
# server RSS and RSS per connection and thread count, for the epoll and threads baselines. Measured by
# `ringbench load` after a warm-up (WARM s unrecorded, then WIN s recorded); server on CPU 0, client on
# CPU 1; one server at a time. Then the cost of a connection: 0 ms, a new connection per request.
# RAMP (default 250ms) staggers the first requests, as in uring_scale_250ms.sh.
#   CONNS="1000 3000 10000" SERVERS="epoll threads" WARM=3 WIN=10 bench/scripts/baselines_scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export BIN=${BIN:-build/ringbench}
source bench/scripts/uring_lib.sh
WARM=${WARM:-3}
WIN=${WIN:-10}
RAMP=${RAMP:-250ms}
CONNS=${CONNS:-"1000 3000 10000"}
SERVERS=${SERVERS:-"epoll threads"}
PORT=${PORT:-28500}
OUT=$(mktemp -d /tmp/baselines-scale.XXXXXX)
ulimit -n 20000
trap stop_server EXIT

hold_bench_lock

threads_of() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }

for c in $CONNS; do
  for spec in $SERVERS; do
    name=$(spec_name "$spec")
    start_server "$name" "$PORT" --delay-ms 250 $(spec_args "$spec")
    rss0=$(rss_kib "$SRV_PID")
    t0=$(cpu_ticks "$SRV_PID")
    taskset -c 1 "$BIN" load "http://127.0.0.1:$PORT/" -c "$c" -z "$((WARM + WIN))s" --warmup "${WARM}s" --ramp "$RAMP" \
      --json "$OUT/$spec.$c.json" > "$OUT/$spec.$c.txt" 2>&1 &
    load_pid=$!
    sleep "$((WARM + WIN / 2))"
    echo "$rss0 $(rss_kib "$SRV_PID") $(threads_of "$SRV_PID")" > "$OUT/$spec.$c.mid"
    wait "$load_pid" || true
    t1=$(cpu_ticks "$SRV_PID")
    echo "$((t1 - t0))" > "$OUT/$spec.$c.ticks"
    stop_server
  done
done

# Connection cost: 0 ms, every request on a new connection (threads: one thread created per request).
for spec in $SERVERS; do
  name=$(spec_name "$spec")
  start_server "$name" "$PORT" --delay-ms 0 --keepalive-ms 0 $(spec_args "$spec")
  t0=$(cpu_ticks "$SRV_PID")
  taskset -c 1 "$BIN" load "http://127.0.0.1:$PORT/" -c 50 -z "${WIN}s" --disable-keepalive \
    --json "$OUT/$spec.churn.json" > /dev/null 2>&1 || true
  t1=$(cpu_ticks "$SRV_PID")
  echo "$((t1 - t0))" > "$OUT/$spec.churn.ticks"
  stop_server
done

python3 - "$OUT" "$WARM" "$WIN" "$CONNS" $SERVERS <<'PY'
import json, sys
out, warm, win, conns, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(), sys.argv[5:]
print(f"{'server':<18} {'c':>6} {'req/s':>9} {'eff %':>6} {'p99 ms':>7} {'errors':>7} {'CPU-us/req':>10} {'RSS MiB':>8} {'KiB/conn':>8} {'threads':>7}")
for c in conns:
    for s in servers:
        try:
            j = json.load(open(f"{out}/{s}.{c}.json"))
        except Exception:
            print(f"{s:<18} {c:>6}  load failed: {open(f'{out}/{s}.{c}.txt').read().strip()[:200]}")
            continue
        rss0, rss, thr = map(int, open(f"{out}/{s}.{c}.mid").read().split())
        ticks = int(open(f"{out}/{s}.{c}.ticks").read())
        rps = j["requests_per_s"]
        total = rps * (warm + win)
        print(f"{s:<18} {c:>6} {rps:>9.1f} {rps / (int(c) / 0.25) * 100:>6.2f} "
              f"{j['latency_s']['percentiles']['p99'] * 1e3:>7.1f} {j['total_errors']:>7} "
              f"{ticks * 0.01 / max(total, 1) * 1e6:>10.2f} {rss / 1024:>8.1f} {(rss - rss0) / int(c):>8.1f} {thr:>7}")
print("\nnew connection per request, 0 ms, c = 50:")
for s in servers:
    j = json.load(open(f"{out}/{s}.churn.json"))
    ticks = int(open(f"{out}/{s}.churn.ticks").read())
    n = j["requests_per_s"] * win
    print(f"{s:<18} {j['requests_per_s']:>9.0f} req/s  {ticks * 0.01 / max(n, 1) * 1e6:>7.1f} server CPU-us per connection+request  errors {j['total_errors']}")
print(f"raw output: {out}")
PY
