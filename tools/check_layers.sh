#!/usr/bin/env bash
# Checks the layering: every #include "dir/file" in a layer names a folder that layer may use, so includes
# only ever point down (core -> uring -> servers -> bench -> app) and no circle can form.
# Usage: tools/check_layers.sh   (ctest runs it as "layers: includes only point down")
set -euo pipefail
cd "$(dirname "$0")/.."

# folder -> the folders its files may include from (itself included).
declare -A allowed=(
  [src/core]="core"
  [src/uring]="core uring"
  [src/uring_server]="core uring uring_server"
  [baselines/common]="core common"
  [baselines/epoll]="core common epoll"
  [baselines/threads]="core common threads"
  [baselines/blocking]="core common blocking"
  [bench/load]="core uring load"
  [bench/run]="core uring load run"
  [bench/gate]="core uring load run gate"
  [src/app]="core uring uring_server common epoll threads blocking load run gate app"
)

bad=0
for dir in "${!allowed[@]}"; do
  [[ -d "$dir" ]] || { echo "check_layers: missing layer folder $dir" >&2; bad=1; continue; }
  while IFS=: read -r file line inc; do
    target=${inc#*\"}; target=${target%\"*}
    top=${target%%/*}
    if [[ "$target" != */* ]]; then
      echo "$file:$line: #include \"$target\" names no layer folder" >&2; bad=1
    elif [[ " ${allowed[$dir]} " != *" $top "* ]]; then
      echo "$file:$line: $dir may not include $target (allowed: ${allowed[$dir]})" >&2; bad=1
    fi
  done < <(grep -Hn '^#include "' "$dir"/*.cpp "$dir"/*.hpp 2>/dev/null || true)
done
# Every source folder is a known layer, so a new one cannot escape the check.
while read -r d; do
  [[ -n "${allowed[$d]+x}" ]] || { echo "check_layers: $d holds sources but is no layer here" >&2; bad=1; }
done < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'baselines/*.cpp' 'baselines/*.hpp' 'bench/*.cpp' 'bench/*.hpp' |
         xargs -r -n1 dirname | sort -u)
[[ $bad -eq 0 ]] && echo "layers: every include points down"
exit $bad
