#!/usr/bin/env bash
# The project's test command: formatting, lints, every test of the workspace.
# Installs what the tests need through the project's own scripts first.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=default
if [[ "${CI:-}" == "true" ]]; then profile=ci; fi

echo "== Kubernetes tools (helm, kubernetes-validate) for the operator's tests"
scripts/install-k8s-tools.sh

echo "== independent RocketMQ clients (C++ via PyPI rocketmq, ali-ons via npm) for interop tests"
scripts/install-clients.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== module import cycles (the broker crate has none)"
python3 scripts/module-cycles.py broker/server/src

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
if ! command -v cargo-nextest >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
nextest_log=$(mktemp)
trap 'rm -f "$nextest_log"' EXIT
cargo nextest run --workspace --all-targets --locked --profile "$profile" 2>&1 | tee "$nextest_log"
cargo test --workspace --doc --locked
# One closing line for the whole run (the doc tests, last above, are few).
summary=$(grep -E '^ +Summary ' "$nextest_log" | tail -1)
passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<< "$summary")
failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<< "$summary")
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
