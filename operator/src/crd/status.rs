//! Status of `RocketCluster`: what `kubectl get` and `kubectl describe` show.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Observed state, written by the operator with server-side apply.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RocketClusterStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Available`, `Progressing`, `Degraded` and `ReconciliationPaused`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The `namesrvAddr` clients should use (stable DNS names, `;`-separated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_server_address: Option<String>,
    /// Ready name server pods.
    #[serde(default)]
    pub name_server_ready_replicas: i32,
    /// Broker groups that exist (the scale subresource's `status.replicas`).
    #[serde(default)]
    pub broker_groups: i32,
    /// Label selector of the broker pods (the scale subresource's selector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// One entry per broker group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupStatus>,
    /// Groups of the spec that have the cluster's topics and subscription groups (a group added
    /// by a scale-out gets them from a live master before it is listed). Absent on a cluster
    /// this field is new to: every group running then counts as synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_groups: Option<Vec<String>>,
    /// Groups being removed (scale-in), drained before they are deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drains: Vec<DrainStatus>,
    /// The name-server list every broker was last seen running with. When the spec's differs,
    /// running brokers are given the new list (no restart) once every name server is ready,
    /// and name servers being removed stay until then. Absent on a cluster this field is new
    /// to: the brokers then run with the spec's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brokers_name_server_address: Option<String>,
    /// The broker group rolling now (one at a time), while it rolls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll: Option<RollStatus>,
    /// Every pod reachable from outside the Kubernetes cluster (`externalAccess`): name
    /// servers, then brokers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_addresses: Vec<ExternalAddress>,
    /// The `namesrvAddr` for clients outside the Kubernetes cluster, once every name server's
    /// load balancer has an address (`spec.nameServer.externalAccess` LoadBalancer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name_server_address: Option<String>,
}

/// A group whose pods restart in turn: writes off it while another group takes them (the
/// clients' route refresh waited out, its master storing no more sends), slaves first, each
/// ready and caught up, then the master; writes back once the whole group is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollStatus {
    /// The group (`<cluster>-broker-<g>`).
    pub name: String,
    /// When its writes were taken off on every name server; absent while they are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_held_since: Option<String>,
    /// What the roll waits for now.
    #[serde(default)]
    pub message: String,
}

/// A pod reachable from outside the Kubernetes cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalAddress {
    /// The pod.
    pub pod: String,
    /// Its external Service.
    pub service: String,
    /// `NodePort` or `LoadBalancer`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `host:port` of its load balancer, once the cloud has assigned one. Absent for a node
    /// port: which node's IP to use is not the operator's to know (any node's, for a name
    /// server; a broker advertises the IP of the node it runs on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The node port of its RocketMQ port (a broker's VIP channel is the one 2 below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
}

/// A group being removed: its writes are off on every name server and it is deleted once its
/// consumers have consumed everything on it (or the drain is forced, or times out).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DrainStatus {
    /// The group's `brokerName`.
    pub name: String,
    /// When its writes came off (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_held_since: Option<String>,
    /// Messages on it some consumer group has not consumed (a topic nobody consumes counts
    /// whole); absent until measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_left: Option<i64>,
    /// What the drain waits for.
    #[serde(default)]
    pub message: String,
}

/// Replicas of one broker group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    /// The group's `brokerName`.
    pub name: String,
    /// Pods wanted (master plus slaves).
    pub replicas: i32,
    /// Pods ready.
    pub ready_replicas: i32,
    /// Pods running the current configuration.
    pub updated_replicas: i32,
}

/// The condition types this operator sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionType {
    /// Every name server and broker pod is ready.
    Available,
    /// Pods are being created or rolled.
    Progressing,
    /// The spec is invalid or the last reconcile failed.
    Degraded,
    /// `clusterOperation.reconciliationPaused` is set.
    ReconciliationPaused,
}

impl ConditionType {
    /// The `type` string of the condition.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::Progressing => "Progressing",
            Self::Degraded => "Degraded",
            Self::ReconciliationPaused => "ReconciliationPaused",
        }
    }
}
