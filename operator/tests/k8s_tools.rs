//! The chart and everything the operator renders, checked with the real tools:
//! `helm lint --strict`, `helm template`, and `kubernetes-validate --strict` against the
//! Kubernetes OpenAPI schemas; and `deploy/operator.yaml` kept equal to the chart's rendering.
//!
//! The tools come from `scripts/install-k8s-tools.sh` (into `.tools/bin`). When one is missing
//! the tests fail under `CI=true` and otherwise skip, saying so.
//! `UPDATE_DEPLOY=1 cargo test -p rmq-operator --test k8s_tools` rewrites `deploy/operator.yaml`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rmq_operator::build::{labels, names};
use serde::Deserialize as _;

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
    ("monitoring", MONITORING),
];

/// Every monitoring option on: ServiceMonitor, PodMonitor, Grafana dashboard.
const MONITORING: &[&str] = &[
    "metrics.serviceMonitor.enabled=true",
    "clusterMetrics.podMonitor.enabled=true",
    "clusterMetrics.podMonitor.labels.release=kube-prometheus-stack",
    "clusterMetrics.grafanaDashboard.enabled=true",
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
    assert_eq!(files.len(), 6, "golden child objects of every fixture");
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

/// The rendered documents of `yaml` as JSON values.
fn documents(yaml: &str) -> Vec<serde_json::Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| serde_json::Value::deserialize(doc).expect("rendered YAML parses"))
        .filter(|doc| !doc.is_null())
        .collect()
}

#[test]
fn monitoring_objects_pass_prometheus_operator_schemas_and_select_what_the_operator_builds() {
    let Some(helm) = tool("helm") else {
        return;
    };
    let docs = documents(&template(&helm, "rmq", "rocketmq", MONITORING));
    let monitors: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| d["apiVersion"] == "monitoring.coreos.com/v1")
        .collect();
    let kinds: Vec<&str> = monitors.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["PodMonitor", "ServiceMonitor"]);

    // The PodMonitor selects the labels every operator-built pod carries, on the port the
    // operator declares when spec.metrics.enabled.
    let pod_monitor = monitors[0];
    let selector = &pod_monitor["spec"]["selector"]["matchLabels"];
    assert_eq!(selector[labels::NAME], "rocketmq");
    assert_eq!(selector[labels::MANAGED_BY], labels::MANAGER);
    assert_eq!(
        pod_monitor["spec"]["podMetricsEndpoints"][0]["port"],
        names::METRICS_PORT_NAME
    );
    assert_eq!(pod_monitor["spec"]["namespaceSelector"]["any"], true);
    assert_eq!(
        pod_monitor["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    let one_namespace = documents(&template(
        &helm,
        "rmq",
        "rocketmq",
        &[MONITORING, &["watchNamespace=mq"]].concat(),
    ));
    let scoped = one_namespace
        .iter()
        .find(|d| d["kind"] == "PodMonitor")
        .expect("PodMonitor");
    assert_eq!(
        scoped["spec"]["namespaceSelector"]["matchNames"],
        serde_json::json!(["mq"])
    );

    // The dashboard ConfigMap carries dashboards/rocketmq.json unchanged.
    let dashboard = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("dashboard ConfigMap");
    let shipped: serde_json::Value =
        serde_json::from_str(dashboard["data"]["rocketmq.json"].as_str().unwrap()).unwrap();
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(CHART).join("dashboards/rocketmq.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(shipped, file);

    let models =
        root().join(".tools/k8s-models/node_modules/@kubernetes-models/prometheus-operator");
    if !models.exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "prometheus-operator schemas are not installed but CI=true: run scripts/install-k8s-tools.sh"
            );
        }
        eprintln!(
            "SKIPPED: prometheus-operator schemas not found; run scripts/install-k8s-tools.sh"
        );
        return;
    }
    let mut child = Command::new("node")
        .arg(root().join("scripts/validate-monitoring.js"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&monitors).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("OK ").count(), 2, "{text}");
}

#[test]
fn the_dashboard_queries_only_metric_families_the_broker_and_name_server_write() {
    let text =
        std::fs::read_to_string(root().join(CHART).join("dashboards/rocketmq.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(exprs.len() >= 20, "{} queries", exprs.len());
    let families = dashboard_families(&exprs);
    // The families our processes write, as their sources name them.
    let sources = [
        "broker/server/src/metrics/scrape.rs",
        "broker/namesrv/src/metrics.rs",
        "broker/remoting/src/prometheus/mod.rs",
    ]
    .map(|p| std::fs::read_to_string(root().join(p)).unwrap())
    .join("\n");
    for family in &families {
        assert!(
            sources.contains(&format!("\"{family}\"")),
            "the dashboard queries {family}, which neither the broker nor the name server writes"
        );
    }
}

/// `rocketmq_*` metric families named in `exprs` (histogram suffixes removed).
fn dashboard_families(exprs: &[String]) -> std::collections::BTreeSet<String> {
    let mut families = std::collections::BTreeSet::new();
    for expr in exprs {
        let mut rest = expr.as_str();
        while let Some(at) = rest.find("rocketmq_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[at + name.len()..];
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(&name);
            families.insert(family.to_owned());
        }
    }
    families
}

#[test]
fn the_operator_may_manage_certificates_and_get_a_named_secret_but_never_list_secrets() {
    let Some(helm) = tool("helm") else {
        return;
    };
    for sets in [&[][..], &["watchNamespace=mq"][..]] {
        let docs = documents(&template(&helm, "rmq", "rocketmq", sets));
        let role = docs
            .iter()
            .find(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
            .expect("a role");
        let rules = role["rules"].as_array().expect("rules");
        let certificates = rules
            .iter()
            .find(|r| r["apiGroups"] == serde_json::json!(["cert-manager.io"]))
            .expect("a rule for cert-manager.io");
        assert_eq!(
            certificates["resources"],
            serde_json::json!(["certificates"])
        );
        for verb in [
            "get", "list", "watch", "create", "patch", "update", "delete",
        ] {
            assert!(
                certificates["verbs"]
                    .as_array()
                    .expect("verbs")
                    .iter()
                    .any(|v| v == verb),
                "{verb}"
            );
        }
        // Secrets: get one the spec names (the admin account, a role's TLS material), never
        // list or watch them all.
        let secrets: Vec<_> = rules
            .iter()
            .filter(|r| r["resources"].to_string().contains("secrets"))
            .collect();
        assert_eq!(secrets.len(), 1, "{rules:?}");
        assert_eq!(secrets[0]["resources"], serde_json::json!(["secrets"]));
        assert_eq!(secrets[0]["verbs"], serde_json::json!(["get"]));
    }
}

/// The Certificates of the golden fixtures checked against cert-manager's own schema
/// (`@kubernetes-models/cert-manager`, generated from its CRDs). kubernetes-validate has no
/// schema for custom resources. Skipped, saying so, until `scripts/install-k8s-tools.sh`
/// installs the models into `.tools/k8s-models`.
#[test]
fn built_certificates_pass_cert_managers_schema() {
    let models = root().join(".tools/k8s-models/node_modules/@kubernetes-models/cert-manager");
    if !models.exists() {
        eprintln!(
            "SKIPPED: cert-manager schemas not found (npm @kubernetes-models/cert-manager@6.0.0 \
             into .tools/k8s-models)"
        );
        return;
    }
    let text = std::fs::read_to_string(root().join("operator/fixtures/build/secure.expected.yaml"))
        .expect("golden objects");
    let certificates: Vec<serde_json::Value> = documents(&text)
        .into_iter()
        .filter(|d| d["kind"] == "Certificate")
        .collect();
    assert_eq!(certificates.len(), 2, "one Certificate per role");
    let script = format!(
        "const {{ Certificate }} = require({:?});\
         const docs = JSON.parse(require('fs').readFileSync(0, 'utf8'));\
         for (const d of docs) {{\
           try {{ new Certificate(d).validate(); console.log('OK ' + d.metadata.name); }}\
           catch (e) {{ console.log('ERROR ' + d.metadata.name + ': ' + e.message); process.exitCode = 1; }}\
         }}",
        models.join("cert-manager.io/v1/Certificate")
    );
    let mut child = Command::new("node")
        .args(["-e", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(
                serde_json::to_string(&certificates)
                    .expect("json")
                    .as_bytes(),
            )
            .expect("write");
    }
    let out = child.wait_with_output().expect("node finishes");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("OK ").count(), 2, "{text}");
}
