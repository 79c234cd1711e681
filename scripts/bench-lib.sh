# Shell helpers shared by scripts/bench-e2e.sh and scripts/bench-ha.sh; sourced, not run.

# A TCP port free on 127.0.0.1 right now (another process may still take it before we bind).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until FILE contains NEEDLE; after 30 s prints FILE and exits the script.
wait_for() { # file needle
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$1 never said '$2':" >&2
  cat "$1" >&2
  exit 1
}

# /proc/PID/stat utime+stime in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# SIGTERM to every PID, up to 20 s each to exit, then SIGKILL; reaps them.
stop_pids() { # pid...
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# Reads GIB GiB of a sparse file through the page cache in DIR, then deletes it: the kernel hands
# the freed pages to the next page-cache allocations (the commit log's). On this VM a guest page
# never touched before (or handed back to the host by the balloon's free page reporting, ~2 s
# after it was freed) costs a host fault on first touch: zero-filling fresh commit-log pages runs
# at ~0.5 GB/s instead of 7-18 GB/s (BENCHMARKS.md, "Fresh pages on this VM"). A broker host in
# steady state recycles page cache; a fresh VM does not. 0 skips.
recycle_memory() { # gib dir
  [ "$1" = 0 ] && return 0
  local file="$2/recycle.tmp"
  truncate -s "${1}G" "$file"
  cat "$file" > /dev/null
  rm -f "$file"
}
