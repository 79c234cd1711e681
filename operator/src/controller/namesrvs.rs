//! A changed name-server list reaches the running brokers without restarting one: the list is
//! left out of the brokers' config hash ([`crate::build::broker_conf::group_hash`]), so adding
//! or removing a name server rolls no broker; instead, once every name server of the spec is
//! ready, each running broker is given the new list over the admin API (UPDATE_BROKER_CONFIG
//! `namesrvAddr`: it registers with the new ones at once and leaves the old ones), and name
//! servers being removed stay until every broker has it. A broker that restarts reads the list
//! from its config file, which carries it already.
//!
//! ```text
//! spec list vs status.brokersNameServerAddress ──decide (pure)──▶ Current | WaitNamesrvs |
//!     Brokers(ready broker pods to check) ──▶ ask each its list, give it the new one ──▶ remember
//! ```

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;

use super::admin::ClusterAdmin;
use super::apply::PodSeen;
use crate::build::{ClusterResources, names};
use crate::crd::RocketClusterStatus;
use crate::validate::ValidatedCluster;

/// What to do about the brokers' name-server list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every broker runs with the spec's list.
    Current,
    /// Some name server of the spec is not ready: brokers get the list once they all are.
    WaitNamesrvs(Vec<String>),
    /// Check these broker pods (group, ordinal; all ready) and give the list to those that
    /// lack it.
    Brokers(Vec<(u32, u32)>),
    /// These broker pods are not ready: their list is checked once they are.
    WaitBrokers(Vec<String>),
}

/// The list every broker is known to run with: the remembered one, else the spec's.
pub fn remembered(cluster: &ValidatedCluster, old: Option<&RocketClusterStatus>) -> String {
    old.and_then(|s| s.brokers_name_server_address.clone())
        .unwrap_or_else(|| names::namesrv_addr(cluster))
}

/// Whether the brokers may run with another list than the spec's.
pub fn has_work(cluster: &ValidatedCluster, old: Option<&RocketClusterStatus>) -> bool {
    remembered(cluster, old) != names::namesrv_addr(cluster)
}

/// What to do, from the pods of the cluster (by name).
pub fn decide(
    cluster: &ValidatedCluster,
    remembered: &str,
    pods: &BTreeMap<String, PodSeen>,
) -> Decision {
    if remembered == names::namesrv_addr(cluster) {
        return Decision::Current;
    }
    let namesrv = names::namesrv(cluster);
    let not_ready: Vec<String> = (0..cluster.spec.name_server.replicas)
        .map(|o| format!("{namesrv}-{o}"))
        .filter(|pod| !pods.get(pod).is_some_and(|p| p.ready))
        .collect();
    if !not_ready.is_empty() {
        return Decision::WaitNamesrvs(not_ready);
    }
    let brokers: Vec<((u32, u32), bool)> = (0..cluster.groups())
        .flat_map(|g| (0..cluster.pods_per_group()).map(move |o| (g, o)))
        .filter_map(|(g, o)| {
            let pod = pods.get(&names::broker_pod(cluster, g, o))?;
            Some(((g, o), pod.ready))
        })
        .collect();
    let waiting: Vec<String> = brokers
        .iter()
        .filter(|(_, ready)| !ready)
        .map(|((g, o), _)| names::broker_pod(cluster, *g, *o))
        .collect();
    if !waiting.is_empty() {
        return Decision::WaitBrokers(waiting);
    }
    Decision::Brokers(brokers.into_iter().map(|(at, _)| at).collect())
}

/// Keeps name servers being removed while the brokers may still run with a list naming them:
/// the desired name-server StatefulSet keeps the live replica count.
pub fn hold_removal(
    cluster: &ValidatedCluster,
    old: Option<&RocketClusterStatus>,
    resources: &mut ClusterResources,
    live: &[StatefulSet],
) {
    if !has_work(cluster, old) {
        return;
    }
    let name = Some(names::namesrv(cluster));
    let live_replicas = live
        .iter()
        .find(|s| s.metadata.name == name)
        .and_then(|s| s.spec.as_ref()?.replicas);
    if let Some(desired) = resources
        .stateful_sets
        .iter_mut()
        .find(|s| s.metadata.name == name)
        .and_then(|s| s.spec.as_mut())
        && let (Some(live), Some(want)) = (live_replicas, desired.replicas)
        && live > want
    {
        desired.replicas = Some(live);
    }
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The list to remember: every broker runs with it.
    pub remember: Option<String>,
    /// Brokers given the new list in this pass.
    pub told: Vec<String>,
    /// What the pass waits for, in words.
    pub waiting: Option<String>,
}

/// One pass: decide, then check and tell the brokers.
pub async fn run(
    admin: &dyn ClusterAdmin,
    cluster: &ValidatedCluster,
    remembered: &str,
    pods: &BTreeMap<String, PodSeen>,
) -> Outcome {
    let list = names::namesrv_addr(cluster);
    let brokers = match decide(cluster, remembered, pods) {
        Decision::Current => return Outcome::default(),
        Decision::WaitNamesrvs(pods) => {
            return waiting(format!(
                "name servers {} to be ready before the brokers are given the new list",
                pods.join(", ")
            ));
        }
        Decision::WaitBrokers(pods) => {
            return waiting(format!(
                "brokers {} to be ready to be given the new name-server list",
                pods.join(", ")
            ));
        }
        Decision::Brokers(brokers) => brokers,
    };
    let mut out = Outcome::default();
    let mut failed = Vec::new();
    for (g, o) in brokers {
        let pod = names::broker_pod(cluster, g, o);
        let addr = format!(
            "{}:{}",
            names::broker_pod_dns(cluster, g, o),
            names::BROKER_PORT
        );
        if admin.namesrvs_of(&addr).await.as_deref() == Some(list.as_str()) {
            continue;
        }
        match admin.tell_namesrvs(&addr, &list).await {
            Ok(()) => out.told.push(pod),
            Err(error) => failed.push(format!("{pod}: {error}")),
        }
    }
    if failed.is_empty() {
        out.remember = Some(list);
    } else {
        out.waiting = Some(format!(
            "cannot give the new name-server list to {}",
            failed.join("; ")
        ));
    }
    out
}

fn waiting(message: String) -> Outcome {
    Outcome {
        waiting: Some(message),
        ..Outcome::default()
    }
}
