#!/usr/bin/env bash
# Records what the independent clients send and are answered, for the fuzz seed corpus:
# starts rmq-namesrv and rmq-broker (debug build) on free ports with a fresh store, puts
# fuzz/capture_traffic.py in front of them and runs every client program of tests/clients
# through it (C++ 1.2 and 2.x, ali-ons: sends with tags, keys, user properties, delay levels,
# orderly and transactional sends; tag, SQL92, retrying and orderly consumers). Writes
# fuzz/traffic/clients.frames; fuzz/seed_corpus.py turns it into seeds.
#
# Usage: fuzz/capture_clients.sh   (needs scripts/install-clients.sh done; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
clients="$root/tests/clients"
out="$root/fuzz/traffic/clients.frames"

cargo build -q -p rmq-namesrv -p rmq-broker --bins
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

work=$(mktemp -d /tmp/rmq-capture.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() { # FILE TEXT
    for _ in $(seq 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture_clients: '$2' never appeared in $1" >&2
    exit 1
}

ns_port=$(free_port)
broker_port=$(free_port)
ha_port=$(free_port)
proxy_ns=$(free_port)
proxy_broker=$(free_port)
printf 'listenPort=%s\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv.json\n' "$ns_port" "$work" >"$work/namesrv.properties"
cat >"$work/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
namesrvAddr=127.0.0.1:$ns_port
brokerIP1=127.0.0.1
listenPort=$broker_port
haListenPort=$ha_port
bindAddress=127.0.0.1
fastListenEnable=false
storePathRootDir=$work/store
mappedFileSizeCommitLog=67108864
enablePropertyFilter=true
transactionCheckInterval=2000
transactionTimeOut=1000
EOF
RUST_LOG=warn "$bin/rmq-namesrv" -c "$work/namesrv.properties" 2>"$work/namesrv.log" &
pids+=($!)
RUST_LOG=info "$bin/rmq-broker" -c "$work/broker.conf" 2>"$work/broker.log" &
pids+=($!)
wait_for "$work/broker.log" "listening on"
sleep 1

mkdir -p "$(dirname "$out")"
python3 "$root/fuzz/capture_traffic.py" --namesrv "127.0.0.1:$ns_port" --broker "127.0.0.1:$broker_port" \
    --namesrv-listen "127.0.0.1:$proxy_ns" --broker-listen "127.0.0.1:$proxy_broker" \
    --out "$out" --duration-s 900 >"$work/proxy.log" 2>&1 &
proxy=$!
pids+=("$proxy")
wait_for "$work/proxy.log" "listening"
ns="127.0.0.1:$proxy_ns"

run() { # NAME COMMAND...: runs one client program, reports its outcome, never stops the capture
    local name=$1
    shift
    if "$@" >"$work/$name.json" 2>"$work/$name.err"; then
        echo "capture_clients: $name ok"
    else
        echo "capture_clients: $name failed (exit $?): $(head -c 300 "$work/$name.json")" >&2
    fi
}

py() { python3 "$@"; }
run cpp-produce py "$clients/cpp_produce.py" --namesrv "$ns" --topic CapTags --group CapPG --count 20 \
    --tags TagA,TagB,TagC --key-prefix cap- --body-size 300
run cpp-produce-props py "$clients/cpp_produce.py" --namesrv "$ns" --topic CapSql --group CapPG --count 12 \
    --props '[{"a":"7","b":"x"},{"a":"3","b":"y"},{"a":"12"}]'
run cpp-produce-delay py "$clients/cpp_produce.py" --namesrv "$ns" --topic CapDelay --group CapPG --count 3 \
    --delay-level 1
run cpp-produce-orderly py "$clients/cpp_produce.py" --namesrv "$ns" --topic CapOrder --group CapPG --count 8 \
    --orderly-keys 2
run cpp-consume py "$clients/cpp_consume.py" --namesrv "$ns" --topic CapTags --group CapCG --expect 14 \
    --expression 'TagA || TagB' --timeout-s 60
run cpp-consume-delay py "$clients/cpp_consume.py" --namesrv "$ns" --topic CapDelay --group CapDG --expect 3 \
    --timeout-s 60
run cpp-produce-retry py "$clients/cpp_produce.py" --namesrv "$ns" --topic CapRetry --group CapPG --count 1 \
    --key-prefix retry-
run cpp-retry py "$clients/cpp_retry_consume.py" --namesrv "$ns" --topic CapRetry --group CapRG \
    --expect-deliveries 2 --fail-prefix retry- --fail-times 1 --timeout-s 90
run cpp-orderly py "$clients/cpp_retry_consume.py" --namesrv "$ns" --topic CapOrder --group CapOG \
    --expect-deliveries 8 --orderly --timeout-s 60
run cpp5-transaction py "$clients/cpp5_transaction_produce.py" --namesrv "$ns" --topic CapTx --group CapTxPG \
    --count 3 --plan commit,rollback,unknown --check-answer commit --run-s 8
run ons-produce node "$clients/ons_produce.js" --namesrv "$ns" --topic CapTags --group CapOnsPG --count 10 \
    --tags TagA,TagC --key-prefix ons-
run ons-consume node "$clients/ons_consume.js" --namesrv "$ns" --topic CapTags --group CapOnsCG --expect 30 \
    --timeout-s 60
run ons-consume-sql node "$clients/ons_consume.js" --namesrv "$ns" --topic CapSql --group CapOnsSG --expect 4 \
    --sql "a > 5 AND b = 'x' OR a BETWEEN 10 AND 20" --timeout-s 60

kill -TERM "$proxy"
wait "$proxy" || true
cat "$work/proxy.log"
