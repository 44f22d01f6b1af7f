#!/usr/bin/env bash
# Two server builds side by side at 250 ms: OLD and NEW `ringbench` binaries serve in turn (server on CPU 0)
# while NEW's `ringbench load --client-lag` drives c connections (client on CPU 1), interleaved over REPS,
# 3 s warm-up and an 8 s window each; prints medians of efficiency, mean, p99, p99 at arrival, client lag
# p99 and server CPU-µs per request. SIDE=client compares the two builds' load generators instead: NEW
# serves, and OLD's and NEW's `ringbench load` drive it in turn.
#   OLD=/path/old/ringbench NEW=build/ringbench C=10000 REPS=3 BACKENDS="uring epoll" [SIDE=client] bench/scripts/ab_250ms.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${OLD:?OLD=path of the old ringbench}"
NEW=${NEW:-build/ringbench}
BIN=$NEW
source bench/scripts/uring_lib.sh
C=${C:-10000}
REPS=${REPS:-3}
BACKENDS=${BACKENDS:-"uring epoll"}
SIDE=${SIDE:-server}
[[ $SIDE == server || $SIDE == client ]] || { echo "SIDE must be server or client" >&2; exit 2; }
PORT=${PORT:-28480}
OUT=$(mktemp -d /tmp/ab-250ms.XXXXXX)
# Private copies: a rebuild during the run cannot swap a binary under it.
cp "$OLD" "$OUT/old"
cp "$NEW" "$OUT/new"
ulimit -n 20000
trap stop_server EXIT
hold_bench_lock

for rep in $(seq 1 "$REPS"); do
  for backend in $BACKENDS; do
    for v in old new; do
      if [[ $SIDE == server ]]; then BIN="$OUT/$v" client="$OUT/new"; else BIN="$OUT/new" client="$OUT/$v"; fi
      measure_250ms "$client" "$OUT/$backend.$v.$rep" "$C" "$backend"
    done
  done
done

python3 - "$OUT" "$REPS" "$C" $BACKENDS <<'PY'
import json, statistics, sys
out, reps, c, backends = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
for b in backends:
    for v in ("old", "new"):
        rows = []
        for r in range(1, reps + 1):
            j = json.load(open(f"{out}/{b}.{v}.{r}.json"))
            ticks = int(open(f"{out}/{b}.{v}.{r}.ticks").read())
            # Server CPU covers warm-up + window (14 s incl. start-up): divided by the requests of that time.
            rows.append((j["requests_per_s"] / (c / 0.25) * 100, j["latency_s"]["average"] * 1e3,
                         j["latency_s"]["percentiles"]["p99"] * 1e3,
                         j.get("arrival_latency_s", {}).get("percentiles", {}).get("p99", 0) * 1e3,
                         j.get("client_lag_s", {}).get("percentiles", {}).get("p99", 0) * 1e3,
                         ticks * 0.01 / max(j["requests_per_s"] * 14, 1) * 1e6))
        m = [statistics.median(x[i] for x in rows) for i in range(6)]
        runs = " | ".join(f"{x[0]:.2f} % {x[2]:.1f} ms" for x in rows)
        print(f"{b:6} {v:3}  eff {m[0]:6.2f} %  mean {m[1]:7.2f}  p99 {m[2]:6.1f}  arrival p99 {m[3]:6.1f}"
              f"  lag p99 {m[4]:5.1f}  CPU-us/req {m[5]:5.2f}   runs: {runs}")
print(f"raw output: {out}")
PY
