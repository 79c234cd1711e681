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
