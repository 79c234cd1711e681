#!/usr/bin/env bash
# Installs the independent RocketMQ clients that tests/clients/ drives, into .tools/ (idempotent,
# quick when already installed):
#   .tools/py     Python venv with PyPI rocketmq==0.4.4 (messense's wrapper of the Apache C++
#                 client; its manylinux wheel bundles librocketmq.so)
#   .tools/py5    Python venv with PyPI rocketmq-client-python==0.5.0rc2 (Apache's own wrapper of
#                 its C++ client 2.x; the only one here with a transactional producer)
#   .tools/node   npm prefix with ali-ons@3.12.0 (Alibaba's pure-JavaScript client) and urllib@2
# Missing system pieces (python3-venv, nodejs/npm, shared libraries of librocketmq.so) are
# installed with apt-get. Exits non-zero with a message saying what failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

ROCKETMQ_PY_VERSION="0.4.4"
ROCKETMQ_PY5_VERSION="0.5.0rc2"
ALI_ONS_VERSION="3.12.0"
URLLIB_SPEC="urllib@2"

tools="$root/.tools"
py="$tools/py"
py5="$tools/py5"
node_prefix="$tools/node"

fail() {
    echo "install-clients: ERROR: $*" >&2
    exit 1
}
trap 'echo "install-clients: ERROR: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

apt_updated=false
apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || fail "need root or sudo to apt-get install $*"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 || fail "apt-get not found; install $* by hand"
    if [[ $apt_updated == false ]]; then
        echo "install-clients: apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=true
    fi
    echo "install-clients: apt-get install $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

mkdir -p "$tools"

# ---------------------------------------------------------------- openssl CLI (TLS tests)
# scripts/make-test-certs.sh makes the TLS tests' certificates; `openssl s_client` is a peer.
if command -v openssl >/dev/null 2>&1; then
    echo "install-clients: $(openssl version) present"
else
    apt_install openssl
fi

# ---------------------------------------------------------------- Python: rocketmq (C++ client)
py_check() {
    "$py/bin/python" - "$ROCKETMQ_PY_VERSION" <<'PY' 2>&1
import sys
from importlib.metadata import version
have = version("rocketmq")
if have != sys.argv[1]:
    sys.exit("rocketmq %s installed, want %s" % (have, sys.argv[1]))
from rocketmq.client import Producer, PushConsumer, Message  # loads librocketmq.so
print("rocketmq %s imports" % have)
PY
}

if [[ -x "$py/bin/python" ]] && py_check >/dev/null 2>&1; then
    echo "install-clients: rocketmq==$ROCKETMQ_PY_VERSION already installed in $py"
else
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    if [[ ! -x "$py/bin/python" ]]; then
        rm -rf "$py"
        if ! python3 -m venv "$py" 2>/dev/null; then
            rm -rf "$py"
            apt_install python3-venv
            python3 -m venv "$py" || fail "python3 -m venv $py failed"
        fi
    fi
    echo "install-clients: pip install rocketmq==$ROCKETMQ_PY_VERSION into $py"
    "$py/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --only-binary=:all: "rocketmq==$ROCKETMQ_PY_VERSION" ||
        fail "pip install rocketmq==$ROCKETMQ_PY_VERSION failed"
    if ! out=$(py_check); then
        # The wheel bundles librocketmq.so and its libz; the rest is libstdc++/libgcc/libc.
        so=$("$py/bin/python" -c 'import importlib.util,os;print(os.path.join(os.path.dirname(importlib.util.find_spec("rocketmq").origin),"librocketmq.so"))')
        echo "install-clients: librocketmq.so does not load: $out" >&2
        ldd "$so" >&2 || true
        apt_install libstdc++6 libgcc-s1 zlib1g
        out=$(py_check) || fail "rocketmq does not import after installing system libraries: $out"
    fi
    echo "install-clients: $out"
fi

# ------------------------------------- Python: rocketmq-client-python (Apache C++ client 2.x)
py5_check() {
    "$py5/bin/python" - "$ROCKETMQ_PY5_VERSION" <<'PY' 2>&1
import sys
from importlib.metadata import version
have = version("rocketmq-client-python")
if have != sys.argv[1]:
    sys.exit("rocketmq-client-python %s installed, want %s" % (have, sys.argv[1]))
from rocketmq.client import TransactionMQProducer, PushConsumer  # loads librocketmq.so
print("rocketmq-client-python %s imports" % have)
PY
}

if [[ -x "$py5/bin/python" ]] && py5_check >/dev/null 2>&1; then
    echo "install-clients: rocketmq-client-python==$ROCKETMQ_PY5_VERSION already installed in $py5"
else
    if [[ ! -x "$py5/bin/python" ]]; then
        rm -rf "$py5"
        python3 -m venv "$py5" || fail "python3 -m venv $py5 failed"
    fi
    echo "install-clients: pip install rocketmq-client-python==$ROCKETMQ_PY5_VERSION into $py5"
    # Only this pre-release ships a wheel with librocketmq.so inside (2.0.0 is an sdist).
    "$py5/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --only-binary=:all: "rocketmq-client-python==$ROCKETMQ_PY5_VERSION" ||
        fail "pip install rocketmq-client-python==$ROCKETMQ_PY5_VERSION failed"
    out=$(py5_check) || fail "rocketmq-client-python does not import: $out"
    echo "install-clients: $out"
fi

# ---------------------------------------------------------------- Node: ali-ons
ons_check() {
    (cd "$node_prefix" && node -e '
        const want = process.argv[1];
        const ons = require("ali-ons/package.json").version;
        const urllib = require("urllib/package.json").version;
        if (ons !== want) { console.error(`ali-ons ${ons} installed, want ${want}`); process.exit(1); }
        if (!urllib.startsWith("2.")) { console.error(`urllib ${urllib} installed, want 2.x`); process.exit(1); }
        require("ali-ons"); require("urllib");
        console.log(`ali-ons ${ons}, urllib ${urllib} load`);
    ' "$ALI_ONS_VERSION") 2>&1
}

if [[ -d "$node_prefix/node_modules/ali-ons" ]] && command -v node >/dev/null 2>&1 &&
    ons_check >/dev/null 2>&1; then
    echo "install-clients: ali-ons@$ALI_ONS_VERSION already installed in $node_prefix"
else
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    mkdir -p "$node_prefix"
    echo "install-clients: npm install ali-ons@$ALI_ONS_VERSION $URLLIB_SPEC into $node_prefix"
    npm install --prefix "$node_prefix" --no-audit --no-fund --save-exact --loglevel=error \
        "ali-ons@$ALI_ONS_VERSION" "$URLLIB_SPEC" ||
        fail "npm install ali-ons@$ALI_ONS_VERSION $URLLIB_SPEC failed"
    out=$(ons_check) || fail "ali-ons does not load after install: $out"
    echo "install-clients: $out"
fi

echo "install-clients: done"
echo "  python (C++ client):  $py/bin/python   (tests/clients/cpp_*.py)"
echo "  python (C++ client 2.x): $py5/bin/python   (tests/clients/cpp5_*.py)"
echo "  node modules (ali-ons): $node_prefix/node_modules   (tests/clients/ons_*.js)"
