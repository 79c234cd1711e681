//! The reconciler: dereference → validate → build → apply → delete removed groups and unused
//! external Services → status.
//!
//! | module | what |
//! |---|---|
//! | [`apply`] | all I/O against the API server (list, server-side apply, delete, status) |
//! | [`status`] | pure status and condition computation |
//! | [`events`] | pure choice of the events that explain what the operator did |
//! | [`run`] | wiring of the kube-runtime `Controller` |
//!
//! An invalid spec sets `Degraded` (reason `InvalidSpec`), publishes a Warning event once and
//! waits for the next change of the object (`Action::await_change`): it never hot-loops. A child
//! the API server refuses (a 422 for an immutable field, say) does not stop the other children:
//! `Degraded` (reason `ApplyFailed`) and a Warning event name it, nothing is deleted in that
//! pass, and the reconcile fails so it is retried with backoff. A paused
//! cluster (`clusterOperation.reconciliationPaused`) only gets its status updated.
//!
//! cert-manager `Certificate`s are applied through the dynamic API and not watched (cert-manager
//! may not be installed where nobody asks for TLS from an issuer); drift is corrected at the
//! next resync.

pub mod access;
pub mod admin;
pub mod apply;
pub mod events;
pub mod lifecycle;
pub mod namesrvs;
pub mod roll;
pub mod run;
pub mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};

use crate::build::{self, certificate, external, rollout};
use crate::crd::{ConditionType, RocketCluster};
use crate::metrics::Metrics;
use crate::validate::{Environment, validate};

/// How often a healthy cluster is reconciled even without a change (drift correction).
pub const RESYNC: Duration = Duration::from_secs(300);
/// First retry delay after a failure; doubles per consecutive failure up to [`RESYNC`].
pub const FIRST_RETRY: Duration = Duration::from_secs(5);

/// What failed during a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RocketCluster has no namespace (it is a namespaced resource: a client bug).
    #[error("RocketCluster {name} has no namespace")]
    MissingNamespace {
        /// Name of the object.
        name: String,
    },
    /// Reading the live StatefulSets failed.
    #[error("failed to list the StatefulSets in namespace {namespace}")]
    ListStatefulSets {
        /// Namespace listed.
        namespace: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Reading the live external Services failed.
    #[error("failed to list the Services in namespace {namespace}")]
    ListServices {
        /// Namespace listed.
        namespace: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Deleting an external Service the spec no longer asks for failed.
    #[error("failed to delete Service {name}, which externalAccess no longer asks for")]
    DeleteUnusedService {
        /// Name of the Service.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Reading the live PodDisruptionBudgets failed.
    #[error("failed to list the PodDisruptionBudgets in namespace {namespace}")]
    ListPodDisruptionBudgets {
        /// Namespace listed.
        namespace: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Server-side apply of a child failed.
    #[error("failed to apply {kind} {name}")]
    ApplyChild {
        /// Kind of the child.
        kind: String,
        /// Name of the child.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// The cert-manager `Certificate` API is not served, but `spec.security.tls` names an
    /// issuer.
    #[error(
        "cannot apply Certificate {name}: the cert-manager.io/v1 API is not served (install cert-manager, or use spec.security.tls.*.secretName)"
    )]
    CertManagerMissing {
        /// Name of the Certificate.
        name: String,
    },
    /// Deleting a Certificate the spec no longer asks for failed.
    #[error("failed to delete Certificate {name}, which spec.security.tls no longer asks for")]
    DeleteUnusedCertificate {
        /// Name of the Certificate.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// A StatefulSet not applied because the API server refused the ConfigMap its pods read.
    #[error("StatefulSet {name} held: its ConfigMap {config_map} was not applied")]
    HeldForConfigMap {
        /// Name of the StatefulSet.
        name: String,
        /// The ConfigMap refused.
        config_map: String,
    },
    /// Deleting a child of a removed group failed.
    #[error("failed to delete {kind} {name} of a removed broker group")]
    DeleteRemovedChild {
        /// Kind of the child.
        kind: String,
        /// Name of the child.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Expanding a claim for a grown `storage.size` failed (the StorageClass may not allow
    /// volume expansion); its StatefulSet keeps the old size.
    #[error("failed to expand PersistentVolumeClaim {claim} to {size}")]
    ExpandClaim {
        /// Name of the claim.
        claim: String,
        /// The size asked for.
        size: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Deleting a StatefulSet (pods orphaned) to recreate it with new volumes failed.
    #[error(
        "failed to delete StatefulSet {name} (keeping its pods) to recreate it with its new volumes"
    )]
    OrphanStatefulSet {
        /// Name of the StatefulSet.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Lowering a StatefulSet's partition (a pod's turn in a roll) failed.
    #[error("failed to set the partition of StatefulSet {name}")]
    SetPartition {
        /// Name of the StatefulSet.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Listing a broker group's ConfigMaps failed.
    #[error("failed to list ConfigMaps in namespace {namespace}")]
    ListConfigMaps {
        /// Namespace of the cluster.
        namespace: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Listing the cluster's pods failed.
    #[error("failed to list pods in namespace {namespace}")]
    ListPods {
        /// Namespace of the cluster.
        namespace: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
    /// Writing the status failed.
    #[error("failed to update the status of RocketCluster {name}")]
    PatchStatus {
        /// Name of the cluster.
        name: String,
        /// API error.
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// Stable, bounded label for metrics and events: the variant name.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::MissingNamespace { .. } => "MissingNamespace",
            Self::ListStatefulSets { .. } => "ListStatefulSets",
            Self::ListServices { .. } => "ListServices",
            Self::DeleteUnusedService { .. } => "DeleteUnusedService",
            Self::ListPodDisruptionBudgets { .. } => "ListPodDisruptionBudgets",
            Self::ApplyChild { .. } => "ApplyChild",
            Self::CertManagerMissing { .. } => "CertManagerMissing",
            Self::DeleteUnusedCertificate { .. } => "DeleteUnusedCertificate",
            Self::DeleteRemovedChild { .. } => "DeleteRemovedChild",
            Self::HeldForConfigMap { .. } => "HeldForConfigMap",
            Self::ExpandClaim { .. } => "ExpandClaim",
            Self::ListConfigMaps { .. } => "ListConfigMaps",
            Self::SetPartition { .. } => "SetPartition",
            Self::ListPods { .. } => "ListPods",
            Self::OrphanStatefulSet { .. } => "OrphanStatefulSet",
            Self::PatchStatus { .. } => "PatchStatus",
        }
    }
}

/// Shared state of the reconciler.
pub struct Context {
    /// API client.
    pub client: Client,
    /// Publishes events about RocketClusters.
    pub recorder: Recorder,
    /// Reconcile metrics.
    pub metrics: Arc<Metrics>,
    /// Facts about the Kubernetes cluster.
    pub environment: Environment,
    /// Source of condition transition times (fixed in tests).
    pub clock: fn() -> Timestamp,
    /// RocketMQ's admin API: drains and topic syncs of groups that come and go.
    pub admin: Arc<dyn admin::AdminFactory>,
    /// Consecutive failures per object, for the retry backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context whose events are reported as `reporter`.
    pub fn new(
        client: Client,
        reporter: Reporter,
        metrics: Arc<Metrics>,
        environment: Environment,
        clock: fn() -> Timestamp,
        admin: Arc<dyn admin::AdminFactory>,
    ) -> Self {
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            environment,
            clock,
            admin,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn record_outcome(&self, key: &str, failed: bool) -> u32 {
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            // A panic elsewhere while holding the lock leaves only a counter behind: keep going.
            Err(poisoned) => poisoned.into_inner(),
        };
        if failed {
            let n = map.entry(key.to_owned()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        } else {
            map.remove(key);
            0
        }
    }
}

/// Reconciles one RocketCluster. Level-triggered and idempotent: it derives everything from the
/// object and the live StatefulSets, whatever triggered it.
pub async fn reconcile(cluster: Arc<RocketCluster>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile_started();
    let name = cluster.name_any();
    let Some(namespace) = cluster.namespace() else {
        return Err(Error::MissingNamespace { name });
    };
    let key = format!("{namespace}/{name}");
    let result = reconcile_inner(&cluster, &ctx, &namespace).await;
    ctx.record_outcome(&key, result.is_err());
    result
}

async fn reconcile_inner(
    cluster: &RocketCluster,
    ctx: &Context,
    namespace: &str,
) -> Result<Action, Error> {
    let now = (ctx.clock)();
    let old = cluster.status.as_ref();
    let reference = cluster.object_ref(&());

    if cluster.spec.cluster_operation.reconciliation_paused {
        let status = status::paused(cluster, old, now);
        if let Some(ev) = events::paused(old) {
            events::publish(&ctx.recorder, &ev, &reference).await;
        }
        apply::patch_status(&ctx.client, cluster, &status).await?;
        return Ok(Action::await_change());
    }

    // Dereference (I/O only).
    let live = apply::live_stateful_sets(&ctx.client, namespace, &cluster.name_any()).await?;

    // Validate (pure).
    let validated = match validate(cluster, &ctx.environment) {
        Ok(v) => v,
        Err(invalid) => {
            tracing::warn!(cluster = %cluster.name_any(), %invalid, "invalid spec");
            let status = status::invalid(cluster, &invalid, old, now);
            if let Some(ev) = events::invalid_spec(old, &status) {
                events::publish(&ctx.recorder, &ev, &reference).await;
            }
            apply::patch_status(&ctx.client, cluster, &status).await?;
            return Ok(Action::await_change());
        }
    };

    // What the external Services tell (I/O only): load-balancer addresses, node ports.
    let external_live =
        apply::live_external_services(&ctx.client, namespace, &validated.name).await?;
    let observed_external = external::observe(&external_live);

    // Build (pure), then gate rolling to one group at a time.
    let mut resources = build::build_with(&validated, &observed_external);
    let plan = rollout::gate(&mut resources, &live);
    namesrvs::hold_removal(&validated, old, &mut resources, &live);
    let unused_certificates = certificate::unused(&validated, &resources.certificates, &live);
    let recreations = build::volumes::recreations(&resources.stateful_sets, &live);

    // Delete Certificates no longer asked for before the StatefulSets stop naming their
    // Secrets (live pods keep the mounted files; a failure here retries with nothing changed),
    // then apply, delete removed groups, report.
    apply::delete_certificates(&ctx.client, namespace, &unused_certificates).await?;
    let applied = apply::apply_all(&ctx.client, namespace, &resources, &recreations).await?;
    // Nothing is deleted while something could not be applied: deletions wait for a pass
    // that applied everything. A removed group is deleted only once drained.
    let mut removed = Vec::new();
    let mut outcome = lifecycle::Outcome {
        synced_groups: lifecycle::remembered(&validated, &live, old),
        drains: old.map(|s| s.drains.clone()).unwrap_or_default(),
        ..lifecycle::Outcome::default()
    };
    let remembered_list = namesrvs::remembered(&validated, old);
    let mut listed = namesrvs::Outcome::default();
    if applied.failures.is_empty() {
        let groups_work = lifecycle::has_work(&validated, &live, &resources.stateful_sets, old);
        let list_work = namesrvs::has_work(&validated, old);
        if groups_work || list_work {
            let pods = apply::pods(&ctx.client, namespace, &validated.name).await?;
            let admin = reach(ctx, namespace, &validated).await;
            if groups_work {
                let observed = lifecycle::Observed {
                    cluster: &validated,
                    live: &live,
                    desired: &resources.stateful_sets,
                    pods: &pods,
                    old,
                    force: lifecycle::forced(cluster),
                    now,
                };
                outcome = lifecycle::run(admin.as_ref(), &observed).await;
                removed =
                    apply::delete_groups(&ctx.client, &validated, &outcome.delete, &external_live)
                        .await?;
                for &(group, ordinal) in &outcome.partitions {
                    let name = build::names::broker_group(&validated, group);
                    apply::set_partition(&ctx.client, namespace, &name, ordinal).await?;
                }
                for &group in &outcome.finished {
                    let keep = build::config_map::broker_group_name(&validated, group);
                    let deleted =
                        apply::delete_stale_configs(&ctx.client, &validated, group, &keep).await?;
                    if !deleted.is_empty() {
                        tracing::info!(cluster = %validated.name, ?deleted, "deleted ConfigMaps of a finished roll");
                    }
                }
            }
            if list_work {
                listed = namesrvs::run(admin.as_ref(), &validated, &remembered_list, &pods).await;
            }
        }
        let unused = external::unwanted(
            &validated,
            &resources.services,
            &external_live,
            &applied.stateful_sets,
        );
        if !unused.is_empty() {
            apply::delete_external_services(&ctx.client, namespace, &unused).await?;
            tracing::info!(cluster = %validated.name, ?unused, "deleted external Services no longer asked for");
        }
        if !validated.spec.broker.pod_disruption_budget.enabled {
            let deleted = apply::delete_disabled_pdbs(&ctx.client, &validated).await?;
            if !deleted.is_empty() {
                tracing::info!(cluster = %validated.name, ?deleted, "deleted disabled PodDisruptionBudgets");
            }
        }
    }
    if let Some(ev) = events::storage_grown(&applied.recreated) {
        events::publish(&ctx.recorder, &ev, &reference).await;
    }
    for ev in events::lifecycle(&outcome)
        .into_iter()
        .chain(events::namesrvs_given(&listed))
    {
        events::publish(&ctx.recorder, &ev, &reference).await;
    }
    for ev in events::after_apply(&validated, &live, &plan, &removed) {
        events::publish(&ctx.recorder, &ev, &reference).await;
    }
    let failures: Vec<String> = applied.failures.iter().map(described).collect();
    let observed = apply::observed(&applied.stateful_sets, &live);
    let mut status = status::reconciled(&validated, &observed, &plan, &failures, old, now);
    status::with_lifecycle(&mut status, &outcome, old, validated.generation, now);
    status::with_namesrv_list(
        &mut status,
        &listed,
        remembered_list,
        old,
        validated.generation,
        now,
    );
    status::with_external(&mut status, &validated, &observed_external);
    if let Some(ev) = events::apply_failed(old, &status) {
        events::publish(&ctx.recorder, &ev, &reference).await;
    }
    apply::patch_status(&ctx.client, cluster, &status).await?;
    if let Some(first) = applied.failures.into_iter().next() {
        // The status says what failed; the error drives the retry backoff and the metric.
        return Err(first);
    }
    tracing::info!(
        cluster = %validated.name,
        namespace = %validated.namespace,
        available = ?status::has_condition(Some(&status), ConditionType::Available, "AllReplicasReady").is_some(),
        "reconciled"
    );
    Ok(Action::requeue(
        if outcome.waiting.is_some() || listed.waiting.is_some() {
            lifecycle::WAIT_REQUEUE
        } else {
            RESYNC
        },
    ))
}

/// An error with its causes, for a condition message: `failed to apply StatefulSet x: <the API
/// server's message>`.
fn described(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Retry policy: count the failure, then back off exponentially per object (5 s, 10 s, … 5 min).
pub fn error_policy(cluster: Arc<RocketCluster>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(cluster = %cluster.name_any(), error = %error, reason = error.metric_label(), "reconcile failed");
    ctx.metrics.reconcile_failed(error.metric_label());
    let key = format!(
        "{}/{}",
        cluster.namespace().unwrap_or_default(),
        cluster.name_any()
    );
    let failures = ctx
        .failures
        .lock()
        .map(|m| m.get(&key).copied().unwrap_or(1))
        .unwrap_or(1);
    Action::requeue(retry_delay(failures))
}

/// Delay before retry number `failures` (1-based).
pub fn retry_delay(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(10);
    FIRST_RETRY.saturating_mul(factor).min(RESYNC)
}

/// Each admin request is bounded by this.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The admin API of `cluster`, reached as its spec requires; when a Secret it needs cannot be
/// read, one whose every call fails saying why (a drain then waits and deletes nothing).
async fn reach(
    ctx: &Context,
    namespace: &str,
    cluster: &crate::validate::ValidatedCluster,
) -> Arc<dyn admin::ClusterAdmin> {
    let plan = access::plan(cluster);
    match access::resolve(&ctx.client, namespace, &plan, ADMIN_TIMEOUT).await {
        Ok(reached) => ctx.admin.connect(reached),
        Err(error) => {
            tracing::warn!(cluster = %cluster.name, %error, "cannot reach the cluster's admin API");
            Arc::new(admin::Unreachable(format!(
                "cannot reach the cluster's admin API: {error}"
            )))
        }
    }
}

#[cfg(test)]
mod tests;
