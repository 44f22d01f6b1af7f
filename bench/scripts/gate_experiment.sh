#!/bin/sh
# Proves the gate on this machine: runs `ringbench gate --ab` RUNS times per kind and counts the failures.
#   bench/scripts/gate_experiment.sh identical 20      # false alarms: OLD and NEW identical
#   bench/scripts/gate_experiment.sh spin 20 1         # detection: NEW burns 1 µs more CPU per request
#   bench/scripts/gate_experiment.sh both 20 1         # the two alternated, so both see the same machine
#   bench/scripts/gate_experiment.sh summary DIR        # the summary lines of an earlier (or stopped) run
# Each gate run holds the machine-wide benchmark lock (/tmp/ringbench-bench.lock), so other engineers' load
# tests never overlap it. Writes OUT_DIR/runs.csv (kind, run, exit status, gate seconds, change %) and prints
# one summary line per kind. Environment: RINGBENCH (binary, default build/ringbench), OUT_DIR (default
# results/gate-MODE-<time>), GATE_ARGS (extra gate options, e.g. "--repeat 9 --scenario hello").
set -eu

usage="usage: gate_experiment.sh identical|spin|both RUNS [SPIN_US] | summary DIR"
mode=${1:?$usage}
runs=${2:?$usage}

summarize() {  # DIR: one line per kind found in DIR/runs.csv
  for kind in $(tail -n +2 "$1/runs.csv" | cut -d, -f1 | sort -u); do
    awk -F, -v kind="$kind" -v out="$1" '
      $1 == kind { n++; if ($3 == 1) fail++; else if ($3 != 0) undecided++; if ($4 != "nan") secs[++m] = $4
                   if ($5 != "nan") change = change (change == "" ? "" : " ") $5 }
      END {
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (secs[j] < secs[i]) { t = secs[i]; secs[i] = secs[j]; secs[j] = t }
        med = m ? (m % 2 ? secs[(m + 1) / 2] : (secs[m / 2] + secs[m / 2 + 1]) / 2) : "nan"
        printf "kind=%s runs=%d failed=%d undecided=%d median_gate_seconds=%s max_gate_seconds=%s changes_pct=[%s] out=%s\n",
               kind, n, fail + 0, undecided + 0, med, m ? secs[m] : "nan", change, out
      }' "$1/runs.csv"
  done
}
if [ "$mode" = summary ]; then
  summarize "$runs"
  exit 0
fi

spin_us=${3:-1}
bin=${RINGBENCH:-build/ringbench}
out=${OUT_DIR:-results/gate-$mode-$(date -u +%Y%m%dT%H%M%SZ)}
lock=/tmp/ringbench-bench.lock

case $mode in
  identical|spin) kinds=$mode ;;
  both) kinds="identical spin" ;;
  *) echo "gate_experiment.sh: mode must be identical, spin or both, not '$mode'" >&2; exit 2 ;;
esac
[ -x "$bin" ] || { echo "gate_experiment.sh: $bin is not an executable ringbench" >&2; exit 2; }
mkdir -p "$out"
echo "kind,run,exit,seconds,change_pct" > "$out/runs.csv"

i=1
while [ "$i" -le "$runs" ]; do
  for kind in $kinds; do
    new_args=""
    [ "$kind" = spin ] && new_args="--spin-us $spin_us"
    set +e
    # shellcheck disable=SC2086  # GATE_ARGS is a list of options on purpose
    flock "$lock" "$bin" gate --ab "$bin" "$bin" --new-args "$new_args" ${GATE_ARGS:-} \
      --markdown "$out/$kind-$i.md" --results "$out/$kind-$i" --quiet > "$out/$kind-$i.out" 2> "$out/$kind-$i.log"
    status=$?
    set -e
    # The gate's own duration (lock waiting excluded) and estimated change, from its Markdown report.
    secs=$(sed -n 's/^Gate run took \([0-9.]*\) s\.$/\1/p' "$out/$kind-$i.md" 2>/dev/null || true)
    change=$(sed -n 's/^| [^|]* | cpu_us_per_req [^|]* | [^|]* | [^|]* | \([-+0-9.]*\) % .*/\1/p' "$out/$kind-$i.md" 2>/dev/null | head -n 1 || true)
    echo "$kind,$i,$status,${secs:-nan},${change:-nan}" >> "$out/runs.csv"
    echo "$kind run $i/$runs: exit $status, ${secs:-?} s, cpu_us_per_req change ${change:-?} %"
  done
  i=$((i + 1))
done

summarize "$out"
