#!/usr/bin/env bash
# 0 ms handler: server CPU-µs per request for uring, epoll and nginx (1 worker, `return 200`), server on
# CPU 0, wrk -t1 on CPU 1, interleaved over REPS; then one pass with `perf stat` for syscalls per request.
#   C=100 DUR=5 REPS=5 bench/scripts/uring_cpu_per_request.sh     (from the repo root; holds the bench lock)
#   SERVERS="uring uring:--timer=ring epoll nginx" picks the servers; SPEC is NAME[:ARG,ARG…] (see uring_lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
C=${C:-100}
DUR=${DUR:-5}
REPS=${REPS:-5}
PORT=${PORT:-28300}
SERVERS=${SERVERS:-"uring epoll nginx"}
OUT=$(mktemp -d /tmp/uring-cpu.XXXXXX)
trap stop_server EXIT

hold_bench_lock

run_one() {  # run_one SPEC REP PERF(0|1)
  local spec=$1 rep=$2 perf=$3 name
  name=$(spec_name "$spec")
  start_server "$name" "$PORT" --delay-ms 0 $(spec_args "$spec")
  taskset -c 1 wrk -t1 -c"$C" -d1s "http://127.0.0.1:$PORT/" > /dev/null  # warm-up
  local t0 t1
  t0=$(cpu_ticks "$SRV_PID")
  if [[ $perf == 1 ]]; then
    perf stat -x, -e raw_syscalls:sys_enter -p "$SRV_PID" -o "$OUT/$spec.perf" -- sleep "$((DUR - 1))" &
    local perf_pid=$!
  fi
  taskset -c 1 wrk -t1 -c"$C" -d"${DUR}s" "http://127.0.0.1:$PORT/" > "$OUT/$spec.$rep.wrk"
  t1=$(cpu_ticks "$SRV_PID")
  [[ $perf == 1 ]] && wait "$perf_pid"
  echo "$((t1 - t0))" > "$OUT/$spec.$rep.ticks"
  stop_server
}

for rep in $(seq 1 "$REPS"); do
  for s in $SERVERS; do run_one "$s" "$rep" 0; done
done
for s in $SERVERS; do run_one "$s" perf 1; done

python3 - "$OUT" "$REPS" "$DUR" $SERVERS <<'PY'
import re, statistics, sys
out, reps, dur, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
tick = 0.01
def wrk(path):
    t = open(path).read()
    return int(re.search(r"(\d+) requests in", t).group(1)), float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
rows = {}
for s in servers:
    per = []
    for r in range(1, reps + 1):
        n, rps = wrk(f"{out}/{s}.{r}.wrk")
        ticks = int(open(f"{out}/{s}.{r}.ticks").read())
        per.append((ticks * tick / n * 1e6, rps, ticks * tick / dur))
    n, _ = wrk(f"{out}/{s}.perf.wrk")
    sc = open(f"{out}/{s}.perf").read()
    m = re.search(r"^(\d+),", sc, re.M)
    # perf counted for DUR-1 s of the DUR s run: scale the request count to the same window.
    sys_per_req = int(m.group(1)) / (n * (dur - 1) / dur) if m else float("nan")
    rows[s] = (statistics.median(p[0] for p in per), statistics.median(p[1] for p in per),
               statistics.median(p[2] for p in per), sys_per_req, [round(p[0], 2) for p in per])
print(f"{'server':<28} {'CPU-us/req':>10} {'req/s':>9} {'cores':>6} {'syscalls/req':>12}  per-rep CPU-us/req")
for s, (us, rps, cores, sc, per) in rows.items():
    print(f"{s:<28} {us:>10.2f} {rps:>9.0f} {cores:>6.2f} {sc:>12.2f}  {per}")
base = servers[0]
for s in servers[1:]:
    print(f"ratio {base}/{s} CPU-us/req: {rows[base][0] / rows[s][0]:.3f}")
print(f"raw output: {out}")
PY
