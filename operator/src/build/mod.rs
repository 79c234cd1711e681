//! Pure builders: a [`ValidatedCluster`] in, every child object out.
//!
//! | module | what |
//! |---|---|
//! | [`names`] | object names, pod DNS names, the `namesrvAddr` list |
//! | [`labels`] | common labels and selectors |
//! | [`broker_conf`] | one broker pod's `broker.conf` (reused by `rmqctl up`) |
//! | [`security`] | what `spec.security` adds: config keys, Secret volumes, the brokers' account |
//! | [`service`] | headless Services |
//! | [`external`] | outside access: a Service per pod, brokers' node ports, load-balancer addresses |
//! | [`config_map`] | name server, discovery and per-group broker ConfigMaps |
//! | [`certificate`] | cert-manager Certificates of the roles whose TLS names an issuer |
//! | [`pdb`] | PodDisruptionBudgets |
//! | [`pod`] | what name server and broker pods share: security, probes, affinity |
//! | [`statefulset`] | name server and broker-group StatefulSets |
//! | [`rollout`] | which pods may take a new template (StatefulSet `partition`: a changed group held whole, the planner's turns kept) |
//!
//! Nothing here performs I/O or reads a clock: the same cluster (and the same observed external
//! Services, [`external::Observed`]) always builds the same objects, so server-side apply of
//! them is idempotent.

pub mod broker_conf;
pub mod certificate;
pub mod config_map;
pub mod external;
pub mod labels;
pub mod names;
pub mod pdb;
pub mod pod;
pub mod rollout;
pub mod security;
pub mod service;
pub mod statefulset;
pub mod volumes;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::core::DynamicObject;

use crate::crd::{GROUP, VERSION};
use crate::validate::ValidatedCluster;
use labels::Component;

/// Field manager of every server-side apply this operator makes.
pub const FIELD_MANAGER: &str = "rmq-operator";

/// Every child object of one cluster, grouped in the order they are applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterResources {
    /// Headless Services (name servers, then each group), then the external ones
    /// ([`external::services`]).
    pub services: Vec<Service>,
    /// ConfigMaps (name servers, discovery, then each group).
    pub config_maps: Vec<ConfigMap>,
    /// cert-manager Certificates (name servers, then brokers; empty without `issuerRef`).
    pub certificates: Vec<DynamicObject>,
    /// PodDisruptionBudgets (empty when disabled).
    pub pdbs: Vec<PodDisruptionBudget>,
    /// StatefulSets (name servers, then each group).
    pub stateful_sets: Vec<StatefulSet>,
}

/// Builds every child object of `cluster`, before any external Service was seen.
pub fn build(cluster: &ValidatedCluster) -> ClusterResources {
    build_with(cluster, &external::Observed::default())
}

/// Builds every child object of `cluster`, with what its live external Services tell
/// (load-balancer addresses for the brokers' ConfigMaps).
pub fn build_with(cluster: &ValidatedCluster, observed: &external::Observed) -> ClusterResources {
    let groups = 0..cluster.groups();
    let pdb_enabled = cluster.spec.broker.pod_disruption_budget.enabled;
    let mut out = ClusterResources::default();

    out.services.push(service::namesrv(cluster));
    out.services
        .extend(groups.clone().map(|g| service::broker_group(cluster, g)));
    out.services.extend(external::services(cluster));

    out.config_maps.push(config_map::namesrv(cluster));
    out.config_maps.push(config_map::discovery(cluster));
    out.config_maps.extend(
        groups
            .clone()
            .map(|g| config_map::broker_group(cluster, g, observed)),
    );

    out.certificates = certificate::build(cluster);

    if pdb_enabled {
        out.pdbs.push(pdb::namesrv(cluster));
        out.pdbs
            .extend(groups.clone().map(|g| pdb::broker_group(cluster, g)));
    }

    let namesrv_config = &out.config_maps[0];
    out.stateful_sets
        .push(statefulset::namesrv(cluster, namesrv_config));
    out.stateful_sets
        .extend(groups.map(|g| statefulset::broker_group(cluster, g)));
    out
}

/// The controller owner reference every child carries, so deleting the cluster deletes them.
pub fn owner_reference(cluster: &ValidatedCluster) -> OwnerReference {
    OwnerReference {
        api_version: format!("{GROUP}/{VERSION}"),
        kind: "RocketCluster".to_owned(),
        name: cluster.name.clone(),
        uid: cluster.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Metadata of a child named `name` belonging to `component`.
pub(crate) fn metadata(
    cluster: &ValidatedCluster,
    name: String,
    component: Component,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(cluster.namespace.clone()),
        labels: Some(labels::common(cluster, component)),
        owner_references: Some(vec![owner_reference(cluster)]),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
pub(crate) mod tests;
