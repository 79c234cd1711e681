//! The generated CRD: committed files match the types, CEL rules reject what they should with
//! messages that say what to fix, and every example manifest passes the CRD's schema, its CEL
//! rules and the operator's own validation.

mod support;

use std::path::{Path, PathBuf};

use kube_cel::Validator;
use rmq_operator::crd::{
    ExternalAccessType, RESERVED_CONFIG_KEYS, RocketCluster, TlsMode, TlsRole,
};
use rmq_operator::crdgen::{CRD_PATHS, crd_yaml};
use rmq_operator::validate::{Environment, validate};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The CRD's `openAPIV3Schema`.
fn schema() -> Value {
    let crd: Value = serde_yaml::from_str(&crd_yaml().expect("crd renders")).expect("crd parses");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// CEL failures of `object`, as `field: message` strings.
fn cel_errors(object: &Value) -> Vec<String> {
    match Validator::new().validate(&schema(), object, None) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn cluster_with_security(security: Value) -> Value {
    json!({
        "apiVersion": "rocketmq.rs/v1alpha1",
        "kind": "RocketCluster",
        "metadata": {"name": "demo", "namespace": "mq"},
        "spec": {"security": security}
    })
}

/// The operator's own validation of `object` (what an API server without CEL leaves to it).
fn operator_problems(object: &Value) -> Vec<String> {
    let mut cluster: RocketCluster = serde_json::from_value(object.clone()).expect("deserializes");
    cluster.metadata.uid = Some("uid".into());
    match validate(&cluster, &Environment::default()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.into_iter().map(|p| p.message).collect(),
    }
}

fn cluster_with_broker(broker: Value) -> Value {
    json!({
        "apiVersion": "rocketmq.rs/v1alpha1",
        "kind": "RocketCluster",
        "metadata": {"name": "demo", "namespace": "mq"},
        "spec": {"broker": broker}
    })
}

#[test]
fn committed_crd_files_match_the_generated_crd() {
    let generated = crd_yaml().expect("crd renders");
    for rel in CRD_PATHS {
        let committed = std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| {
            panic!("{rel} is missing ({e}): run `cargo run -p rmq-operator --bin crdgen`")
        });
        assert!(
            committed == generated,
            "{rel} drifted from the Rust types: run `cargo run -p rmq-operator --bin crdgen` and commit"
        );
    }
}

#[test]
fn crd_declares_names_subresources_and_printer_columns() {
    let crd: Value = serde_yaml::from_str(&crd_yaml().expect("crd")).expect("yaml");
    assert_eq!(crd["spec"]["group"], "rocketmq.rs");
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    assert_eq!(crd["spec"]["names"]["plural"], "rocketclusters");
    assert_eq!(crd["spec"]["names"]["shortNames"], json!(["rmq"]));
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert_eq!(version["subresources"]["status"], json!({}));
    assert_eq!(
        version["subresources"]["scale"]["specReplicasPath"],
        ".spec.broker.groups"
    );
    let columns: Vec<_> = version["additionalPrinterColumns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        columns,
        ["Ready", "Groups", "Replicas/Group", "Role", "Flush", "Age"]
    );
}

#[test]
fn cel_rejects_every_operator_owned_config_key_naming_the_key_and_the_fix() {
    for (key, _) in RESERVED_CONFIG_KEYS {
        let errors = cel_errors(&cluster_with_broker(
            json!({"config": {*key: "x", "deleteWhen": "04"}}),
        ));
        assert_eq!(errors.len(), 1, "{key}: {errors:?}");
        assert!(
            errors[0].contains(&format!("remove {key} from spec.broker.config")),
            "{key}: {}",
            errors[0]
        );
    }
}

#[test]
fn cel_accepts_ordinary_broker_config_keys() {
    let errors = cel_errors(&cluster_with_broker(
        json!({"config": {"deleteWhen": "04", "fileReservedTime": "48", "brokerNameSuffix": "x"}}),
    ));
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn cel_rejects_sync_master_without_a_slave_even_when_replicas_are_defaulted() {
    let errors = cel_errors(&cluster_with_broker(json!({"brokerRole": "SYNC_MASTER"})));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("set spec.broker.replicasPerGroup to at least 1"));
    assert!(
        cel_errors(&cluster_with_broker(
            json!({"brokerRole": "SYNC_MASTER", "replicasPerGroup": 1})
        ))
        .is_empty()
    );
}

#[test]
fn cel_rejects_a_storage_class_on_ephemeral_storage() {
    let errors = cel_errors(&cluster_with_broker(
        json!({"storage": {"type": "Ephemeral", "storageClassName": "fast"}}),
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("remove it or set type: Persistent"));
}

/// CEL's answer to changing `storage` from `old` to `new` (transition rules see `oldSelf`).
fn storage_change_errors(old: Value, new: Value) -> Vec<String> {
    let (old, new) = (
        cluster_with_broker(json!({"storage": old})),
        cluster_with_broker(json!({"storage": new})),
    );
    match Validator::new().validate(&schema(), &new, Some(&old)) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn cel_refuses_storage_changes_no_volume_can_follow_and_lets_a_volume_grow() {
    let fast = json!({"size": "10Gi", "storageClassName": "fast"});
    let grown = storage_change_errors(
        fast.clone(),
        json!({"size": "20Gi", "storageClassName": "fast"}),
    );
    assert!(grown.is_empty(), "{grown:?}");
    let shrunk = storage_change_errors(
        fast.clone(),
        json!({"size": "5Gi", "storageClassName": "fast"}),
    );
    assert!(
        shrunk.iter().any(|e| e.contains("cannot shrink")),
        "{shrunk:?}"
    );
    let same_in_other_units =
        storage_change_errors(json!({"size": "1Gi"}), json!({"size": "1024Mi"}));
    assert!(same_in_other_units.is_empty(), "{same_in_other_units:?}");
    let reclassed = storage_change_errors(
        fast.clone(),
        json!({"size": "10Gi", "storageClassName": "slow"}),
    );
    assert!(
        reclassed
            .iter()
            .any(|e| e.contains("storageClassName cannot change")),
        "{reclassed:?}"
    );
    let unclassed = storage_change_errors(fast, json!({"size": "10Gi"}));
    assert!(
        unclassed
            .iter()
            .any(|e| e.contains("storageClassName cannot change")),
        "{unclassed:?}"
    );
    let retyped = storage_change_errors(
        json!({"size": "10Gi"}),
        json!({"type": "Ephemeral", "size": "10Gi"}),
    );
    assert!(
        retyped.iter().any(|e| e.contains("type cannot change")),
        "{retyped:?}"
    );
    // A new cluster has no old object: none of these rules apply.
    assert!(cel_errors(&cluster_with_broker(json!({"storage": {"size": "1Gi"}}))).is_empty());
}

#[test]
fn cel_rejects_tls_keys_in_broker_config_pointing_at_spec_security_tls() {
    let errors = cel_errors(&cluster_with_broker(
        json!({"config": {"tls.server.mode": "enforcing", "deleteWhen": "04"}}),
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("set spec.security.tls instead"),
        "{errors:?}"
    );
}

/// Each `spec.security` object CEL must refuse, with a phrase of the message it must give.
const SECURITY_REFUSED: &[(&str, &str)] = &[
    (
        r#"{"acl": {"enabled": true}}"#,
        "spec.security.acl.enabled needs secretName",
    ),
    (
        r#"{"tls": {"nameServer": {"mode": "enforcing"}}}"#,
        "needs a certificate: set secretName",
    ),
    (
        r#"{"tls": {"broker": {}}}"#,
        "needs a certificate: set secretName",
    ),
    (
        r#"{"tls": {"broker": {"secretName": "t", "issuerRef": {"name": "ca"}}}}"#,
        "either secretName or issuerRef, not both",
    ),
    (
        r#"{"tls": {"broker": {"secretName": "t", "clientAuth": "require"}}}"#,
        "checks client certificates against a CA",
    ),
    (
        r#"{"tls": {"nameServer": {"issuerRef": {"name": "ca"}, "secretHasCa": true}}}"#,
        "secretHasCa describes the Secret of secretName",
    ),
];

#[test]
fn cel_refuses_incomplete_security_specs_and_the_operator_agrees() {
    for (security, says) in SECURITY_REFUSED {
        let object = cluster_with_security(serde_json::from_str(security).expect("json"));
        let errors = cel_errors(&object);
        assert_eq!(errors.len(), 1, "{security}: {errors:?}");
        assert!(errors[0].contains(says), "{security}: {}", errors[0]);
        // An API server that skips CEL still gets the spec refused, for the same reason.
        let problems = operator_problems(&object);
        assert!(
            problems.iter().any(|p| p.contains(says)),
            "{security}: the operator says {problems:?}"
        );
    }
}

#[test]
fn cel_accepts_complete_security_specs() {
    for security in [
        json!({"acl": {"enabled": true, "secretName": "acl", "innerCredentialsSecret": "inner", "adminCredentialsSecret": "admin"}}),
        json!({"acl": {"enabled": false}}),
        json!({"tls": {"nameServer": {"mode": "disabled"}}}),
        json!({"tls": {"broker": {"mode": "enforcing", "secretName": "t", "secretHasCa": true, "clientAuth": "require"}}}),
        json!({"tls": {
            "nameServer": {"mode": "enforcing", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}, "clientAuth": "optional"},
            "broker": {"issuerRef": {"name": "ca", "kind": "ClusterIssuer"}}
        }}),
    ] {
        let object = cluster_with_security(security.clone());
        assert!(
            cel_errors(&object).is_empty(),
            "{security}: {:?}",
            cel_errors(&object)
        );
        assert!(
            support::schema::check(&schema(), &object).is_empty(),
            "{security}"
        );
        assert!(
            operator_problems(&object).is_empty(),
            "{security}: {:?}",
            operator_problems(&object)
        );
    }
}

#[test]
fn schema_rejects_unknown_tls_modes_issuer_kinds_and_empty_secret_names() {
    let object = cluster_with_security(json!({"tls": {
        "nameServer": {"mode": "strict", "secretName": ""},
        "broker": {"issuerRef": {"name": "ca", "kind": "AcmeIssuer"}, "clientAuth": "always"}
    }}));
    let errors = support::schema::check(&schema(), &object);
    for path in [
        ".spec.security.tls.nameServer.mode",
        ".spec.security.tls.nameServer.secretName: shorter than minLength",
        ".spec.security.tls.broker.issuerRef.kind",
        ".spec.security.tls.broker.clientAuth",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(path)),
            "{path}: {errors:?}"
        );
    }
}

#[test]
fn schema_checker_rejects_unknown_fields_bad_enums_and_out_of_range_numbers() {
    let bad = cluster_with_broker(json!({"groups": 0, "brokerRole": "SLAVE", "colour": "red"}));
    let errors = support::schema::check(&schema(), &bad);
    assert!(
        errors
            .iter()
            .any(|e| e.contains(".spec.broker.groups") && e.contains("minimum")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains(".spec.broker.brokerRole")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains(".spec.broker.colour: unknown field")),
        "{errors:?}"
    );
}

#[test]
fn every_example_manifest_passes_schema_cel_and_operator_validation() {
    let dir = root().join("deploy/examples");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("deploy/examples exists") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read example");
        let object: Value = serde_yaml::from_str(&text).expect("example is YAML");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let structural = support::schema::check(&schema(), &object);
        assert!(structural.is_empty(), "{name}: {structural:?}");
        let cel = cel_errors(&object);
        assert!(cel.is_empty(), "{name}: {cel:?}");
        let mut cluster: RocketCluster =
            serde_json::from_value(object).expect("example deserializes");
        cluster.metadata.namespace = Some("default".into());
        cluster.metadata.uid = Some("uid".into());
        validate(&cluster, &Environment::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        seen.push(name);
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "external-access.yaml",
            "minimal.yaml",
            "multi-group.yaml",
            "no-message-loss.yaml",
            "secure.yaml"
        ]
    );
}

#[test]
fn cel_refuses_a_node_port_base_without_node_ports_and_broker_node_ports_without_a_base() {
    let with = |name_server: Value, broker: Value| {
        let mut c = cluster_with_broker(broker);
        c["spec"]["nameServer"] = name_server;
        c
    };
    let errors = cel_errors(&with(
        json!({"externalAccess": {"type": "LoadBalancer", "nodePortBase": 30000}}),
        json!({"externalAccess": {"type": "NodePort"}}),
    ));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("nodePortBase only applies to type NodePort")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("type NodePort needs nodePortBase")),
        "{errors:?}"
    );
    let fine = cel_errors(&with(
        json!({"externalAccess": {"type": "NodePort"}}),
        json!({"externalAccess": {"type": "NodePort", "nodePortBase": 30100}}),
    ));
    assert!(fine.is_empty(), "{fine:?}");
    let out_of_range = support::schema::check(
        &schema(),
        &cluster_with_broker(json!({"externalAccess": {"type": "NodePort", "nodePortBase": 8080}})),
    );
    assert!(
        out_of_range.iter().any(
            |e| e.contains(".spec.broker.externalAccess.nodePortBase") && e.contains("minimum")
        ),
        "{out_of_range:?}"
    );
}

#[test]
fn external_access_example_puts_both_roles_behind_load_balancers() {
    let text = std::fs::read_to_string(root().join("deploy/examples/external-access.yaml"))
        .expect("example");
    let cluster: RocketCluster = serde_yaml::from_str(&text).expect("parses");
    let spec = &cluster.spec;
    for access in [
        &spec.name_server.external_access,
        &spec.broker.external_access,
    ] {
        assert_eq!(access.type_, ExternalAccessType::LoadBalancer);
    }
}

#[test]
fn secure_example_turns_on_acl_and_enforcing_tls_on_both_roles_from_cert_manager() {
    let text =
        std::fs::read_to_string(root().join("deploy/examples/secure.yaml")).expect("example");
    let cluster: RocketCluster = serde_yaml::from_str(&text).expect("parses");
    let security = &cluster.spec.security;
    let acl = security.acl_enabled().expect("ACL on");
    assert!(acl.secret_name.is_some() && acl.inner_credentials_secret.is_some());
    for role in [TlsRole::NameServer, TlsRole::Broker] {
        let tls = security.tls_of(role).expect("TLS on");
        assert_eq!(tls.mode, TlsMode::Enforcing, "{role:?}");
        assert!(tls.issuer_ref.is_some(), "{role:?}");
    }
}

#[test]
fn no_message_loss_example_is_sync_master_sync_flush_with_a_slave() {
    let text = std::fs::read_to_string(root().join("deploy/examples/no-message-loss.yaml"))
        .expect("example");
    let cluster: RocketCluster = serde_yaml::from_str(&text).expect("parses");
    let b = &cluster.spec.broker;
    assert_eq!(
        (
            b.broker_role.as_str(),
            b.flush_disk_type.as_str(),
            b.replicas_per_group
        ),
        ("SYNC_MASTER", "SYNC_FLUSH", 1)
    );
}

#[test]
fn cel_refuses_a_name_server_volume_that_shrinks_or_changes_type_and_lets_it_grow() {
    let with = |storage: Value| {
        let mut c = cluster_with_broker(json!({}));
        c["spec"]["nameServer"] = json!({"storage": storage});
        c
    };
    let errors = |old: Value, new: Value| -> Vec<String> {
        match Validator::new().validate(&schema(), &with(new), Some(&with(old))) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    };
    let persistent = json!({"type": "Persistent", "size": "2Gi"});
    let grown = errors(
        persistent.clone(),
        json!({"type": "Persistent", "size": "4Gi"}),
    );
    assert!(grown.is_empty(), "{grown:?}");
    let shrunk = errors(
        persistent.clone(),
        json!({"type": "Persistent", "size": "1Gi"}),
    );
    assert!(
        shrunk
            .iter()
            .any(|e| e.contains("spec.nameServer.storage.size cannot shrink")),
        "{shrunk:?}"
    );
    let retyped = errors(persistent, json!({"type": "Ephemeral", "size": "2Gi"}));
    assert!(
        retyped
            .iter()
            .any(|e| e.contains("spec.nameServer.storage.type cannot change")),
        "{retyped:?}"
    );
}
