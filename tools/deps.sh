#!/usr/bin/env bash
# Installs the Debian 12 packages ringbench needs, if any is missing.
# Usage: tools/deps.sh [build|bench]   (bench adds wrk and gnuplot for cross-checks and charts)
# As root it runs apt-get itself; otherwise it prints the exact apt-get line and exits 1.
set -euo pipefail

build_pkgs=(g++ make cmake ccache pkg-config liburing-dev node-llhttp libmimalloc-dev libcxxopts-dev catch2
            nlohmann-json3-dev libfmt-dev)
bench_pkgs=(gnuplot-nox wrk)

pkgs=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  bench) pkgs+=("${bench_pkgs[@]}") ;;
  *) echo "tools/deps.sh: unknown profile '$1' (build or bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "ringbench needs these Debian packages; run as root:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi
echo "tools/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$line -qq
