//! PodDisruptionBudgets: at most one pod of a group (or of the name servers) evicted at a time,
//! so a voluntary disruption never takes a master and its slave together.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{self, Component};
use super::{metadata, names};
use crate::validate::ValidatedCluster;

/// Budget of the name servers.
pub fn namesrv(cluster: &ValidatedCluster) -> PodDisruptionBudget {
    budget(cluster, names::namesrv(cluster), Component::NameServer)
}

/// Budget of broker group `group`.
pub fn broker_group(cluster: &ValidatedCluster, group: u32) -> PodDisruptionBudget {
    budget(
        cluster,
        names::broker_group(cluster, group),
        Component::BrokerGroup(group),
    )
}

fn budget(cluster: &ValidatedCluster, name: String, component: Component) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: metadata(cluster, name, component),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(labels::selector(cluster, component)),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}
