#!/usr/bin/env bash
# wrk with no warm-up at c = 10 000 against the 250 ms handler (DUR s, 1 thread on CPU 1, server on CPU 0):
# efficiency and p99 of uring against nginx (echo_sleep 0.25), interleaved over REPS, plus server CPU-µs
# per request (so --timer ring vs wheel can be compared here too).
#   REPS=3 DUR=10 SERVERS="uring uring:--timer=ring nginx" bench/scripts/uring_wrk_10k.sh   (holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
REPS=${REPS:-3}
DUR=${DUR:-10}
C=${C:-10000}
SERVERS=${SERVERS:-"uring uring:--timer=ring nginx"}
PORT=${PORT:-28500}
OUT=$(mktemp -d /tmp/uring-wrk10k.XXXXXX)
ulimit -n 20000
trap stop_server EXIT

hold_bench_lock

for rep in $(seq 1 "$REPS"); do
  for spec in $SERVERS; do
    name=$(spec_name "$spec")
    path=/
    [[ $name == nginx ]] && path=/sleep
    start_server "$name" "$PORT" --delay-ms 250 $(spec_args "$spec")
    t0=$(cpu_ticks "$SRV_PID")
    taskset -c 1 wrk -t1 -c"$C" -d"${DUR}s" --timeout 10s --latency "http://127.0.0.1:$PORT$path" > "$OUT/$spec.$rep.wrk"
    t1=$(cpu_ticks "$SRV_PID")
    echo "$((t1 - t0))" > "$OUT/$spec.$rep.ticks"
    stop_server
  done
done

python3 - "$OUT" "$REPS" "$C" $SERVERS <<'PY'
import re, statistics, sys
out, reps, c, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
unit = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}
def parse(path):
    t = open(path).read()
    n = int(re.search(r"(\d+) requests in", t).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    v, u = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M).groups()
    errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return n, rps, float(v) * unit[u], errs + (int(non2xx.group(1)) if non2xx else 0)
print(f"{'server':<24} {'req/s':>9} {'eff %':>6} {'p99 ms':>7} {'errors':>6} {'CPU-us/req':>10}  per-rep eff %")
for s in servers:
    rows = []
    for r in range(1, reps + 1):
        n, rps, p99, errs = parse(f"{out}/{s}.{r}.wrk")
        ticks = int(open(f"{out}/{s}.{r}.ticks").read())
        rows.append((rps, rps / (c / 0.25) * 100, p99, errs, ticks * 0.01 / max(n, 1) * 1e6))
    med = [statistics.median(x[i] for x in rows) for i in range(5)]
    print(f"{s:<24} {med[0]:>9.0f} {med[1]:>6.2f} {med[2]:>7.1f} {med[3]:>6.0f} {med[4]:>10.2f}  {[round(x[1], 2) for x in rows]}")
print(f"raw output: {out}")
PY
