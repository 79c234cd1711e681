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

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
if ! command -v cargo-nextest >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
cargo nextest run --workspace --all-targets --locked --profile "$profile"
cargo test --workspace --doc --locked
