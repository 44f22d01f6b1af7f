#!/usr/bin/env bash
# RSS per idle keep-alive connection: open N connections (each sends one GET /healthz, reads the reply and
# stays open), then (RSS with N idle connections - RSS before them) / N, per server, interleaved over REPS.
#   N=10000 REPS=3 SERVERS="uring epoll nginx" bench/scripts/uring_rss_idle.sh     (holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
N=${N:-10000}
REPS=${REPS:-3}
SERVERS=${SERVERS:-"uring epoll nginx"}
PORT=${PORT:-28600}
OUT=$(mktemp -d /tmp/uring-rss.XXXXXX)
ulimit -n 20000
trap stop_server EXIT

hold_bench_lock

# Holds N idle connections open until stdin closes; prints "ready" once every reply has arrived.
cat > "$OUT/hold.py" <<'PY'
import selectors, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    socks.append(s)
sel = selectors.DefaultSelector()
for s in socks: sel.register(s, selectors.EVENT_READ)
left = n
while left:
    for key, _ in sel.select(timeout=10):
        if key.fileobj.recv(4096): left -= 1
        sel.unregister(key.fileobj)
print("ready", flush=True)
sys.stdin.read()
PY

for rep in $(seq 1 "$REPS"); do
  for spec in $SERVERS; do
    name=$(spec_name "$spec")
    start_server "$name" "$PORT" --delay-ms 0 $(spec_args "$spec")
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"
    before=$(rss_kib "$SRV_PID")
    coproc HOLD { taskset -c 1 python3 "$OUT/hold.py" "$PORT" "$N"; }
    read -r line <&"${HOLD[0]}"
    sleep 0.5
    after=$(rss_kib "$SRV_PID")
    echo "$before $after" > "$OUT/$spec.$rep"
    exec {HOLD[1]}>&-
    wait "$HOLD_PID" || true
    stop_server
  done
done

python3 - "$OUT" "$REPS" "$N" $SERVERS <<'PY'
import statistics, sys
out, reps, n, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
print(f"{'server':<24} {'RSS before MiB':>14} {'RSS with N MiB':>14} {'KiB per conn':>12}  per-rep KiB/conn")
for s in servers:
    rows = [tuple(map(int, open(f"{out}/{s}.{r}").read().split())) for r in range(1, reps + 1)]
    per = [(a - b) / n for b, a in rows]
    print(f"{s:<24} {statistics.median(b for b, _ in rows)/1024:>14.1f} {statistics.median(a for _, a in rows)/1024:>14.1f} "
          f"{statistics.median(per):>12.2f}  {[round(x, 2) for x in per]}")
print(f"raw output: {out}")
PY
