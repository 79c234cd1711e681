#!/usr/bin/env bash
# End-to-end benchmark: rmq-namesrv + rmq-broker + rmq-bench on this machine, on 127.0.0.1.
#
# Every case of every round gets fresh servers on a fresh store in a temp dir, a short warm-up,
# then a measured `rmq-bench produce --json` run. Rounds run the cases back to back, so the ratio
# of two cases in one round (SYNC_FLUSH / ASYNC_FLUSH) is taken under the same machine noise.
# The servers are stopped (SIGTERM) after each case, and on exit whatever happens.
#
# Usage: scripts/bench-e2e.sh [--runs N] [--duration 20s] [--warmup 3s] [--cases "a b"]
#                             [--half-rate 20000] [--bin-dir target/release] [--out DIR]
#                             [--no-build] [--recycle-memory GIB] [--metrics] [--acl] [--tls]
# Cases:
#   sync-async   128 B, 64 sync senders, ASYNC_FLUSH     (Apache 4.9.4: 46,000 msg/s)
#   sync-sync    128 B, 64 sync senders, SYNC_FLUSH      (Apache 4.9.4: 32,000 msg/s)
#   batch-async  128 B, batches of 32, 64 sync senders, ASYNC_FLUSH
#   async-async  128 B, 64 in flight on one connection, ASYNC_FLUSH
#   e2e-async    128 B, 64 sync senders capped at --half-rate msg/s (half load), ASYNC_FLUSH, with
#                a long-polling consumer running: produce→consume latency
#   rate-async   128 B, 64 sync senders capped at --half-rate msg/s, ASYNC_FLUSH, no consumer: the
#                same load with and without a feature, for CPU-per-message comparisons (not run by
#                default)
#   topics-async as sync-async over 1,000 topics × 4 queues (not run by default)
#   binhdr-async as sync-async with binary (ROCKETMQ) headers instead of JSON (not run by default)
# --duration and --warmup are in seconds (`20s`). --recycle-memory GIB: before each case, read
# and delete GIB GiB of page cache so the commit log reuses warm pages (see bench-lib.sh).
# --metrics: the broker serves Prometheus metrics (metricsExporterType=PROM) and is scraped
# every 5 s during the run (a broker without the key logs it as unknown and runs as before).
# --acl: the broker checks every request (aclEnable=true, an account with topic and group
# permissions listed, so each request's resources are checked) and rmq-bench signs them all.
# --tls: name server and broker enforce TLS on their ports (certificates from
# scripts/make-test-certs.sh), the broker registers over TLS, and rmq-bench (and the consumer)
# connect over TLS checking the servers' certificates.
# Writes DIR/<case>-<run>.json (the bench document plus broker CPU and RSS) and prints a
# markdown table of medians and ranges (and the SYNC/ASYNC ratio per round).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench-lib.sh
source "$repo/scripts/bench-lib.sh"
runs=3
duration=20s
warmup=3s
cases="sync-async sync-sync batch-async async-async e2e-async"
half_rate=20000
bin_dir="$repo/target/release"
out=""
build=1
recycle_gib=0
metrics=0
acl=0
tls=0
client_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --half-rate) half_rate=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --recycle-memory) recycle_gib=$2; shift 2 ;;
    --metrics) metrics=1; shift ;;
    --acl) acl=1; client_args="$client_args --access-key bench001 --secret-key bench-secret-key"; shift ;;
    --tls) tls=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  (cd "$repo" && cargo build --release -p rmq-bench -p rmq-broker -p rmq-namesrv)
fi
for bin in rmq-namesrv rmq-broker rmq-bench; do
  [ -x "$bin_dir/$bin" ] || { echo "$bin_dir/$bin is missing (build with --release first)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rmq-bench-e2e.XXXXXX)
out=${out:-$work/results}
tls_conf=""
if [ "$tls" = 1 ]; then
  "$repo/scripts/make-test-certs.sh" "$work/pki"
  tls_conf="tls.server.mode=enforcing
tls.server.certPath=$work/pki/server.pem
tls.server.keyPath=$work/pki/server.key
tls.enable=true
tls.client.authServer=true
tls.client.trustCertPath=$work/pki/ca.pem"
  client_args="$client_args --tls-ca $work/pki/ca.pem"
fi
mkdir -p "$out"
ns_pid=""
broker_pid=""

stop_servers() {
  # shellcheck disable=SC2086 # empty ones drop out
  stop_pids $broker_pid $ns_pid
  broker_pid=""
  ns_pid=""
}
cleanup() {
  stop_servers
  # Keep the results, drop the stores.
  rm -rf "$work"/case-*
}
trap cleanup EXIT INT TERM

# Resident memory: all of it (VmRSS counts the mapped commit log pages, i.e. page cache) and the
# anonymous part (heap and stacks: what the broker itself holds).
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
rss_anon_kib() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
# Machine-wide busy and total clock ticks, from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }

# Waits until LOG says NEEDLE (0), or PID died first (1).
wait_up() { # pid log needle
  for _ in $(seq 1 300); do
    grep -q "$3" "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  echo "$2 never said '$3':" >&2
  cat "$2" >&2
  exit 1
}

start_servers() { # dir flushDiskType
  local dir=$1 flush=$2 attempt
  mkdir -p "$dir"
  # A port picked free can be taken by another process before the server binds it (the
  # machine is shared): a server that dies at start is retried on fresh ports.
  for attempt in 1 2 3 4 5; do
    ns_port=$(free_port)
    printf 'listenPort=%s\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv.json\n%s\n' \
      "$ns_port" "$dir" "$tls_conf" > "$dir/namesrv.properties"
    RUST_LOG=info NO_COLOR=1 "$bin_dir/rmq-namesrv" -c "$dir/namesrv.properties" 2> "$dir/namesrv.log" &
    ns_pid=$!
    wait_up "$ns_pid" "$dir/namesrv.log" "listening on" && break
    wait "$ns_pid" 2>/dev/null || true
    ns_pid=""
    echo "name server did not start (attempt $attempt): $(tail -1 "$dir/namesrv.log")" >&2
  done
  [ -n "$ns_pid" ] || exit 1
  for attempt in 1 2 3 4 5; do
    broker_port=$(free_port)
    printf '%s\n' \
      "brokerClusterName=DefaultCluster" "brokerName=broker-a" "brokerId=0" \
      "namesrvAddr=127.0.0.1:$ns_port" "brokerIP1=127.0.0.1" "listenPort=$broker_port" \
      "haListenPort=$(free_port)" "bindAddress=127.0.0.1" "storePathRootDir=$dir/store" \
      "flushDiskType=$flush" "brokerRole=ASYNC_MASTER" "$tls_conf" > "$dir/broker.conf"
    if [ "$acl" = 1 ]; then
      mkdir -p "$dir/home/conf"
      printf '%s\n' "accounts:" "  - accessKey: bench001" "    secretKey: bench-secret-key" \
        "    admin: true" "    topicPerms: [BenchTopic=PUB|SUB]" \
        "    groupPerms: [bench-e2e=SUB]" > "$dir/home/conf/plain_acl.yml"
      printf '%s\n' "aclEnable=true" "rocketmqHome=$dir/home" >> "$dir/broker.conf"
    fi
    if [ "$metrics" = 1 ]; then
      metrics_port=$(free_port)
      printf '%s\n' "metricsExporterType=PROM" "metricsPromExporterPort=$metrics_port" >> "$dir/broker.conf"
    fi
    RUST_LOG=info NO_COLOR=1 "$bin_dir/rmq-broker" -c "$dir/broker.conf" 2> "$dir/broker.log" &
    broker_pid=$!
    wait_up "$broker_pid" "$dir/broker.log" "listening on" && break
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
    echo "broker did not start (attempt $attempt): $(tail -1 "$dir/broker.log")" >&2
    rm -rf "$dir/store"
  done
  [ -n "$broker_pid" ] || exit 1
  wait_for "$dir/namesrv.log" "new broker registered"
}

case_flush() {
  case "$1" in
    *-sync) echo SYNC_FLUSH ;;
    *-async) echo ASYNC_FLUSH ;;
    *) echo "unknown case $1" >&2; exit 2 ;;
  esac
}
case_args() {
  case "$1" in
    sync-*) echo "--mode sync --threads 64" ;;
    batch-*) echo "--mode batch --batch 32 --threads 64" ;;
    async-*) echo "--mode async --inflight 64" ;;
    e2e-*|rate-*) echo "--mode sync --threads 64 --rate $half_rate" ;;
    topics-*) echo "--mode sync --threads 64 --topics 1000 --queues 4" ;;
    binhdr-*) echo "--mode sync --threads 64 --serialize rocketmq" ;;
    *) echo "unknown case $1" >&2; exit 2 ;;
  esac
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); recycled memory per case: $recycle_gib GiB; binaries: $bin_dir; tree: $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo '+dirty')" >&2
for run in $(seq 1 "$runs"); do
  for case in $cases; do
    dir="$work/case-$case-$run"
    mkdir -p "$dir"
    recycle_memory "$recycle_gib" "$dir"
    start_servers "$dir" "$(case_flush "$case")"
    ns="127.0.0.1:$ns_port"
    # shellcheck disable=SC2046 # the case's flags are words
    "$bin_dir/rmq-bench" produce -n "$ns" -t BenchTopic --create-topic --size 128 \
      $(case_args "$case") $client_args --duration "$warmup" --json > /dev/null 2> "$dir/warmup.log"
    consumer_pid=""
    if [[ $case == e2e-* ]]; then
      /usr/bin/time -f '%U %S' -o "$dir/consume.time" \
        "$bin_dir/rmq-bench" consume -n "$ns" -t BenchTopic -g bench-e2e $client_args \
        --duration "$(( ${duration%s} + 4 ))s" --json > "$dir/consume.json" 2> "$dir/consume.log" &
      consumer_pid=$!
      sleep 1 # its routes resolved and its first pulls parked on the broker
    fi
    scraper_pid=""
    if [ "$metrics" = 1 ]; then
      # As a Prometheus server would, every 5 s (the first scrape at once).
      (while true; do curl -s "http://127.0.0.1:$metrics_port/metrics" > "$dir/metrics.txt" || true; sleep 5; done) &
      scraper_pid=$!
    fi
    ticks_before=$(cpu_ticks "$broker_pid")
    read -r busy_before total_before <<< "$(machine_ticks)"
    # shellcheck disable=SC2046
    /usr/bin/time -f '%U %S' -o "$dir/bench.time" \
      "$bin_dir/rmq-bench" produce -n "$ns" -t BenchTopic --size 128 \
      $(case_args "$case") $client_args --duration "$duration" --json > "$dir/bench.json" 2> "$dir/progress.log"
    ticks=$(( $(cpu_ticks "$broker_pid") - ticks_before ))
    read -r busy_after total_after <<< "$(machine_ticks)"
    if [ -n "$scraper_pid" ]; then kill "$scraper_pid" 2>/dev/null || true; wait "$scraper_pid" 2>/dev/null || true; fi
    bench_cpu=$(awk '{print $1 + $2}' "$dir/bench.time")
    hz=$(getconf CLK_TCK)
    consume_doc=null
    if [ -n "$consumer_pid" ]; then
      wait "$consumer_pid"
      consume_doc=$(jq --argjson cpu "$(awk '{print $1 + $2}' "$dir/consume.time")" \
        '. + {cpu_s: $cpu}' "$dir/consume.json")
    fi
    jq --arg case "$case" --argjson run "$run" --argjson ticks "$ticks" --argjson hz "$hz" \
      --argjson rss "$(rss_kib "$broker_pid")" --argjson anon "$(rss_anon_kib "$broker_pid")" \
      --argjson bench_cpu "$bench_cpu" \
      --argjson busy "$(( busy_after - busy_before ))" --argjson total "$(( total_after - total_before ))" \
      --arg load "$(cut -d' ' -f1 /proc/loadavg)" --argjson cores "$(nproc)" \
      --argjson consume "$consume_doc" \
      '. + {case: $case, run: $run, consume: $consume, broker_cpu_s: ($ticks / $hz), bench_cpu_s: $bench_cpu,
            machine_busy: ($busy / $total), cores: $cores,
            ours_share: (($ticks / $hz + $bench_cpu) / ($cores * .summary.elapsed_s)),
            broker_rss_kib: $rss, broker_rss_anon_kib: $anon,
            load1: ($load | tonumber)}' "$dir/bench.json" > "$out/$case-$run.json"
    jq -r '"\(.case) run \(.run): \(.summary.msgs_per_sec | floor) msg/s, p99 \(.summary.latency_us.p99) µs, errors \(.summary.error_count), CPU broker \(.broker_cpu_s) s bench \(.bench_cpu_s) s, machine busy \(.machine_busy * 100 | floor) % (broker+bench \(.ours_share * 100 | floor) %), RSS anon \(.broker_rss_anon_kib / 1024 | floor) MiB"' \
      "$out/$case-$run.json" >&2
    stop_servers
    rm -rf "$dir/store"
  done
done

python3 - "$out" "$cases" <<'EOF'
import json, statistics, sys, glob, os
out, cases = sys.argv[1], sys.argv[2].split()
apache = {"sync-async": 46000, "sync-sync": 32000}
docs = {}
for path in glob.glob(os.path.join(out, "*.json")):
    d = json.load(open(path))
    docs.setdefault(d["case"], {})[d["run"]] = d
def med_range(xs, fmt="{:,.0f}"):
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})"
print("| case | msg/s median (range) | p50 µs | p99 µs | p99.9 µs | errors | CPU µs/msg broker | CPU µs/msg bench | machine busy % | broker+bench % of machine | broker RSS anon MiB | vs Apache 4.9.4 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for case in cases:
    runs = [docs[case][r] for r in sorted(docs.get(case, {}))]
    if not runs:
        continue
    rate = [d["summary"]["msgs_per_sec"] for d in runs]
    lat = lambda k: [d["summary"]["latency_us"][k] for d in runs if d["summary"]["latency_us"]]
    cpu = [d["broker_cpu_s"] * 1e6 / max(d["summary"]["messages"], 1) for d in runs]
    bench_cpu = [d["bench_cpu_s"] * 1e6 / max(d["summary"]["messages"], 1) for d in runs]
    busy = [d["machine_busy"] * 100 for d in runs]
    ours = [d["ours_share"] * 100 for d in runs]
    rss = [d["broker_rss_anon_kib"] / 1024 for d in runs]
    errors = sum(d["summary"]["error_count"] for d in runs)
    vs = f"{statistics.median(rate) / apache[case]:.2f}×" if case in apache else "—"
    print(f"| {case} | {med_range(rate)} | {med_range(lat('p50'))} | {med_range(lat('p99'))} | "
          f"{med_range(lat('p999'))} | {errors} | {med_range(cpu, '{:.1f}')} | {med_range(bench_cpu, '{:.1f}')} | "
          f"{med_range(busy)} | {med_range(ours)} | {med_range(rss)} | {vs} |")
e2e = [c for c in cases if c.startswith("e2e-") and c in docs]
if e2e:
    print()
    print("| case | produced msg/s | consumed / produced | produce p99 µs | produce→consume p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in e2e:
        runs = [docs[case][r] for r in sorted(docs[case])]
        rate = [d["summary"]["msgs_per_sec"] for d in runs]
        ratio = [d["consume"]["summary"]["messages"] / max(d["summary"]["messages"], 1) for d in runs]
        lat = lambda k: [d["consume"]["summary"]["latency_us"][k] for d in runs]
        p99 = [d["summary"]["latency_us"]["p99"] for d in runs]
        print(f"| {case} | {med_range(rate)} | {med_range(ratio, '{:.3f}')} | {med_range(p99)} | {med_range(lat('p50'))} | "
              f"{med_range(lat('p90'))} | {med_range(lat('p99'))} | {med_range(lat('p999'))} | {med_range(lat('max'))} |")
for other in ("topics-async", "binhdr-async"):
    if "sync-async" in docs and other in docs:
        ratios = [docs[other][r]["summary"]["msgs_per_sec"] / docs["sync-async"][r]["summary"]["msgs_per_sec"]
                  for r in sorted(docs["sync-async"]) if r in docs[other]]
        print()
        print(f"{other} / sync-async per round: " + ", ".join(f"{x:.2f}" for x in ratios)
              + f" (median {statistics.median(ratios):.2f})")
if "sync-async" in docs and "sync-sync" in docs:
    ratios = [docs["sync-sync"][r]["summary"]["msgs_per_sec"] / docs["sync-async"][r]["summary"]["msgs_per_sec"]
              for r in sorted(docs["sync-async"]) if r in docs["sync-sync"]]
    print()
    print("SYNC_FLUSH / ASYNC_FLUSH per round: " + ", ".join(f"{x:.2f}" for x in ratios)
          + f" (median {statistics.median(ratios):.2f})")
EOF
echo "results: $out" >&2
