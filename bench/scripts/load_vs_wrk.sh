#!/usr/bin/env bash
# ringbench load (each --engine in ENGINES) vs wrk -t1 against the same server at the same connection
# count, interleaved, client on CPU 1: req/s, p50 and client CPU-µs per request, medians over REPS.
# Holds the machine-wide bench lock.
#   URL=http://127.0.0.1:18090/ C=100 DUR=5 REPS=3 ENGINES="epoll uring" bench/scripts/load_vs_wrk.sh
#   (server already running, pinned to CPU 0)
set -euo pipefail
BIN=${BIN:-build/ringbench}
URL=${URL:?set URL to a running server (pin it with taskset -c 0)}
C=${C:-100}
DUR=${DUR:-5}
REPS=${REPS:-3}
THREADS=${THREADS:-1}
ENGINES=${ENGINES:-"epoll uring"}
OUT=$(mktemp -d /tmp/load-vs-wrk.XXXXXX)

exec 9>/tmp/ringbench-bench.lock
flock 9

for rep in $(seq 1 "$REPS"); do
  taskset -c 1 /usr/bin/time -f "%U %S" -o "$OUT/wrk.$rep.time" \
    wrk -t"$THREADS" -c"$C" -d"${DUR}s" --latency "$URL" > "$OUT/wrk.$rep.txt"
  for e in $ENGINES; do
    taskset -c 1 /usr/bin/time -f "%U %S" -o "$OUT/rb-$e.$rep.time" \
      "$BIN" load "$URL" -c "$C" -z "${DUR}s" --threads "$THREADS" --engine "$e" --json "$OUT/rb-$e.$rep.json" \
      > "$OUT/rb-$e.$rep.txt"
  done
done

python3 - "$OUT" "$REPS" $ENGINES <<'PY'
import json, re, statistics, sys
out, reps, engines = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
def cpu(path):
    u, s = open(path).read().split()[-2:]
    return float(u) + float(s)
rows = {"wrk": []}
for r in range(1, reps + 1):
    w = open(f"{out}/wrk.{r}.txt").read()
    v, u = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", w, re.M).groups()
    n = int(re.search(r"(\d+) requests in", w).group(1))
    rows["wrk"].append(dict(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1)), p50=float(v) * unit[u],
                            cpu_us=cpu(f"{out}/wrk.{r}.time") / n * 1e6, util=float("nan"), err=0))
    for e in engines:
        j = json.load(open(f"{out}/rb-{e}.{r}.json"))
        rows.setdefault(e, []).append(dict(rps=j["requests_per_s"], p50=j["latency_s"]["percentiles"]["p50"],
                                           cpu_us=cpu(f"{out}/rb-{e}.{r}.time") / max(1, j["completed"]) * 1e6,
                                           util=max(j["thread_cpu_util"]), err=j["total_errors"]))
print(f"{'client':<14} {'req/s':>9} {'÷ wrk':>6} {'p50':>10} {'÷ wrk':>6} {'CPU-us/req':>10} {'thread CPU':>10} {'errors':>6}   (medians of {reps})")
med = lambda name, k: statistics.median(x[k] for x in rows[name])
for name in ["wrk"] + engines:
    ratio = lambda k: statistics.median(x[k] / w[k] for x, w in zip(rows[name], rows["wrk"]))
    label = name if name == "wrk" else f"load {name}"
    print(f"{label:<14} {med(name, 'rps'):>9.0f} {ratio('rps'):>6.3f} {med(name, 'p50') * 1e3:>8.3f}ms {ratio('p50'):>6.3f} "
          f"{med(name, 'cpu_us'):>10.2f} {med(name, 'util') * 100:>9.0f}% {med(name, 'err'):>6.0f}")
PY
echo "raw output: $OUT"
