#!/usr/bin/env bash
# How fast this machine hands out fresh page-cache pages: reads a sparse file of GIB GiB (every
# page is allocated and zero-filled, as the commit log's pages are when first mapped in), first
# after the machine's free memory sat idle for --idle seconds, then again right after the first
# file's pages were freed. Prints MB/s for both, ROUNDS times.
#
# On a VM whose balloon reports free pages to the host, a page freed more than ~2 s ago (or never
# touched) costs a host fault when touched again; the second read reuses pages that were just
# freed. BENCHMARKS.md, "Fresh pages on this VM".
#
# Usage: scripts/page-cache-probe.sh [--gib 2] [--idle 10] [--rounds 3] [--dir /tmp]
set -euo pipefail

gib=2
idle=10
rounds=3
dir=${TMPDIR:-/tmp}
while [ $# -gt 0 ]; do
  case "$1" in
    --gib) gib=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

file="$dir/page-cache-probe.$$"
trap 'rm -f "$file"' EXIT INT TERM

read_rate() { # prints MB/s of reading a fresh sparse file of $gib GiB
  truncate -s "${gib}G" "$file"
  local start end
  start=$(date +%s%N)
  cat "$file" > /dev/null
  end=$(date +%s%N)
  rm -f "$file"
  echo $(( gib * 1073741824 * 1000 / (end - start) ))
}

if [ -r /sys/bus/virtio/drivers/virtio_balloon ]; then
  echo "virtio balloon present (free page reporting is feature bit 5 of its features file)"
fi
for round in $(seq 1 "$rounds"); do
  sleep "$idle"
  cold=$(read_rate)
  warm=$(read_rate)
  echo "round $round: after ${idle} s idle ${cold} MB/s; right after freeing ${warm} MB/s"
done
