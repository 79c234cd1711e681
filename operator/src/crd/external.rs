//! `spec.broker.externalAccess` and `spec.nameServer.externalAccess`: reaching the pods from
//! outside the Kubernetes cluster, through one Service per pod.

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// First port of Kubernetes' default node-port range (`--service-node-port-range`).
pub const NODE_PORT_MIN: i32 = 30000;
/// Last port of Kubernetes' default node-port range.
pub const NODE_PORT_MAX: i32 = 32767;

/// Main node port of broker pod `index` (group × pods per group + ordinal) when the first node
/// port is `base`: the broker's `listenPort`; its VIP channel is this − 2 (see
/// [`ExternalAccessSpec::node_port_base`]).
pub fn broker_node_port(base: i32, index: u32) -> i64 {
    i64::from(base) + 4 * i64::from(index / 2) + i64::from(index % 2) + 2
}

/// The highest node port `pods` brokers take from `base` (their lowest is `base` itself).
pub fn last_broker_node_port(base: i32, pods: u32) -> i64 {
    broker_node_port(base, pods.max(1) - 1)
}

/// How the pods of one role are reached from outside the Kubernetes cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.nodePortBase) || (has(self.type) && self.type == 'NodePort')").message("nodePortBase only applies to type NodePort: remove it or set type: NodePort"))]
pub struct ExternalAccessSpec {
    /// `None` (default: cluster DNS names only), `NodePort` or `LoadBalancer`: one Service of
    /// this type per pod, named `<pod>-external`. It may change on a running cluster: brokers
    /// restart through the usual roll (the address they advertise changes), name servers do
    /// not; Services no longer asked for are deleted once the brokers' roll is over.
    #[serde(default, rename = "type")]
    pub type_: ExternalAccessType,
    /// Annotations of each external Service (a cloud's load-balancer settings, say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// First node port, type NodePort only (30000 to 32767). Brokers need it: pod i of the
    /// cluster (i = group × pods per group + ordinal, ordinal 0 the master) listens on node
    /// port `nodePortBase + 4⌊i/2⌋ + i mod 2 + 2` as its `listenPort` and on that − 2 for the
    /// VIP channel of Java clients, so every two pods take the next four ports and no two
    /// collide. Changing `replicasPerGroup` renumbers the pods (and restarts them); a group
    /// added at the end does not. Name servers: name server o gets `nodePortBase + o`; absent,
    /// Kubernetes picks one (shown in `status.externalAddresses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30000, max = 32767))]
    pub node_port_base: Option<i32>,
}

/// Kind of the per-pod Services.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ExternalAccessType {
    /// No external Service: the pods are reached by their cluster DNS names only.
    #[default]
    None,
    /// A NodePort Service per pod. A broker advertises the IP of the node it runs on (the
    /// node's InternalIP as Kubernetes reports it): for clients on the nodes' network.
    NodePort,
    /// A LoadBalancer Service per pod. A broker advertises its load balancer's address and
    /// waits, not ready, until the cloud has assigned one.
    LoadBalancer,
}

impl ExternalAccessType {
    /// The Service `type`, or `None` for no Service.
    pub fn service_type(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::NodePort => Some("NodePort"),
            Self::LoadBalancer => Some("LoadBalancer"),
        }
    }
}
