//! The chart and everything the operator renders, checked with the real tools:
//! `helm lint --strict`, `helm template`, and `kubernetes-validate --strict` against the
//! Kubernetes OpenAPI schemas; and `deploy/operator.yaml` kept equal to the chart's rendering.
//!
//! The tools come from `scripts/install-k8s-tools.sh` (into `.tools/bin`). When one is missing
//! the tests fail under `CI=true` and otherwise skip, saying so.
//! `UPDATE_DEPLOY=1 cargo test -p rmq-operator --test k8s_tools` rewrites `deploy/operator.yaml`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Kubernetes version the manifests are validated against (the operator's k8s-openapi floor).
const KUBE_VERSION: &str = "1.33.0";
const CHART: &str = "charts/rocketmq-operator";

/// Value sets rendered and validated: defaults, one namespace with leader election, no extras.
const VARIANTS: &[(&str, &[&str])] = &[
    ("defaults", &[]),
    (
        "single-namespace-leader-election",
        &[
            "watchNamespace=mq",
            "leaderElection.enabled=true",
            "replicaCount=2",
        ],
    ),
    (
        "minimal",
        &[
            "metrics.service.enabled=false",
            "serviceAccount.create=false",
            "serviceAccount.name=ops",
        ],
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Path of `tool` from `.tools/bin` or `PATH`; `None` (after saying why) when absent outside CI.
fn tool(name: &str) -> Option<PathBuf> {
    let local = root().join(".tools/bin").join(name);
    if local.exists() {
        return Some(local);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.exists())
    });
    if on_path.is_some() {
        return on_path;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{name} is not installed but CI=true: run scripts/install-k8s-tools.sh");
    }
    eprintln!("SKIPPED: {name} not found; run scripts/install-k8s-tools.sh to run this test");
    None
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("failed to start {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn template(helm: &Path, release: &str, namespace: &str, sets: &[&str]) -> String {
    let mut cmd = Command::new(helm);
    cmd.current_dir(root())
        .args([
            "template",
            release,
            CHART,
            "--namespace",
            namespace,
            "--include-crds",
        ])
        .args(["--kube-version", KUBE_VERSION]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    run(&mut cmd)
}

fn validate_files(files: &[PathBuf]) {
    let Some(kv) = tool("kubernetes-validate") else {
        return;
    };
    let out = run(Command::new(kv)
        .args(["-k", KUBE_VERSION, "--strict"])
        .args(files));
    assert!(!out.contains("ERROR"), "{out}");
}

#[test]
fn chart_passes_helm_lint_strict_with_every_value_set() {
    let Some(helm) = tool("helm") else {
        return;
    };
    for (name, sets) in VARIANTS {
        let mut cmd = Command::new(&helm);
        cmd.current_dir(root()).args(["lint", "--strict", CHART]);
        for s in *sets {
            cmd.args(["--set", s]);
        }
        let out = run(&mut cmd);
        assert!(out.contains("0 chart(s) failed"), "{name}: {out}");
    }
}

#[test]
fn rendered_chart_is_valid_kubernetes_under_strict_validation() {
    let Some(helm) = tool("helm") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (name, sets) in VARIANTS {
        let yaml = template(&helm, "rmq", "rocketmq", sets);
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).expect("write rendering");
        files.push(path);
    }
    validate_files(&files);
}

#[test]
fn watching_one_namespace_grants_a_role_there_instead_of_a_cluster_role() {
    let Some(helm) = tool("helm") else {
        return;
    };
    let all = template(&helm, "rmq", "rocketmq", &[]);
    assert!(all.contains("kind: ClusterRole\n") && !all.contains("kind: Role\n"));
    let one = template(&helm, "rmq", "rocketmq", &["watchNamespace=mq"]);
    assert!(!one.contains("kind: ClusterRole") && one.contains("kind: Role\n"));
    assert!(
        one.contains(
            "kind: RoleBinding\nmetadata:\n  name: rmq-rocketmq-operator\n  namespace: mq"
        )
    );
    assert!(
        !one.contains("leases"),
        "no Lease rights without leader election"
    );
}

#[test]
fn operator_built_children_are_valid_kubernetes_under_strict_validation() {
    let dir = root().join("operator/fixtures/build");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expected.yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "golden child objects of every fixture");
    validate_files(&files);
}

/// `deploy/operator.yaml`: a Namespace plus the chart rendered with default values.
fn deploy_manifest(helm: &Path) -> String {
    let namespace = "rocketmq-operator";
    let rendered = template(helm, "rocketmq-operator", namespace, &[]);
    format!(
        "# Generated from charts/rocketmq-operator with default values; do not edit.\n\
         # Regenerate: UPDATE_DEPLOY=1 cargo test -p rmq-operator --test k8s_tools\n\
         # Install: kubectl apply --server-side -f deploy/operator.yaml\n\
         ---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n{rendered}"
    )
}

#[test]
fn deploy_operator_yaml_is_the_chart_rendering_and_valid() {
    let Some(helm) = tool("helm") else {
        return;
    };
    let expected = deploy_manifest(&helm);
    let path = root().join("deploy/operator.yaml");
    if std::env::var_os("UPDATE_DEPLOY").is_some() {
        std::fs::write(&path, &expected).expect("write deploy/operator.yaml");
    }
    let committed = std::fs::read_to_string(&path).expect("deploy/operator.yaml exists");
    assert!(
        committed == expected,
        "deploy/operator.yaml drifted from the chart: run UPDATE_DEPLOY=1 cargo test -p rmq-operator --test k8s_tools"
    );
    validate_files(&[path]);
}
