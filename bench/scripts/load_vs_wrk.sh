#!/usr/bin/env bash
# ringbench load vs wrk -t1 against the same server at the same connection count, interleaved, client on
# CPU 1: req/s, p50 and client CPU-µs per request, medians over REPS. Holds the machine-wide bench lock.
#   URL=http://127.0.0.1:18090/ C=100 DUR=5 REPS=3 bench/scripts/load_vs_wrk.sh   (server already on CPU 0)
set -euo pipefail
BIN=${BIN:-build/ringbench}
URL=${URL:?set URL to a running server (pin it with taskset -c 0)}
C=${C:-100}
DUR=${DUR:-5}
REPS=${REPS:-3}
THREADS=${THREADS:-1}
OUT=$(mktemp -d /tmp/load-vs-wrk.XXXXXX)

exec 9>/tmp/ringbench-bench.lock
flock 9

for rep in $(seq 1 "$REPS"); do
  taskset -c 1 /usr/bin/time -f "%U %S" -o "$OUT/wrk.$rep.time" \
    wrk -t"$THREADS" -c"$C" -d"${DUR}s" --latency "$URL" > "$OUT/wrk.$rep.txt"
  taskset -c 1 /usr/bin/time -f "%U %S" -o "$OUT/rb.$rep.time" \
    "$BIN" load "$URL" -c "$C" -z "${DUR}s" --threads "$THREADS" --json "$OUT/rb.$rep.json" > "$OUT/rb.$rep.txt"
done

python3 - "$OUT" "$REPS" <<'PY'
import json, re, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
def cpu(path):
    u, s = open(path).read().split()[-2:]
    return float(u) + float(s)
rows = []
for r in range(1, reps + 1):
    w = open(f"{out}/wrk.{r}.txt").read()
    w_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1))
    w_req = int(re.search(r"(\d+) requests in", w).group(1))
    v, u = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", w, re.M).groups()
    w_p50 = float(v) * unit[u]
    j = json.load(open(f"{out}/rb.{r}.json"))
    rows.append(dict(wrk_rps=w_rps, rb_rps=j["requests_per_s"], wrk_p50=w_p50, rb_p50=j["latency_s"]["percentiles"]["p50"],
                     wrk_cpu_us=cpu(f"{out}/wrk.{r}.time") / w_req * 1e6,
                     rb_cpu_us=cpu(f"{out}/rb.{r}.time") / max(1, j["completed"]) * 1e6,
                     rb_util=max(j["thread_cpu_util"]), rb_err=j["total_errors"]))
print(f"{'rep':>3} {'wrk req/s':>10} {'rb req/s':>10} {'ratio':>6} {'wrk p50':>9} {'rb p50':>9} {'wrk us/req':>10} {'rb us/req':>10} {'rb cpu':>6} {'rb err':>6}")
for i, x in enumerate(rows, 1):
    print(f"{i:>3} {x['wrk_rps']:>10.0f} {x['rb_rps']:>10.0f} {x['rb_rps']/x['wrk_rps']:>6.3f} {x['wrk_p50']*1e3:>7.3f}ms {x['rb_p50']*1e3:>7.3f}ms "
          f"{x['wrk_cpu_us']:>10.2f} {x['rb_cpu_us']:>10.2f} {x['rb_util']*100:>5.0f}% {x['rb_err']:>6}")
m = lambda k: statistics.median(x[k] for x in rows)
print(f"median: req/s ratio rb/wrk {statistics.median(x['rb_rps']/x['wrk_rps'] for x in rows):.3f}, "
      f"p50 ratio rb/wrk {statistics.median(x['rb_p50']/x['wrk_p50'] for x in rows):.3f}, "
      f"client CPU-us/req wrk {m('wrk_cpu_us'):.2f} rb {m('rb_cpu_us'):.2f}")
PY
echo "raw output: $OUT"
