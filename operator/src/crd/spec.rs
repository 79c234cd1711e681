//! Spec types of `RocketCluster`, with their schema, defaults and CEL rules.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::external::ExternalAccessSpec;
use super::security::SecuritySpec;
use super::status::RocketClusterStatus;

/// Image used for both roles unless the spec says otherwise.
pub const DEFAULT_IMAGE: &str = "ghcr.io/rocketmq-rs/rocketmq:0.1.0";

/// A RocketMQ cluster: name servers plus `groups` broker groups of one master and
/// `replicasPerGroup` slaves each.
// Each printcolumn repeats `type_ = ...`, which clippy takes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rocketmq.rs",
    version = "v1alpha1",
    kind = "RocketCluster",
    plural = "rocketclusters",
    shortname = "rmq",
    category = "rocketmq",
    namespaced,
    status = "RocketClusterStatus",
    derive = "PartialEq",
    doc = "A RocketMQ cluster: name servers and broker groups (one master, N slaves each)",
    scale(
        spec_replicas_path = ".spec.broker.groups",
        status_replicas_path = ".status.brokerGroups",
        label_selector_path = ".status.selector"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Available\")].status",
        description = "whether every name server and broker pod is ready"
    ),
    printcolumn(
        name = "Groups",
        type_ = "integer",
        json_path = ".spec.broker.groups",
        description = "number of broker groups"
    ),
    printcolumn(
        name = "Replicas/Group",
        type_ = "integer",
        json_path = ".spec.broker.replicasPerGroup",
        description = "slaves per broker group"
    ),
    printcolumn(
        name = "Role",
        type_ = "string",
        json_path = ".spec.broker.brokerRole",
        description = "role of each group's master"
    ),
    printcolumn(
        name = "Flush",
        type_ = "string",
        json_path = ".spec.broker.flushDiskType",
        description = "when the broker acknowledges a write"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct RocketClusterSpec {
    /// Container images of the name server and broker pods.
    #[serde(default)]
    pub image: ImageSpec,
    /// The name servers (a StatefulSet behind a headless Service).
    #[serde(default)]
    pub name_server: NameServerSpec,
    /// The broker groups (one StatefulSet per group).
    #[serde(default)]
    pub broker: BrokerSpec,
    /// Prometheus metrics of every name server and broker pod.
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// ACL and TLS. Changing them rolls the pods; renewed certificates and a changed ACL Secret
    /// do not (the processes re-read those files).
    #[serde(default)]
    pub security: SecuritySpec,
    /// Operational switches.
    #[serde(default)]
    pub cluster_operation: ClusterOperation,
}

/// Container images.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// Image running `rmq-broker`.
    #[serde(default = "default_image")]
    #[schemars(length(min = 1))]
    pub broker: String,
    /// Image running `rmq-namesrv`.
    #[serde(default = "default_image")]
    #[schemars(length(min = 1))]
    pub name_server: String,
    /// Pull policy of both images.
    #[serde(default)]
    pub pull_policy: PullPolicy,
    /// Names of Secrets in the cluster's namespace used to pull the images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_secrets: Vec<String>,
}

impl Default for ImageSpec {
    fn default() -> Self {
        Self {
            broker: default_image(),
            name_server: default_image(),
            pull_policy: PullPolicy::default(),
            pull_secrets: Vec::new(),
        }
    }
}

fn default_image() -> String {
    DEFAULT_IMAGE.to_owned()
}

/// Kubernetes image pull policy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    /// Always pull.
    Always,
    /// Pull when absent from the node.
    #[default]
    IfNotPresent,
    /// Never pull.
    Never,
}

impl PullPolicy {
    /// The value Kubernetes expects in `imagePullPolicy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// The name servers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameServerSpec {
    /// Number of name servers; brokers register with every one of them.
    #[serde(default = "default_name_servers")]
    #[schemars(range(min = 1, max = 9))]
    pub replicas: i32,
    /// CPU and memory of each name server container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Replaces the default (preferred spreading of name servers across nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Where each name server keeps its KV config (`kvConfigPath`, what `mqadmin
    /// updateKvConfig` and order-topic configs write).
    #[serde(default)]
    pub storage: NameServerStorageSpec,
    /// Name servers reachable from outside the Kubernetes cluster: a Service per name server
    /// (`<cluster>-namesrv-<o>-external`, port 9876), their addresses in
    /// `status.externalAddresses` and, behind load balancers, the `namesrvAddr` to give outside
    /// clients in `status.externalNameServerAddress`. Brokers need their own
    /// `spec.broker.externalAccess` for those clients to reach them too.
    #[serde(default)]
    pub external_access: ExternalAccessSpec,
}

impl Default for NameServerSpec {
    fn default() -> Self {
        Self {
            replicas: default_name_servers(),
            resources: None,
            affinity: None,
            storage: NameServerStorageSpec::default(),
            external_access: ExternalAccessSpec::default(),
        }
    }
}

/// A name server's volume for its KV config.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.type != 'Ephemeral' || !has(self.storageClassName)").message("spec.nameServer.storage.storageClassName only applies to Persistent storage: remove it or set type: Persistent"),
    validation = Rule::new("self.type == oldSelf.type").message("spec.nameServer.storage.type cannot change on a running cluster"),
    validation = Rule::new("has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)").message("spec.nameServer.storage.storageClassName cannot change: existing volumes keep their class"),
    validation = Rule::new("self.type != 'Persistent' || quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0").message("spec.nameServer.storage.size cannot shrink: a PersistentVolumeClaim only grows"),
)]
pub struct NameServerStorageSpec {
    /// `Ephemeral` (default: an emptyDir, kept across container restarts, lost with the pod;
    /// brokers re-register their routes within 30 s, so only KV entries are lost) or
    /// `Persistent` (one PVC per name server, KV entries kept across pods).
    #[serde(default = "default_namesrv_storage_type", rename = "type")]
    pub type_: StorageType,
    /// Size of the volume (the emptyDir limit when Ephemeral).
    #[serde(default = "default_namesrv_storage_size")]
    pub size: Quantity,
    /// StorageClass of the PVCs; the cluster default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

impl Default for NameServerStorageSpec {
    fn default() -> Self {
        Self {
            type_: default_namesrv_storage_type(),
            size: default_namesrv_storage_size(),
            storage_class_name: None,
        }
    }
}

fn default_namesrv_storage_type() -> StorageType {
    StorageType::Ephemeral
}

fn default_namesrv_storage_size() -> Quantity {
    Quantity("1Gi".to_owned())
}

fn default_name_servers() -> i32 {
    2
}

/// The broker groups.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(
        "!has(self.brokerRole) || self.brokerRole != 'SYNC_MASTER' || (has(self.replicasPerGroup) && self.replicasPerGroup >= 1)"
    ).message("brokerRole SYNC_MASTER waits for a slave to acknowledge every write: set spec.broker.replicasPerGroup to at least 1, or use ASYNC_MASTER"),
    validation = Rule::new(
        "!has(self.externalAccess) || !has(self.externalAccess.type) || self.externalAccess.type != 'NodePort' || has(self.externalAccess.nodePortBase)"
    ).message("spec.broker.externalAccess type NodePort needs nodePortBase: each broker listens on a node port of its own, counted from it"),
)]
pub struct BrokerSpec {
    /// Number of broker groups; group `g` is named `<cluster>-broker-<g>`.
    #[serde(default = "default_groups")]
    #[schemars(range(min = 1, max = 64))]
    pub groups: i32,
    /// Slaves per group: each group runs `1 + replicasPerGroup` pods, ordinal 0 being the master.
    #[serde(default)]
    #[schemars(range(min = 0, max = 8))]
    pub replicas_per_group: i32,
    /// Role of each group's master; slaves get `SLAVE` from the operator.
    #[serde(default)]
    pub broker_role: BrokerRole,
    /// When a write is acknowledged: after the page cache (`ASYNC_FLUSH`) or after fsync (`SYNC_FLUSH`).
    #[serde(default)]
    pub flush_disk_type: FlushDiskType,
    /// Other `broker.conf` keys, written verbatim into every broker of the cluster.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[x_kube(
        validation = Rule::new("!('brokerName' in self)").message("remove brokerName from spec.broker.config: the operator names each group <cluster>-broker-<group>"),
        validation = Rule::new("!('brokerId' in self)").message("remove brokerId from spec.broker.config: the operator sets it to the pod ordinal (0 is the master)"),
        validation = Rule::new("!('brokerRole' in self)").message("remove brokerRole from spec.broker.config: set spec.broker.brokerRole instead (slaves are assigned by the operator)"),
        validation = Rule::new("!('brokerClusterName' in self)").message("remove brokerClusterName from spec.broker.config: the operator uses the RocketCluster's name"),
        validation = Rule::new("!('namesrvAddr' in self)").message("remove namesrvAddr from spec.broker.config: the operator points brokers at its own name servers"),
        validation = Rule::new("!('brokerIP1' in self)").message("remove brokerIP1 from spec.broker.config: the operator advertises each pod's stable DNS name, or its outside address with spec.broker.externalAccess"),
        validation = Rule::new("!('brokerIP2' in self)").message("remove brokerIP2 from spec.broker.config: slaves replicate from each master's stable DNS name"),
        validation = Rule::new("!('listenPort' in self)").message("remove listenPort from spec.broker.config: the operator fixes the broker port to 10911, or to a node port each with spec.broker.externalAccess NodePort"),
        validation = Rule::new("!('flushDiskType' in self)").message("remove flushDiskType from spec.broker.config: set spec.broker.flushDiskType instead"),
        validation = Rule::new("!('storePathRootDir' in self)").message("remove storePathRootDir from spec.broker.config: the operator keeps the store on the data volume"),
        validation = Rule::new("!('metricsExporterType' in self)").message("remove metricsExporterType from spec.broker.config: set spec.metrics.enabled instead (the pods then declare the metrics port)"),
        validation = Rule::new("!('metricsPromExporterPort' in self)").message("remove metricsPromExporterPort from spec.broker.config: set spec.metrics.port instead"),
        validation = Rule::new("!('healthListenPort' in self)").message("remove healthListenPort from spec.broker.config: the operator fixes it to 10914, which the pods' probes ask"),
        validation = Rule::new("!('aclEnable' in self)").message("remove aclEnable from spec.broker.config: set spec.security.acl.enabled instead"),
        validation = Rule::new("!('rocketmqHome' in self)").message("remove rocketmqHome from spec.broker.config: the operator points it at the mounted spec.security.acl.secretName"),
        validation = Rule::new("!('innerClientAuthenticationCredentials' in self)").message("remove innerClientAuthenticationCredentials from spec.broker.config: put the account in a Secret and name it in spec.security.acl.innerCredentialsSecret"),
        validation = Rule::new("!('useTLS' in self)").message("remove useTLS from spec.broker.config: the operator derives it from spec.security.tls"),
        validation = Rule::new("self.all(k, !k.startsWith('tls.'))").message("remove the tls.* keys from spec.broker.config: set spec.security.tls instead"),
    )]
    pub config: BTreeMap<String, String>,
    /// CPU and memory of each broker container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Where each broker keeps its store.
    #[serde(default)]
    pub storage: StorageSpec,
    /// What happens to the broker volumes when pods are scaled away or the cluster is deleted.
    #[serde(default)]
    pub pvc_retention: PvcRetention,
    /// One PodDisruptionBudget per group (and one for the name servers), `maxUnavailable: 1`.
    #[serde(default)]
    pub pod_disruption_budget: PodDisruptionBudgetSpec,
    /// Replaces the default affinity (preferred spreading of one group's pods across nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Brokers reachable from outside the Kubernetes cluster: a Service per pod
    /// (`<cluster>-broker-<g>-<o>-external`, the broker port and its VIP channel, port − 2),
    /// and each broker registers that outside address with the name servers, so the routes
    /// clients get lead there (clients inside the cluster use it too). Slaves still replicate
    /// over the cluster's DNS names (`brokerIP2`).
    #[serde(default)]
    pub external_access: ExternalAccessSpec,
}

impl Default for BrokerSpec {
    fn default() -> Self {
        Self {
            groups: default_groups(),
            replicas_per_group: 0,
            broker_role: BrokerRole::default(),
            flush_disk_type: FlushDiskType::default(),
            config: BTreeMap::new(),
            resources: None,
            storage: StorageSpec::default(),
            pvc_retention: PvcRetention::default(),
            pod_disruption_budget: PodDisruptionBudgetSpec::default(),
            affinity: None,
            external_access: ExternalAccessSpec::default(),
        }
    }
}

fn default_groups() -> i32 {
    1
}

/// Role of a group's master.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BrokerRole {
    /// Acknowledge before slaves have the message.
    #[default]
    AsyncMaster,
    /// Acknowledge once a slave has the message.
    SyncMaster,
}

impl BrokerRole {
    /// The value written to `broker.conf`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AsyncMaster => "ASYNC_MASTER",
            Self::SyncMaster => "SYNC_MASTER",
        }
    }
}

/// Flush mode of the CommitLog.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlushDiskType {
    /// Acknowledge after the page cache has the message.
    #[default]
    AsyncFlush,
    /// Acknowledge after fsync.
    SyncFlush,
}

impl FlushDiskType {
    /// The value written to `broker.conf`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AsyncFlush => "ASYNC_FLUSH",
            Self::SyncFlush => "SYNC_FLUSH",
        }
    }
}

/// Broker storage.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.type != 'Ephemeral' || !has(self.storageClassName)").message("spec.broker.storage.storageClassName only applies to Persistent storage: remove it or set type: Persistent"),
    validation = Rule::new("self.type == oldSelf.type").message("spec.broker.storage.type cannot change on a running cluster: the brokers' data would not follow; create a new RocketCluster and move the topics over"),
    validation = Rule::new("has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)").message("spec.broker.storage.storageClassName cannot change: existing volumes keep their class (Kubernetes cannot move a PVC to another StorageClass)"),
    validation = Rule::new("self.type != 'Persistent' || quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0").message("spec.broker.storage.size cannot shrink: a PersistentVolumeClaim only grows"),
)]
pub struct StorageSpec {
    /// `Persistent` (one PVC per pod) or `Ephemeral` (an emptyDir, lost with the pod).
    #[serde(default, rename = "type")]
    pub type_: StorageType,
    /// Size of each broker's volume (the emptyDir limit when Ephemeral). A Persistent size may
    /// grow on a running cluster: every claim is expanded (its StorageClass must allow volume
    /// expansion) and the StatefulSet recreated keeping its pods; it never shrinks.
    #[serde(default = "default_storage_size")]
    pub size: Quantity,
    /// StorageClass of the PVCs; the cluster default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

impl Default for StorageSpec {
    fn default() -> Self {
        Self {
            type_: StorageType::default(),
            size: default_storage_size(),
            storage_class_name: None,
        }
    }
}

fn default_storage_size() -> Quantity {
    Quantity("10Gi".to_owned())
}

/// Kind of broker storage.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum StorageType {
    /// A PersistentVolumeClaim per pod, kept across restarts.
    #[default]
    Persistent,
    /// An emptyDir: data is lost when the pod leaves its node.
    Ephemeral,
}

/// StatefulSet `persistentVolumeClaimRetentionPolicy` of the broker groups.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PvcRetention {
    /// When slaves are removed (replicasPerGroup lowered).
    #[serde(default)]
    pub when_scaled: PvcRetentionPolicy,
    /// When the group or the whole cluster is deleted.
    #[serde(default)]
    pub when_deleted: PvcRetentionPolicy,
}

/// Keep or delete a claim.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum PvcRetentionPolicy {
    /// Keep the claim (and the messages on it).
    #[default]
    Retain,
    /// Delete the claim.
    Delete,
}

impl PvcRetentionPolicy {
    /// The value Kubernetes expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retain => "Retain",
            Self::Delete => "Delete",
        }
    }
}

/// PodDisruptionBudget toggle.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudgetSpec {
    /// Create the budgets (`maxUnavailable: 1` per group and for the name servers).
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for PodDisruptionBudgetSpec {
    fn default() -> Self {
        Self { enabled: true }
    }
}

fn default_true() -> bool {
    true
}

/// Prometheus metrics (`metricsExporterType=PROM` on every broker and name server).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(self.port in [9876, 10909, 10911, 10912])").message("spec.metrics.port collides with a RocketMQ port (9876 name server, 10909/10911/10912 broker): pick another, e.g. 5557"))]
pub struct MetricsSpec {
    /// Serve `/metrics` on `port` in every pod, declared as the container port `metrics` (what a
    /// PodMonitor or ServiceMonitor selects). Changing it rolls the pods.
    #[serde(default)]
    pub enabled: bool,
    /// Port of `/metrics` (`metricsPromExporterPort`).
    #[serde(default = "default_metrics_port")]
    #[schemars(range(min = 1024, max = 65535))]
    pub port: i32,
}

impl Default for MetricsSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            port: default_metrics_port(),
        }
    }
}

fn default_metrics_port() -> i32 {
    5557
}

/// Operational switches.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOperation {
    /// While true the operator changes no child object; it only reports status.
    #[serde(default)]
    pub reconciliation_paused: bool,
    /// A group being removed is deleted with messages its consumers have not consumed once
    /// this many seconds have passed since its writes came off; absent: the drain waits for
    /// the consumers however long it takes (or for the `rocketmq.rs/force-drain: "true"`
    /// annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub drain_timeout_seconds: Option<i64>,
}
