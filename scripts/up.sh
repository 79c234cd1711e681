#!/usr/bin/env bash
# The project's run command: builds the name server, broker and rmqctl (release), then runs a
# local cluster from a RocketCluster manifest in the foreground until Ctrl-C.
#
#   scripts/up.sh                                   # deploy/examples/minimal.yaml
#   scripts/up.sh deploy/examples/multi-group.yaml  # another manifest
#   scripts/up.sh deploy/examples/minimal.yaml --base-port 19876 --detach
#
# State (configs, stores, logs) goes to .rmq/<cluster name> unless --dir says otherwise; stop a
# detached cluster with `target/release/rmqctl down --dir <that dir>`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p rmq-namesrv -p rmq-broker -p rmqctl
exec target/release/rmqctl up -f "${1:-deploy/examples/minimal.yaml}" "${@:2}"
