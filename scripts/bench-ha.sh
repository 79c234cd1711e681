#!/usr/bin/env bash
# Replication benchmark: SYNC_MASTER against ASYNC_MASTER throughput, in the same run.
#
# Every case of every round gets a fresh rmq-namesrv, a master and a slave rmq-broker (one broker
# group, release binaries, temp stores, 127.0.0.1) and a measured `rmq-bench produce --json` run
# after a short warm-up; the ratio of the two cases is taken within each round, under the same
# machine noise. Master, slave and load generator share the machine's cores.
#
# Usage: scripts/bench-ha.sh [--runs N] [--duration 20s] [--warmup 3s] [--flush ASYNC_FLUSH]
#                            [--args "--mode sync --threads 64"] [--size 128]
#                            [--bin-dir target/release] [--out DIR] [--no-build]
#                            [--recycle-memory GIB]  (see bench-lib.sh)
# Writes DIR/<case>-<run>.json (the bench document plus master/slave CPU and the master's
# replication figures at the end) and prints a markdown table of medians and ranges and the
# SYNC_MASTER / ASYNC_MASTER ratio per round.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
source "$repo/scripts/bench-lib.sh"
runs=3
duration=20s
warmup=3s
flush=ASYNC_FLUSH
bench_args="--mode sync --threads 64"
size=128
bin_dir="$repo/target/release"
out=""
build=1
recycle_gib=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --flush) flush=$2; shift 2 ;;
    --args) bench_args=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --recycle-memory) recycle_gib=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  (cd "$repo" && cargo build --release -p rmq-bench -p rmq-broker -p rmq-namesrv)
fi
for bin in rmq-namesrv rmq-broker rmq-bench; do
  [ -x "$bin_dir/$bin" ] || { echo "$bin_dir/$bin is missing (build with --release first)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rmq-bench-ha.XXXXXX)
out=${out:-$work/results}
mkdir -p "$out"
pids=""

stop_servers() {
  # shellcheck disable=SC2086 # a list of pids
  stop_pids $pids
  pids=""
}
cleanup() {
  stop_servers
  rm -rf "$work"/case-*
}
trap cleanup EXIT INT TERM

# GET_BROKER_RUNTIME_INFO (28) of a broker, as one JSON object.
runtime_info() { # host port
  python3 - "$1" "$2" <<'EOF'
import json, socket, struct, sys
h = json.dumps({"code": 28, "language": "JAVA", "version": 401, "opaque": 1, "flag": 0}).encode()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(struct.pack(">II", 4 + len(h), len(h)) + h)
def rd(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("connection closed")
        b += c
    return b
data = rd(struct.unpack(">I", rd(4))[0])
hl = struct.unpack(">I", data[:4])[0] & 0xFFFFFF
print(json.dumps(json.loads(data[4 + hl:])["table"]))
EOF
}

start_broker() { # dir name id role ns_port port ha_port
  local dir=$1 name=$2 id=$3 role=$4 ns_port=$5 port=$6 ha_port=$7
  printf '%s\n' \
    "brokerClusterName=DefaultCluster" "brokerName=broker-a" "brokerId=$id" \
    "namesrvAddr=127.0.0.1:$ns_port" "brokerIP1=127.0.0.1" "listenPort=$port" \
    "haListenPort=$ha_port" "bindAddress=127.0.0.1" "storePathRootDir=$dir/store-$name" \
    "flushDiskType=$flush" "brokerRole=$role" > "$dir/$name.conf"
  RUST_LOG=info NO_COLOR=1 "$bin_dir/rmq-broker" -c "$dir/$name.conf" 2> "$dir/$name.log" &
  pids="$pids $!"
  eval "${name}_pid=$!"
  wait_for "$dir/$name.log" "listening on"
}

start_servers() { # dir master_role
  local dir=$1 role=$2
  mkdir -p "$dir"
  ns_port=$(free_port)
  master_port=$(free_port)
  slave_port=$(free_port)
  printf 'listenPort=%s\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv.json\n' \
    "$ns_port" "$dir" > "$dir/namesrv.properties"
  RUST_LOG=info NO_COLOR=1 "$bin_dir/rmq-namesrv" -c "$dir/namesrv.properties" 2> "$dir/namesrv.log" &
  pids="$pids $!"
  wait_for "$dir/namesrv.log" "listening on"
  start_broker "$dir" master 0 "$role" "$ns_port" "$master_port" "$(free_port)"
  wait_for "$dir/namesrv.log" "new broker registered"
  start_broker "$dir" slave 1 SLAVE "$ns_port" "$slave_port" "$(free_port)"
  wait_for "$dir/master.log" "slave asked for the commit log"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); recycled memory per case: $recycle_gib GiB; binaries: $bin_dir; tree: $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo '+dirty'); flush $flush; bench $bench_args --size $size" >&2
for run in $(seq 1 "$runs"); do
  for case in async-master sync-master; do
    role=$([ "$case" = sync-master ] && echo SYNC_MASTER || echo ASYNC_MASTER)
    dir="$work/case-$case-$run"
    mkdir -p "$dir"
    recycle_memory "$recycle_gib" "$dir"
    start_servers "$dir" "$role"
    ns="127.0.0.1:$ns_port"
    # shellcheck disable=SC2086 # the flags are words
    "$bin_dir/rmq-bench" produce -n "$ns" -t BenchTopic --create-topic --size "$size" \
      $bench_args --duration "$warmup" --json > /dev/null 2> "$dir/warmup.log"
    master_before=$(cpu_ticks "$master_pid")
    slave_before=$(cpu_ticks "$slave_pid")
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S' -o "$dir/bench.time" \
      "$bin_dir/rmq-bench" produce -n "$ns" -t BenchTopic --size "$size" \
      $bench_args --duration "$duration" --json > "$dir/bench.json" 2> "$dir/progress.log"
    master_ticks=$(( $(cpu_ticks "$master_pid") - master_before ))
    slave_ticks=$(( $(cpu_ticks "$slave_pid") - slave_before ))
    sleep 1
    info=$(runtime_info 127.0.0.1 "$master_port")
    hz=$(getconf CLK_TCK)
    jq --arg case "$case" --argjson run "$run" --argjson hz "$hz" \
      --argjson master "$master_ticks" --argjson slave "$slave_ticks" \
      --argjson bench_cpu "$(awk '{print $1 + $2}' "$dir/bench.time")" \
      --argjson info "$info" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
      '. + {case: $case, run: $run, master_cpu_s: ($master / $hz), slave_cpu_s: ($slave / $hz),
            bench_cpu_s: $bench_cpu, load1: ($load | tonumber),
            ha: {slaves: $info.haConnectionCount, lag_bytes: $info.haReplicationLagBytes,
                 master_max: $info.commitLogMaxOffset}}' \
      "$dir/bench.json" > "$out/$case-$run.json"
    jq -r '"\(.case) run \(.run): \(.summary.msgs_per_sec | floor) msg/s, p50 \(.summary.latency_us.p50) µs, p99 \(.summary.latency_us.p99) µs, errors \(.summary.error_count) \(.summary.errors), CPU master \(.master_cpu_s) s slave \(.slave_cpu_s) s bench \(.bench_cpu_s) s, lag after 1 s \(.ha.lag_bytes) B, load \(.load1)"' \
      "$out/$case-$run.json" >&2
    stop_servers
    rm -rf "$dir"/store-*
  done
done

python3 - "$out" <<'EOF'
import json, statistics, sys, glob, os
out = sys.argv[1]
docs = {}
for path in glob.glob(os.path.join(out, "*.json")):
    d = json.load(open(path))
    docs.setdefault(d["case"], {})[d["run"]] = d
def med_range(xs, fmt="{:,.0f}"):
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"
print("| case | msg/s median (range) | p50 µs | p99 µs | errors | CPU µs/msg master | slave | bench |")
print("|---|---|---|---|---|---|---|---|")
for case in ["async-master", "sync-master"]:
    runs = [docs[case][r] for r in sorted(docs.get(case, {}))]
    if not runs:
        continue
    rate = [d["summary"]["msgs_per_sec"] for d in runs]
    lat = lambda k: [d["summary"]["latency_us"][k] for d in runs]
    per = lambda k: [d[k] * 1e6 / max(d["summary"]["messages"], 1) for d in runs]
    errors = sum(d["summary"]["error_count"] for d in runs)
    print(f"| {case} | {med_range(rate)} | {med_range(lat('p50'))} | {med_range(lat('p99'))} | {errors} | "
          f"{med_range(per('master_cpu_s'), '{:.1f}')} | {med_range(per('slave_cpu_s'), '{:.1f}')} | "
          f"{med_range(per('bench_cpu_s'), '{:.1f}')} |")
ratios = [docs["sync-master"][r]["summary"]["msgs_per_sec"] / docs["async-master"][r]["summary"]["msgs_per_sec"]
          for r in sorted(docs.get("async-master", {})) if r in docs.get("sync-master", {})]
if ratios:
    print()
    print("SYNC_MASTER / ASYNC_MASTER per round: " + ", ".join(f"{x:.2f}" for x in ratios)
          + f" (median {statistics.median(ratios):.2f})")
EOF
echo "results: $out" >&2
