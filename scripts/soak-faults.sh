#!/usr/bin/env bash
# Longer fault soaks than `scripts/test.sh` runs: the kill -9 test of
# broker/server/tests/interop/faults.rs with many rounds, repeated with fresh seeds.
#
# Usage: scripts/soak-faults.sh [ROUNDS_PER_RUN] [RUNS]     (defaults: 200 rounds, 1 run)
# Each run prints its FAULT_SEED (replay one with FAULT_SEED=<seed>) and its closing line:
#   "<N> rounds: acked A, consumed C (...), lost 0, stored twice D, <time>"
# Exits non-zero as soon as a run loses or changes an acknowledged message.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-200}
runs=${2:-1}

scripts/install-clients.sh >/dev/null
cargo build --workspace --bins --locked
for run in $(seq 1 "$runs"); do
    echo "== soak run $run of $runs: $rounds kill -9 rounds"
    FAULT_ROUNDS=$rounds cargo nextest run -p rmq-broker --test interop --locked --no-capture --profile soak \
        -E "test(sigkill_of_a_sync_flush_broker)" 2>&1 |
        grep -E "FAULT_SEED|rounds|PASS|FAIL|panicked|lost"
done
