# Helpers shared by the uring_*.sh benchmarks (sourced, not run): start a server pinned to CPU 0 and wait
# for it, read its CPU time, stop it by PID. Servers: uring[:ARGS], epoll[:ARGS], nginx (1 worker).
# A private copy of the binary, so a rebuild during a long run cannot swap it under the benchmark.
BIN_COPY=$(mktemp /tmp/ringbench-bench-bin.XXXXXX)
cp "${BIN:-build/ringbench}" "$BIN_COPY"
chmod 755 "$BIN_COPY"
BIN=$BIN_COPY
NGINX_DIR=${NGINX_DIR:-/tmp/ringbench-nginx}
SRV_PID=""

# nginx.conf for one worker in the foreground, no access log: `/` answers at once, `/sleep` after 250 ms.
write_nginx_conf() {
  local port=$1
  mkdir -p "$NGINX_DIR"
  cat > "$NGINX_DIR/nginx.conf" <<NGX
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
worker_processes 1;
master_process off;
daemon off;
worker_rlimit_nofile 20000;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 20000; multi_accept on; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path $NGINX_DIR/body;
  server {
    listen 127.0.0.1:$port backlog=4096;
    default_type text/plain;
    location / { return 200 "Hello, World!\n"; }
    location /sleep { echo_sleep 0.25; echo "Hello, World!"; }
  }
}
NGX
}

# start_server NAME PORT [extra serve args...]: NAME is uring, epoll or nginx; sets SRV_PID, and SRV_LOG to
# the file that holds the server's output (still there after stop_server, for its exit lines).
start_server() {
  local name=$1 port=$2
  shift 2
  SRV_LOG="/tmp/ringbench-bench-$name-$port.log"
  local log=$SRV_LOG
  if [[ $name == nginx ]]; then
    write_nginx_conf "$port"
    taskset -c 0 nginx -c "$NGINX_DIR/nginx.conf" > "$log" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 1 100); do
      curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
      sleep 0.05
    done
  else
    taskset -c 0 "$BIN" serve "$name" --port "$port" "$@" > "$log" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 1 100); do
      grep -q "^listening on" "$log" 2>/dev/null && return 0
      sleep 0.05
    done
  fi
  echo "server $name did not start: $(cat "$log")" >&2
  return 1
}

# One benchmark at a time on this machine, helpers' included: a script holds this lock while it measures.
hold_bench_lock() {
  exec 9>/tmp/ringbench-bench.lock
  flock 9
}

stop_server() {
  [[ -n $SRV_PID ]] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}

# measure_250ms CLIENT OUT_BASE C NAME [serve args...]: serves NAME with a 250 ms delay, drives it from CLIENT
# (`ringbench load --client-lag`, staggered over 250 ms, 3 s warm-up then an 8 s window, c connections), and
# leaves the load's JSON in OUT_BASE.json, the server's CPU ticks over the run in OUT_BASE.ticks and its
# late wake-ups (from its exit line) in OUT_BASE.late.
measure_250ms() {
  local client=$1 base=$2 conns=$3 name=$4
  shift 4
  start_server "$name" "$PORT" --delay-ms 250 "$@"
  local t0
  t0=$(cpu_ticks "$SRV_PID")
  taskset -c 1 "$client" load "http://127.0.0.1:$PORT/" -c "$conns" -z 11s --warmup 3s --ramp 250ms --client-lag \
    --json "$base.json" > /dev/null
  echo $(($(cpu_ticks "$SRV_PID") - t0)) > "$base.ticks"
  stop_server
  late_wakeups "$SRV_LOG" > "$base.late"
}

# late_wakeups LOG: "COUNT TOTAL_MS WORST_MS WAITS" summed over the loops' exit lines of a ringbench server's
# log (timed waits that ended over 1 ms past their deadline, of WAITS timed waits); "- - - -" for a server
# that prints none (nginx).
late_wakeups() {
  awk 'match($0, /late_wakeups [0-9]+ \([0-9.]+ ms in all, worst [0-9.]+ ms, of [0-9]+ timed waits\)/) {
         split(substr($0, RSTART, RLENGTH), f, /[ (,]+/)
         n += f[2]; t += f[3]; if (f[8] + 0 > w) w = f[8] + 0; waits += f[11]; seen = 1 }
       END { if (seen) printf "%d %.1f %.1f %d\n", n, t, w, waits; else print "- - - -" }' "$1"
}

# utime+stime of a process (all its threads) in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# A server spec is NAME[:ARG,ARG…] with '=' for spaces inside an argument pair:
# "uring:--timer=ring,--threads=2" -> serve uring --timer ring --threads 2.
spec_name() { echo "${1%%:*}"; }
spec_args() {
  local a=""
  [[ $1 == *:* ]] && a=${1#*:}
  a=${a//,/ }
  echo "${a//=/ }"
}
