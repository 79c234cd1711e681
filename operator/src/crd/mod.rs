//! The `RocketCluster` custom resource (`rocketmq.rs/v1alpha1`).
//!
//! | module | what |
//! |---|---|
//! | [`spec`] | the user's desired state: images, name servers, broker groups, operations |
//! | [`security`] | `spec.security`: ACL from a Secret, TLS per role from a Secret or cert-manager |
//! | [`external`] | `externalAccess` of brokers and name servers: a NodePort or LoadBalancer Service per pod |
//! | [`status`] | what the operator observed: conditions, ready replicas per group, NS address |
//!
//! The CRD YAML is generated from these types by the `crdgen` binary ([`crate::crdgen`]); the
//! CEL rules (`x-kubernetes-validations`) that reject operator-owned `broker.conf` keys live on
//! [`spec::BrokerSpec::config`]; the rules of `spec.security` live on [`security`]'s types.

pub mod external;
pub mod security;
pub mod spec;
pub mod status;

pub use external::{ExternalAccessSpec, ExternalAccessType};
pub use security::{
    AclSpec, BrokerClientTls, ClientAuth, IssuerKind, IssuerRef, SecuritySpec, TlsMode, TlsRole,
    TlsRoleSpec, TlsSpec, TrustSource,
};

pub use spec::{
    BrokerRole, BrokerSpec, ClusterOperation, FlushDiskType, ImageSpec, NameServerSpec,
    NameServerStorageSpec, PodDisruptionBudgetSpec, PullPolicy, PvcRetention, PvcRetentionPolicy,
    RocketCluster, RocketClusterSpec, StorageSpec, StorageType,
};
pub use status::{
    ConditionType, DrainStatus, ExternalAddress, GroupStatus, RocketClusterStatus, RollStatus,
};

/// API group of every custom resource of this operator.
pub const GROUP: &str = "rocketmq.rs";
/// The served and stored version.
pub const VERSION: &str = "v1alpha1";

/// `broker.conf` keys the operator writes itself, with what the user should do instead.
///
/// The CRD rejects them through CEL rules and [`crate::validate`] rejects them again (for API
/// servers that skip CEL), both with the hint given here.
pub const RESERVED_CONFIG_KEYS: &[(&str, &str)] = &[
    (
        "brokerName",
        "the operator names each group <cluster>-broker-<group>",
    ),
    (
        "brokerId",
        "the operator sets brokerId to the pod ordinal (0 is the master)",
    ),
    (
        "brokerRole",
        "set spec.broker.brokerRole instead (slaves are assigned by the operator)",
    ),
    (
        "brokerClusterName",
        "the operator uses the RocketCluster's name",
    ),
    (
        "namesrvAddr",
        "the operator points brokers at its own name servers",
    ),
    (
        "brokerIP1",
        "the operator advertises each pod's stable DNS name, or its outside address with spec.broker.externalAccess",
    ),
    (
        "brokerIP2",
        "slaves replicate from each master's stable DNS name",
    ),
    (
        "listenPort",
        "the operator fixes the broker port to 10911, or to a node port each with spec.broker.externalAccess NodePort",
    ),
    ("flushDiskType", "set spec.broker.flushDiskType instead"),
    (
        "storePathRootDir",
        "the operator keeps the store on the data volume",
    ),
    (
        "metricsExporterType",
        "set spec.metrics.enabled instead (the pods then declare the metrics port)",
    ),
    ("metricsPromExporterPort", "set spec.metrics.port instead"),
    (
        "healthListenPort",
        "the operator fixes it to 10914, which the pods' probes ask",
    ),
    ("aclEnable", "set spec.security.acl.enabled instead"),
    (
        "rocketmqHome",
        "the operator points it at the mounted spec.security.acl.secretName",
    ),
    (
        "innerClientAuthenticationCredentials",
        "put the account in a Secret and name it in spec.security.acl.innerCredentialsSecret",
    ),
    ("useTLS", "the operator derives it from spec.security.tls"),
];

/// Prefix of the `broker.conf` TLS keys, all written by the operator from `spec.security.tls`.
pub const RESERVED_CONFIG_PREFIX: (&str, &str) = ("tls.", "set spec.security.tls instead");
