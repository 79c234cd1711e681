//! Wiring of the kube-runtime `Controller`: what it watches and how it runs.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams};
use kube::runtime::Controller;
use kube::runtime::watcher;
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::{Context, error_policy, reconcile};
use crate::build::labels;
use crate::crd::RocketCluster;

/// Failure to start the controller.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The RocketCluster API is not served: the CRD is missing or RBAC forbids listing it.
    #[error(
        "cannot list RocketClusters (is the CRD installed? `kubectl apply -f crds/`; does the service account have RBAC for rocketclusters?)"
    )]
    CrdNotServed(#[source] kube::Error),
}

/// Runs the controller until a termination signal; `watch_namespace` limits it to one namespace.
pub async fn run(ctx: Arc<Context>, watch_namespace: Option<&str>) -> Result<(), RunError> {
    let client = ctx.client.clone();
    let clusters: Api<RocketCluster> = api(&client, watch_namespace);
    clusters
        .list(&ListParams::default().limit(1))
        .await
        .map_err(RunError::CrdNotServed)?;
    // Only our own children are watched, so the caches stay small.
    let owned =
        watcher::Config::default().labels(&format!("{}={}", labels::MANAGED_BY, labels::MANAGER));
    Controller::new(clusters, watcher::Config::default().any_semantic())
        .owns(api::<StatefulSet>(&client, watch_namespace), owned.clone())
        .owns(api::<Service>(&client, watch_namespace), owned.clone())
        .owns(api::<ConfigMap>(&client, watch_namespace), owned.clone())
        .owns(api::<PodDisruptionBudget>(&client, watch_namespace), owned)
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(cluster = %object.name, "reconciled"),
                Err(error) => tracing::debug!(%error, "reconcile did not complete"),
            }
        })
        .await;
    Ok(())
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope> + DeserializeOwned,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}
