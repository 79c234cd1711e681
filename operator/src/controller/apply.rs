//! The I/O of a reconcile: read live StatefulSets and external Services, server-side apply
//! children in dependency order, delete Certificates and external Services no longer wanted and
//! the children of removed groups, write status.

use std::fmt::Debug;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::core::DynamicObject;
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::Error;
use crate::build::volumes::Recreate;
use crate::build::{ClusterResources, FIELD_MANAGER, certificate, external, labels, names};
use crate::crd::{GROUP, RocketCluster, RocketClusterStatus, VERSION};
use crate::validate::ValidatedCluster;

/// Dereference: every StatefulSet this operator made for cluster `name` (I/O only).
pub async fn live_stateful_sets(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Vec<StatefulSet>, Error> {
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(&labels::owned_by(name)))
        .await
        .map_err(|source| Error::ListStatefulSets {
            namespace: namespace.to_owned(),
            source,
        })?;
    Ok(list.items)
}

/// Dereference: every external Service (`externalAccess`) this operator made for cluster
/// `name`, with their status (load-balancer addresses).
pub async fn live_external_services(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Vec<Service>, Error> {
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    let selector = format!("{},{}=true", labels::owned_by(name), external::LABEL);
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|source| Error::ListServices {
            namespace: namespace.to_owned(),
            source,
        })?;
    Ok(list.items)
}

/// Deletes the external Services named in `names` (see [`external::unwanted`]); ones already
/// gone are fine.
pub async fn delete_external_services(
    client: &Client,
    namespace: &str,
    names: &[String],
) -> Result<(), Error> {
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    for name in names {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::DeleteUnusedService {
                    name: name.clone(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// What an apply pass did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The StatefulSets as the API server stored them (with status).
    pub stateful_sets: Vec<StatefulSet>,
    /// The children the API server refused (or that were held because a ConfigMap they read
    /// was refused); every other child was applied all the same.
    pub failures: Vec<Error>,
    /// StatefulSets recreated for their volumes, with the claims expanded first.
    pub recreated: Vec<Recreate>,
}

/// The ConfigMaps a StatefulSet's pods mount.
fn config_maps_of(sts: &StatefulSet) -> Vec<&str> {
    sts.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.config_map.as_ref().map(|c| c.name.as_str()))
        .collect()
}

/// Applies every child in order Services, ConfigMaps, Certificates, PDBs, StatefulSets (pods
/// mount the Certificates' Secrets). A child the API server refuses does not stop the others:
/// one group's immutable-field change must not freeze every later group. Two things do stop
/// what depends on them: a Certificate that cannot be applied fails the pass before any pod
/// could mount its missing Secret, and a StatefulSet whose ConfigMap was refused is held, so its
/// pods do not restart into the old configuration.
pub async fn apply_all(
    client: &Client,
    namespace: &str,
    resources: &ClusterResources,
    recreations: &[Recreate],
) -> Result<Applied, Error> {
    let mut out = Applied::default();
    for s in &resources.services {
        if let Err(e) = apply(client, namespace, s).await {
            out.failures.push(e);
        }
    }
    let mut refused_config_maps = Vec::new();
    for c in &resources.config_maps {
        if let Err(e) = apply(client, namespace, c).await {
            refused_config_maps.push(c.metadata.name.clone().unwrap_or_default());
            out.failures.push(e);
        }
    }
    for c in &resources.certificates {
        apply_certificate(client, namespace, c).await?;
    }
    for p in &resources.pdbs {
        if let Err(e) = apply(client, namespace, p).await {
            out.failures.push(e);
        }
    }
    let mut held = Vec::new();
    for r in recreations {
        match recreate(client, namespace, r).await {
            Ok(()) => out.recreated.push(r.clone()),
            Err(e) => {
                held.push(r.stateful_set.clone());
                out.failures.push(e);
            }
        }
    }
    for s in &resources.stateful_sets {
        let name = s.metadata.name.clone().unwrap_or_default();
        if held.contains(&name) {
            // Its claims could not all grow (or it could not be deleted): the old StatefulSet
            // stays, with its pods; the next reconcile tries again.
            continue;
        }
        if let Some(config_map) = config_maps_of(s)
            .into_iter()
            .find(|c| refused_config_maps.iter().any(|r| r == c))
        {
            out.failures.push(Error::HeldForConfigMap {
                name,
                config_map: config_map.to_owned(),
            });
            continue;
        }
        match apply(client, namespace, s).await {
            Ok(applied) => out.stateful_sets.push(applied),
            Err(e) => out.failures.push(e),
        }
    }
    Ok(out)
}

/// Expands the claims of `r`, then deletes its StatefulSet leaving the pods running
/// (`propagationPolicy: Orphan`); the apply that follows creates it again, and it adopts them.
/// A claim not there (its pod never started) is fine.
async fn recreate(client: &Client, namespace: &str, r: &Recreate) -> Result<(), Error> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    for c in &r.claims {
        let patch = json!({"spec": {"resources": {"requests": {"storage": c.size}}}});
        match claims
            .patch(&c.claim, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::ExpandClaim {
                    claim: c.claim.clone(),
                    size: c.size.0.clone(),
                    source,
                });
            }
        }
    }
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let orphan = DeleteParams {
        propagation_policy: Some(kube::api::PropagationPolicy::Orphan),
        ..DeleteParams::default()
    };
    match sets.delete(&r.stateful_set, &orphan).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(source) => Err(Error::OrphanStatefulSet {
            name: r.stateful_set.clone(),
            source,
        }),
    }
}

/// The StatefulSets to report on: the applied ones, and the live one where an apply failed.
pub fn observed(applied: &[StatefulSet], live: &[StatefulSet]) -> Vec<StatefulSet> {
    let mut out = applied.to_vec();
    for s in live {
        if !applied.iter().any(|a| a.metadata.name == s.metadata.name) {
            out.push(s.clone());
        }
    }
    out
}

async fn apply<K>(client: &Client, namespace: &str, object: &K) -> Result<K, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(object),
    )
    .await
    .map_err(|source| Error::ApplyChild {
        kind: K::kind(&()).into_owned(),
        name,
        source,
    })
}

/// Server-side apply of a cert-manager Certificate, through the dynamic API (no cert-manager
/// types in this crate). A 404 means the `cert-manager.io/v1` API is not served.
async fn apply_certificate(
    client: &Client,
    namespace: &str,
    certificate: &DynamicObject,
) -> Result<(), Error> {
    let name = certificate.metadata.name.clone().unwrap_or_default();
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &certificate::api_resource());
    match api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(certificate),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            Err(Error::CertManagerMissing { name })
        }
        Err(source) => Err(Error::ApplyChild {
            kind: "Certificate".to_owned(),
            name,
            source,
        }),
    }
}

/// Deletes the Certificates named in `names` (see [`certificate::unused`]); ones already gone,
/// or a cert-manager no longer installed, are fine.
pub async fn delete_certificates(
    client: &Client,
    namespace: &str,
    names: &[String],
) -> Result<(), Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &certificate::api_resource());
    for name in names {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::DeleteUnusedCertificate {
                    name: name.clone(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Deletes the children of `groups` (drained groups the spec no longer has), their external
/// Services among `external_services` included; returns their names.
///
/// The StatefulSet goes last: it is how a removed group is found, so a failure part-way leaves
/// it for the next reconcile to finish. Objects already gone are fine.
pub async fn delete_groups(
    client: &Client,
    cluster: &ValidatedCluster,
    groups: &[u32],
    external_services: &[Service],
) -> Result<Vec<String>, Error> {
    let ns = &cluster.namespace;
    let mut names_removed = Vec::new();
    for &group in groups {
        let group_name = names::broker_group(cluster, group);
        for service in external::of_group(external_services, group) {
            delete::<Service>(client, ns, &service).await?;
        }
        delete::<PodDisruptionBudget>(client, ns, &group_name).await?;
        for config in group_configs(client, cluster, group).await? {
            delete::<ConfigMap>(client, ns, &config).await?;
        }
        delete::<Service>(client, ns, &group_name).await?;
        delete::<StatefulSet>(client, ns, &group_name).await?;
        names_removed.push(group_name);
    }
    Ok(names_removed)
}

/// Names of group `group`'s ConfigMaps (one per config the group has run since its last
/// roll ended).
async fn group_configs(
    client: &Client,
    cluster: &ValidatedCluster,
    group: u32,
) -> Result<Vec<String>, Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &cluster.namespace);
    let selector = labels::selector(cluster, labels::Component::BrokerGroup(group))
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|source| Error::ListConfigMaps {
            namespace: cluster.namespace.clone(),
            source,
        })?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect())
}

/// Deletes group `group`'s ConfigMaps other than `keep`: once every pod of the group runs the
/// template naming `keep`, no pod reads the others.
pub async fn delete_stale_configs(
    client: &Client,
    cluster: &ValidatedCluster,
    group: u32,
    keep: &str,
) -> Result<Vec<String>, Error> {
    let mut deleted = Vec::new();
    for config in group_configs(client, cluster, group).await? {
        if config != keep {
            delete::<ConfigMap>(client, &cluster.namespace, &config).await?;
            deleted.push(config);
        }
    }
    Ok(deleted)
}

/// What the operator sees of one pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSeen {
    /// Its `Ready` condition is true.
    pub ready: bool,
    /// The StatefulSet revision it was made from (`controller-revision-hash`).
    pub revision: Option<String>,
}

/// Every pod of cluster `name`, by name.
pub async fn pods(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<std::collections::BTreeMap<String, PodSeen>, Error> {
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(&labels::owned_by(name)))
        .await
        .map_err(|source| Error::ListPods {
            namespace: namespace.to_owned(),
            source,
        })?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|pod| {
            let ready = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let revision = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("controller-revision-hash"))
                .cloned();
            Some((pod.metadata.name?, PodSeen { ready, revision }))
        })
        .collect())
}

/// Sets the `rollingUpdate.partition` of StatefulSet `name`: the StatefulSet controller
/// replaces, one at a time from the highest, the pods at or above `partition` that do not run
/// its update revision.
pub async fn set_partition(
    client: &Client,
    namespace: &str,
    name: &str,
    partition: u32,
) -> Result<(), Error> {
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let patch = serde_json::json!({
        "spec": {"updateStrategy": {"rollingUpdate": {"partition": partition}}}
    });
    api.patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .map(drop)
    .map_err(|source| Error::SetPartition {
        name: name.to_owned(),
        source,
    })
}

async fn delete<K>(client: &Client, namespace: &str, name: &str) -> Result<(), Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(source) => Err(Error::DeleteRemovedChild {
            kind: K::kind(&()).into_owned(),
            name: name.to_owned(),
            source,
        }),
    }
}

/// Deletes the PodDisruptionBudgets left from when `podDisruptionBudget.enabled` was true; only
/// called while it is false. Returns the deleted names.
pub async fn delete_disabled_pdbs(
    client: &Client,
    cluster: &ValidatedCluster,
) -> Result<Vec<String>, Error> {
    let api: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), &cluster.namespace);
    let list = api
        .list(&ListParams::default().labels(&labels::owned_by(&cluster.name)))
        .await
        .map_err(|source| Error::ListPodDisruptionBudgets {
            namespace: cluster.namespace.clone(),
            source,
        })?;
    let mut deleted = Vec::new();
    for pdb in list.items {
        if let Some(name) = pdb.metadata.name {
            delete::<PodDisruptionBudget>(client, &cluster.namespace, &name).await?;
            deleted.push(name);
        }
    }
    Ok(deleted)
}

/// Writes `status` with server-side apply under the operator's field manager.
pub async fn patch_status(
    client: &Client,
    cluster: &RocketCluster,
    status: &RocketClusterStatus,
) -> Result<(), Error> {
    let namespace = cluster.metadata.namespace.as_deref().unwrap_or_default();
    let name = cluster.metadata.name.as_deref().unwrap_or_default();
    let api: Api<RocketCluster> = Api::namespaced(client.clone(), namespace);
    let body = json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "RocketCluster",
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|source| Error::PatchStatus {
        name: name.to_owned(),
        source,
    })?;
    Ok(())
}
