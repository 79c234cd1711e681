//! The generated CRD: committed files match the types, CEL rules reject what they should with
//! messages that say what to fix, and every example manifest passes the CRD's schema, its CEL
//! rules and the operator's own validation.

mod support;

use std::path::{Path, PathBuf};

use kube_cel::Validator;
use rmq_operator::crd::{RESERVED_CONFIG_KEYS, RocketCluster};
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
        ["minimal.yaml", "multi-group.yaml", "no-message-loss.yaml"]
    );
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
