//! Pure validation: `RocketCluster` → [`ValidatedCluster`] or every problem found, each saying
//! what to fix.
//!
//! The CRD's schema and CEL rules reject most of these at admission; this step checks them again
//! (an API server may skip CEL, or run an older CRD) plus what only the operator knows, such as
//! name lengths that would break StatefulSet pod names.

mod external;
mod security;

use std::fmt;

use crate::crd::{
    BrokerRole, RESERVED_CONFIG_KEYS, RESERVED_CONFIG_PREFIX, RocketCluster, RocketClusterSpec,
    StorageType,
};

/// Longest StatefulSet name Kubernetes accepts in practice: the controller-revision-hash label
/// value `<name>-<10 chars>` must fit in 63 characters.
const MAX_STATEFULSET_NAME: usize = 52;

/// Facts about the Kubernetes cluster the operator runs in, not found in the resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// DNS domain of the cluster (`cluster.local` unless the cluster was set up otherwise).
    pub cluster_domain: String,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            cluster_domain: "cluster.local".to_owned(),
        }
    }
}

/// A `RocketCluster` whose spec passed validation, with its identity resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedCluster {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`, for owner references.
    pub uid: String,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// The validated spec.
    pub spec: RocketClusterSpec,
    /// Where the cluster runs.
    pub environment: Environment,
}

impl ValidatedCluster {
    /// Number of broker groups.
    pub fn groups(&self) -> u32 {
        u32::try_from(self.spec.broker.groups).unwrap_or(0)
    }

    /// Pods per broker group: the master plus its slaves.
    pub fn pods_per_group(&self) -> u32 {
        1 + u32::try_from(self.spec.broker.replicas_per_group).unwrap_or(0)
    }

    /// Number of name servers.
    pub fn name_servers(&self) -> u32 {
        u32::try_from(self.spec.name_server.replicas).unwrap_or(0)
    }
}

/// One thing wrong with a spec: where, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending field.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The spec cannot be turned into a cluster.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct InvalidSpec {
    /// Every problem found, in field order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for InvalidSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

/// Checks `cluster` and returns the model every builder works from.
pub fn validate(
    cluster: &RocketCluster,
    env: &Environment,
) -> Result<ValidatedCluster, InvalidSpec> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(Problem {
            field: field.to_owned(),
            message,
        })
    };
    let meta = &cluster.metadata;
    let name = meta.name.clone().unwrap_or_default();
    let namespace = meta.namespace.clone().unwrap_or_default();
    let uid = meta.uid.clone().unwrap_or_default();
    if name.is_empty() {
        problem("metadata.name", "the RocketCluster has no name".to_owned());
    }
    if namespace.is_empty() {
        problem(
            "metadata.namespace",
            "the RocketCluster has no namespace".to_owned(),
        );
    }
    if uid.is_empty() {
        problem(
            "metadata.uid",
            "the RocketCluster has no uid yet (not read from the API server)".to_owned(),
        );
    }
    let spec = &cluster.spec;

    if spec.image.broker.trim().is_empty() {
        problem("spec.image.broker", "set a broker image".to_owned());
    }
    if spec.image.name_server.trim().is_empty() {
        problem(
            "spec.image.nameServer",
            "set a name server image".to_owned(),
        );
    }
    if !(1..=9).contains(&spec.name_server.replicas) {
        problem(
            "spec.nameServer.replicas",
            format!(
                "{} name servers is out of range: use 1 to 9",
                spec.name_server.replicas
            ),
        );
    }
    let broker = &spec.broker;
    if !(1..=64).contains(&broker.groups) {
        problem(
            "spec.broker.groups",
            format!(
                "{} broker groups is out of range: use 1 to 64",
                broker.groups
            ),
        );
    }
    if !(0..=8).contains(&broker.replicas_per_group) {
        problem(
            "spec.broker.replicasPerGroup",
            format!(
                "{} slaves per group is out of range: use 0 to 8",
                broker.replicas_per_group
            ),
        );
    }
    if broker.broker_role == BrokerRole::SyncMaster && broker.replicas_per_group < 1 {
        problem(
            "spec.broker.replicasPerGroup",
            "brokerRole SYNC_MASTER waits for a slave to acknowledge every write: set \
             spec.broker.replicasPerGroup to at least 1, or use ASYNC_MASTER"
                .to_owned(),
        );
    }
    for (key, value) in &broker.config {
        if let Some((_, hint)) = RESERVED_CONFIG_KEYS.iter().find(|(k, _)| k == key) {
            problem(
                &format!("spec.broker.config.{key}"),
                format!("remove {key} from spec.broker.config: {hint}"),
            );
        } else if key.starts_with(RESERVED_CONFIG_PREFIX.0) {
            problem(
                &format!("spec.broker.config.{key}"),
                format!(
                    "remove the {}* keys from spec.broker.config: {}",
                    RESERVED_CONFIG_PREFIX.0, RESERVED_CONFIG_PREFIX.1
                ),
            );
        } else if !is_property_key(key) {
            problem(
                &format!("spec.broker.config.{key}"),
                "a broker.conf key starts with a letter and holds only letters, digits, '.', '_' \
                 or '-'"
                    .to_owned(),
            );
        }
        if value.contains(['\n', '\r']) {
            problem(
                &format!("spec.broker.config.{key}"),
                "broker.conf values are one line: remove the line break".to_owned(),
            );
        }
    }
    if broker.storage.size.0.trim().is_empty() {
        problem(
            "spec.broker.storage.size",
            "set a size such as 20Gi".to_owned(),
        );
    }
    if broker.storage.type_ == StorageType::Ephemeral && broker.storage.storage_class_name.is_some()
    {
        problem(
            "spec.broker.storage.storageClassName",
            "storageClassName only applies to Persistent storage: remove it or set type: \
             Persistent"
                .to_owned(),
        );
    }
    let metrics_port = spec.metrics.port;
    if !(1024..=65535).contains(&metrics_port) {
        problem(
            "spec.metrics.port",
            format!("{metrics_port} is out of range: use 1024 to 65535"),
        );
    } else if [9876, 10909, 10911, 10912].contains(&metrics_port) {
        problem(
            "spec.metrics.port",
            "spec.metrics.port collides with a RocketMQ port (9876 name server, 10909/10911/10912 broker): pick another, e.g. 5557"
                .to_owned(),
        );
    }
    security::check(spec, &mut problem);
    external::check(spec, &mut problem);
    if !name.is_empty() {
        let last_group = broker.groups.max(1) - 1;
        let longest = format!("{name}-broker-{last_group}");
        if longest.len() > MAX_STATEFULSET_NAME {
            problem(
                "metadata.name",
                format!(
                    "the StatefulSet name {longest} would be {} characters; Kubernetes allows \
                     {MAX_STATEFULSET_NAME}: use a name of at most {} characters",
                    longest.len(),
                    name.len() - (longest.len() - MAX_STATEFULSET_NAME)
                ),
            );
        }
    }

    if !problems.is_empty() {
        return Err(InvalidSpec { problems });
    }
    Ok(ValidatedCluster {
        name,
        namespace,
        uid,
        generation: meta.generation,
        spec: spec.clone(),
        environment: env.clone(),
    })
}

fn is_property_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(yaml: &str) -> RocketCluster {
        serde_yaml::from_str(yaml).expect("fixture parses")
    }

    const HEADER: &str = "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {name: demo, namespace: mq, uid: u-1, generation: 3}\n";

    #[test]
    fn minimal_spec_validates_with_defaults() {
        let c = cluster(&format!("{HEADER}spec: {{}}"));
        let v = validate(&c, &Environment::default()).expect("valid");
        assert_eq!(
            (v.groups(), v.pods_per_group(), v.name_servers()),
            (1, 1, 2)
        );
        assert_eq!(v.generation, Some(3));
    }

    #[test]
    fn reserved_config_keys_are_rejected_with_the_field_to_use_instead() {
        let c = cluster(&format!(
            "{HEADER}spec:\n  broker:\n    config: {{brokerRole: SLAVE, deleteWhen: '04'}}"
        ));
        let err = validate(&c, &Environment::default()).expect_err("invalid");
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].field, "spec.broker.config.brokerRole");
        assert!(
            err.to_string()
                .contains("set spec.broker.brokerRole instead")
        );
    }

    #[test]
    fn security_keys_in_broker_config_are_rejected_pointing_at_spec_security() {
        let c = cluster(&format!(
            "{HEADER}spec:\n  broker:\n    config: {{aclEnable: 'true', tls.server.mode: enforcing, tlsLike: x}}"
        ));
        let err = validate(&c, &Environment::default()).expect_err("invalid");
        let fields: Vec<_> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.broker.config.aclEnable",
                "spec.broker.config.tls.server.mode"
            ]
        );
        assert!(
            err.problems[0]
                .message
                .contains("spec.security.acl.enabled")
        );
        assert!(
            err.problems[1]
                .message
                .contains("set spec.security.tls instead")
        );
    }

    #[test]
    fn sync_master_without_slaves_is_rejected() {
        let c = cluster(&format!(
            "{HEADER}spec:\n  broker: {{brokerRole: SYNC_MASTER}}"
        ));
        let err = validate(&c, &Environment::default()).expect_err("invalid");
        assert!(err.to_string().contains("replicasPerGroup to at least 1"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let c = cluster(&format!(
            "{HEADER}spec:\n  nameServer: {{replicas: 0}}\n  broker:\n    groups: 0\n    config: {{'9bad': x, ok: \"a\\nb\"}}"
        ));
        let err = validate(&c, &Environment::default()).expect_err("invalid");
        let fields: Vec<_> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.nameServer.replicas",
                "spec.broker.groups",
                "spec.broker.config.9bad",
                "spec.broker.config.ok"
            ]
        );
    }

    #[test]
    fn a_name_too_long_for_statefulset_pods_says_how_long_it_may_be() {
        let long = "a".repeat(50);
        let c = cluster(&format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: {long}, namespace: mq, uid: u}}\nspec: {{broker: {{groups: 10}}}}"
        ));
        let err = validate(&c, &Environment::default()).expect_err("invalid");
        assert!(
            err.to_string()
                .contains("use a name of at most 43 characters"),
            "{err}"
        );
    }

    #[test]
    fn a_metrics_port_on_a_rocketmq_port_or_out_of_range_is_rejected() {
        for (port, says) in [(10911, "collides"), (80, "out of range")] {
            let yaml = format!("{HEADER}spec: {{metrics: {{enabled: true, port: {port}}}}}");
            let error = validate(&cluster(&yaml), &Environment::default()).unwrap_err();
            let text = error.to_string();
            assert!(
                text.contains("spec.metrics.port") && text.contains(says),
                "{text}"
            );
        }
        let fine = cluster(&format!("{HEADER}spec: {{metrics: {{enabled: true}}}}"));
        assert!(validate(&fine, &Environment::default()).is_ok());
    }

    #[test]
    fn storage_class_on_ephemeral_storage_is_rejected() {
        let c = cluster(&format!(
            "{HEADER}spec:\n  broker:\n    storage: {{type: Ephemeral, storageClassName: fast}}"
        ));
        let err = validate(&c, &Environment::default()).expect_err("invalid");
        assert_eq!(
            err.problems[0].field,
            "spec.broker.storage.storageClassName"
        );
    }
}
