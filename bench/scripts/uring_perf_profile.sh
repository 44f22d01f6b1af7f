#!/usr/bin/env bash
# Where the time goes at 0 ms: `perf record` on the server (CPU 0) while wrk -t1 (CPU 1) drives c = C,
# then the top symbols (self time, kernel and user) for each server in SERVERS.
#   C=100 DUR=8 SERVERS="uring epoll" bench/scripts/uring_perf_profile.sh   (holds the bench lock)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/uring_lib.sh
C=${C:-100}
DUR=${DUR:-8}
TOP=${TOP:-25}
SERVERS=${SERVERS:-"uring epoll"}
PORT=${PORT:-28700}
OUT=$(mktemp -d /tmp/uring-perf.XXXXXX)
trap stop_server EXIT

hold_bench_lock

for spec in $SERVERS; do
  name=$(spec_name "$spec")
  start_server "$name" "$PORT" --delay-ms 0 $(spec_args "$spec")
  taskset -c 1 wrk -t1 -c"$C" -d"${DUR}s" "http://127.0.0.1:$PORT/" > "$OUT/$spec.wrk" &
  wrk_pid=$!
  sleep 1
  perf record -q -F 2999 -g -p "$SRV_PID" -o "$OUT/$spec.data" -- sleep "$((DUR - 3))" 2> /dev/null
  wait "$wrk_pid"
  stop_server
  # One report to a file; head on a live `perf report` pipe would SIGPIPE it and trip pipefail.
  perf report -i "$OUT/$spec.data" --no-children --sort symbol --stdio 2> /dev/null |
    grep -E '^ +[0-9.]+%' > "$OUT/$spec.symbols" || true
  echo "== $spec: top $TOP symbols by self time"
  head -n "$TOP" "$OUT/$spec.symbols"
  echo "== $spec: self time by area"
  awk '{p=$1; sub("%","",p); s=$3;
        a="other kernel";
        if ($2 == "[.]") a="user space (parser, loop, libc)";
        else if (s ~ /^pvm_/) a="hypervisor (PVM irq/msr)";
        else if (s ~ /^(tcp_|__tcp|inet_|__inet|ip_|__ip|skb_|__skb|kfree_skb|sk_|__sk|sock_|__sock|release_sock|lock_sock|__dev_queue|dev_|net_|__netif|process_backlog|loopback|__napi|napi|validate_xmit|bbr_|_copy_|__copy)/) a="TCP/IP + loopback + copies";
        else if (s ~ /io_uring|^io_|^__io_|tctx_task_work/) a="io_uring core";
        else if (s ~ /epoll|^ep_/) a="epoll";
        else if (s ~ /entry_SYSCALL|syscall_exit|do_syscall|syscall_return|^__x64_sys|exit_to_user/) a="syscall entry/exit";
        t[a]+=p} END {for (k in t) printf "  %6.2f%%  %s\n", t[k], k}' "$OUT/$spec.symbols" | sort -rn
done
echo "raw output: $OUT"
