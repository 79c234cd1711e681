//! Reconcile tests against a `tower-test` mock API server.
//!
//! Each [`Scenario`] lists the exact calls one reconcile must make — method, path, query and the
//! parts of the body that matter — and answers them as the API server would. A reconcile that
//! makes a call too many, too few or out of order fails the test; so does a scenario left waiting
//! for a call that never comes (timeout).

mod external;
mod lifecycle;
mod mock;
mod namesrvs;
mod roll;
mod security;
mod storage;

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use kube::runtime::controller::Action;
use serde_json::json;

use super::{Context, Error, error_policy, reconcile};
use crate::crd::RocketCluster;
use crate::metrics::Metrics;
use crate::validate::{Environment, validate};
use mock::*;
use security::SecurityScenario;
use storage::StorageScenario;

/// The reconcile paths under test.
enum Scenario {
    /// A new cluster: everything is created, status says pods are starting.
    Create,
    /// `groups` raised from 1 to 2: only the new group is created.
    ScaleOut,
    /// A reserved key in `broker.config`: Degraded + event, nothing applied.
    InvalidSpec,
    /// The same invalid spec seen again: status only, no second event.
    InvalidSpecAgain,
    /// `reconciliationPaused`: status only.
    Paused,
    /// `podDisruptionBudget.enabled` turned off: the budgets left over are deleted.
    PdbDisabled,
    /// The API server rejects an apply: the rest is applied, Degraded says what failed.
    ApplyFails,
    /// A storage change makes group 0's StatefulSet apply fail with 422: group 1 still gets its
    /// change, nothing is deleted, Degraded and a Warning event name the StatefulSet.
    ImmutableStatefulSet,
    /// The paths of `spec.security`.
    Security(SecurityScenario),
    /// The paths of a storage change.
    Storage(StorageScenario),
}

impl Scenario {
    /// The cluster to reconcile and the calls it must make, in order.
    fn setup(&self) -> (RocketCluster, Vec<Call>) {
        match self {
            Self::Create => {
                let c = cluster(json!({}), None);
                let mut calls = vec![list_sts(&[]), list_external(&[])];
                calls.extend(apply_calls(&built(&c), |_| Reply::Echo));
                calls.push(event(
                    "NameServersCreated",
                    "created demo-namesrv with 2 name servers",
                ));
                calls.push(event(
                    "GroupsCreated",
                    "created broker groups demo-broker-0 (1 pods each)",
                ));
                calls.push(status_call(&c, |s| {
                    assert_eq!(
                        conditions(s),
                        [
                            cond("Available", "False", "ReplicasNotReady"),
                            cond("Progressing", "True", "PodsStarting"),
                            cond("Degraded", "False", "ReconcileSucceeded"),
                            cond("ReconciliationPaused", "False", "Reconciling"),
                        ]
                    );
                    assert_eq!(condition_message(s, "Available"), "name servers 0/2 ready, demo-broker-0 0/1 ready");
                    assert_eq!(s["observedGeneration"], 2);
                    assert_eq!(s["brokerGroups"], 1);
                    assert_eq!(s["selector"], "app.kubernetes.io/name=rocketmq,app.kubernetes.io/instance=demo,app.kubernetes.io/component=broker");
                    assert_eq!(
                        s["nameServerAddress"],
                        "demo-namesrv-0.demo-namesrv.mq.svc.cluster.local:9876;demo-namesrv-1.demo-namesrv.mq.svc.cluster.local:9876"
                    );
                    assert_eq!(s["conditions"][0]["lastTransitionTime"], "2027-01-15T08:00:00Z");
                }));
                (c, calls)
            }
            Self::ScaleOut => {
                let before = built(&cluster(json!({}), None));
                let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
                let c = cluster(json!({"broker": {"groups": 2}}), None);
                let mut calls = vec![list_sts(&live), list_external(&[])];
                calls.extend(apply_calls(&built(&c), |s| {
                    Reply::EchoWithStatus(json!(settled(s).status))
                }));
                // The new group is not synced: its pods are looked at (none yet).
                calls.push(list_pods(&[("demo-broker-0-0", true)]));
                calls.push(event(
                    "GroupsCreated",
                    "created broker groups demo-broker-1",
                ));
                calls.push(status_call(&c, |s| {
                    assert_eq!(conditions(s)[0], cond("Available", "True", "AllReplicasReady"));
                    // Not synced until its master is up and has the cluster's topics.
                    assert_eq!(conditions(s)[1], cond("Progressing", "True", "SyncingTopics"));
                    assert_eq!(condition_message(s, "Progressing"), "waiting for pod demo-broker-1-0 to start");
                    assert_eq!(s["syncedGroups"], json!(["demo-broker-0"]));
                    assert_eq!(s["brokerGroups"], 2);
                    assert_eq!(s["groups"][1], json!({"name": "demo-broker-1", "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1}));
                }));
                (c, calls)
            }
            Self::InvalidSpec => {
                let c = cluster(json!({"broker": {"config": {"brokerId": "3"}}}), None);
                let calls = vec![
                    list_sts(&[]),
                    event("InvalidSpec", "remove brokerId from spec.broker.config"),
                    status_call(&c, |s| {
                        assert_eq!(conditions(s)[0], cond("Degraded", "True", "InvalidSpec"));
                        assert_eq!(
                            condition_message(s, "Degraded"),
                            "the spec was not applied: spec.broker.config.brokerId: remove brokerId from spec.broker.config: the operator sets brokerId to the pod ordinal (0 is the master)"
                        );
                        assert_eq!(s["observedGeneration"], 2);
                    }),
                ];
                (c, calls)
            }
            Self::InvalidSpecAgain => {
                let first = cluster(json!({"broker": {"config": {"brokerId": "3"}}}), None);
                let err = validate(&first, &Environment::default()).expect_err("invalid");
                let status = super::status::invalid(&first, &err, None, fixed_clock());
                let c = cluster(
                    json!({"broker": {"config": {"brokerId": "3"}}}),
                    Some(json!(status)),
                );
                let expected = json!(status);
                let calls = vec![
                    list_sts(&[]),
                    status_call(&c, move |s| assert_eq!(s, &expected, "unchanged status")),
                ];
                (c, calls)
            }
            Self::Paused => {
                let c = cluster(
                    json!({"clusterOperation": {"reconciliationPaused": true}}),
                    None,
                );
                let calls = vec![
                    event("ReconciliationPaused", "reconciliationPaused is true"),
                    status_call(&c, |s| {
                        assert_eq!(
                            conditions(s),
                            [cond("ReconciliationPaused", "True", "PausedBySpec")]
                        );
                    }),
                ];
                (c, calls)
            }
            Self::PdbDisabled => {
                let before = built(&cluster(json!({}), None));
                let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
                let c = cluster(
                    json!({"broker": {"podDisruptionBudget": {"enabled": false}}}),
                    None,
                );
                let desired = built(&c);
                assert!(desired.pdbs.is_empty());
                let mut calls = vec![list_sts(&live), list_external(&[])];
                calls.extend(apply_calls(&desired, |s| {
                    Reply::EchoWithStatus(json!(settled(s).status))
                }));
                calls.push(call(
                    Method::GET,
                    format!("/apis/policy/v1{NS}/poddisruptionbudgets?&labelSelector=app.kubernetes.io%2Finstance%3Ddemo%2Capp.kubernetes.io%2Fmanaged-by%3Drmq-operator"),
                    Reply::Json(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudgetList", "metadata": {}, "items": before.pdbs})),
                ));
                let pdbs = format!("/apis/policy/v1{NS}/poddisruptionbudgets");
                calls.push(delete_call(
                    &pdbs,
                    "demo-namesrv",
                    Reply::Json(json!(before.pdbs[0])),
                ));
                calls.push(delete_call(
                    &pdbs,
                    "demo-broker-0",
                    Reply::Json(json!(before.pdbs[1])),
                ));
                calls.push(status_call(&c, |s| {
                    assert_eq!(
                        conditions(s)[0],
                        cond("Available", "True", "AllReplicasReady")
                    );
                }));
                (c, calls)
            }
            Self::ApplyFails => {
                let c = cluster(json!({}), None);
                let r = built(&c);
                let mut applies = apply_calls(&r, |_| Reply::Echo);
                applies[0] = apply_call(
                    &format!("/api/v1{NS}/services"),
                    "demo-namesrv",
                    json!(r.services[0]),
                    Reply::ServerError,
                );
                let mut calls = vec![list_sts(&[]), list_external(&[])];
                calls.extend(applies);
                calls.push(event("NameServersCreated", "created demo-namesrv"));
                calls.push(event("GroupsCreated", "demo-broker-0"));
                calls.push(event("ApplyFailed", "Service demo-namesrv"));
                calls.push(status_call(&c, |s| {
                    assert!(
                        conditions(s).contains(&cond("Degraded", "True", "ApplyFailed")),
                        "{s}"
                    );
                }));
                (c, calls)
            }
            Self::ImmutableStatefulSet => {
                let c = cluster(json!({"broker": {"groups": 2}}), None);
                let r = built(&c);
                let mut calls = vec![list_sts(&[]), list_external(&[])];
                calls.extend(apply_calls(&r, |s| {
                    if s.metadata.name.as_deref() == Some("demo-broker-0") {
                        Reply::Invalid
                    } else {
                        Reply::Echo
                    }
                }));
                calls.push(event("NameServersCreated", "created demo-namesrv"));
                calls.push(event("GroupsCreated", "demo-broker-1"));
                calls.push(event("ApplyFailed", "StatefulSet demo-broker-0"));
                calls.push(status_call(&c, |s| {
                    let degraded = s["conditions"]
                        .as_array()
                        .and_then(|cs| cs.iter().find(|c| c["type"] == "Degraded"))
                        .cloned()
                        .unwrap_or_default();
                    assert_eq!(degraded["status"], "True", "{s}");
                    assert_eq!(degraded["reason"], "ApplyFailed", "{s}");
                    let message = degraded["message"].as_str().unwrap_or_default();
                    assert!(
                        message.contains("demo-broker-0") && message.contains("Forbidden"),
                        "{message}"
                    );
                }));
                (c, calls)
            }
            Self::Security(s) => s.setup(),
            Self::Storage(s) => s.setup(),
        }
    }

    /// Runs one reconcile of this scenario and returns its result.
    async fn run(
        self,
    ) -> (
        Result<Action, Error>,
        Arc<Context>,
        Arc<Metrics>,
        RocketCluster,
    ) {
        let (ctx, handle, metrics) = context();
        let (c, calls) = self.setup();
        let server = mock::serve(handle, calls);
        let result = tokio::time::timeout(
            Duration::from_secs(5),
            reconcile(Arc::new(c.clone()), ctx.clone()),
        )
        .await
        .expect("reconcile finished in time");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("every expected call came")
            .expect("scenario assertions hold");
        (result, ctx, metrics, c)
    }
}

#[tokio::test]
async fn tls_from_an_issuer_applies_a_certificate_per_role_before_the_statefulsets() {
    let (result, ..) = Scenario::Security(SecurityScenario::TlsFromIssuer)
        .run()
        .await;
    result.expect("reconciled");
}

#[tokio::test]
async fn removing_tls_deletes_the_operators_certificates_before_applying_anything() {
    let (result, ..) = Scenario::Security(SecurityScenario::TlsRemoved).run().await;
    result.expect("reconciled");
}

#[tokio::test]
async fn an_issuer_without_cert_manager_fails_saying_so_and_is_counted() {
    let (result, ctx, metrics, c) = Scenario::Security(SecurityScenario::CertManagerMissing)
        .run()
        .await;
    let error = result.expect_err("no cert-manager");
    assert!(
        matches!(error, Error::CertManagerMissing { ref name } if name == "demo-namesrv-tls"),
        "{error:?}"
    );
    assert!(error.to_string().contains("install cert-manager"));
    error_policy(Arc::new(c), &error, ctx);
    assert!(
        metrics
            .encode()
            .expect("metrics")
            .contains("rmq_operator_reconcile_failures_total{reason=\"CertManagerMissing\"} 1")
    );
}

#[tokio::test]
async fn create_applies_every_child_in_order_and_reports_pods_starting() {
    let (result, ..) = Scenario::Create.run().await;
    assert_eq!(result.expect("reconciled"), Action::requeue(super::RESYNC));
}

#[tokio::test]
async fn scale_out_creates_the_new_group_and_reapplies_the_rest_unchanged() {
    let (result, ..) = Scenario::ScaleOut.run().await;
    result.expect("reconciled");
}

#[tokio::test]
async fn invalid_spec_sets_degraded_publishes_a_warning_and_waits_for_a_change() {
    let (result, ..) = Scenario::InvalidSpec.run().await;
    assert_eq!(result.expect("handled"), Action::await_change());
}

#[tokio::test]
async fn invalid_spec_seen_again_writes_the_same_status_and_no_second_event() {
    let (result, ..) = Scenario::InvalidSpecAgain.run().await;
    assert_eq!(result.expect("handled"), Action::await_change());
}

#[tokio::test]
async fn paused_cluster_gets_only_its_status_updated() {
    let (result, ..) = Scenario::Paused.run().await;
    assert_eq!(result.expect("handled"), Action::await_change());
}

#[tokio::test]
async fn disabling_pod_disruption_budgets_deletes_the_ones_left_over() {
    let (result, ..) = Scenario::PdbDisabled.run().await;
    result.expect("reconciled");
}

#[tokio::test]
async fn failed_apply_is_counted_by_reason_and_retried_with_backoff() {
    let (result, ctx, metrics, c) = Scenario::ApplyFails.run().await;
    let error = result.expect_err("apply failed");
    assert!(
        matches!(error, Error::ApplyChild { ref kind, ref name, .. } if kind == "Service" && name == "demo-namesrv")
    );
    let first = error_policy(Arc::new(c.clone()), &error, ctx.clone());
    assert_eq!(first, Action::requeue(Duration::from_secs(5)));
    assert!(
        metrics
            .encode()
            .expect("metrics")
            .contains("rmq_operator_reconcile_failures_total{reason=\"ApplyChild\"} 1")
    );
}

#[tokio::test]
async fn an_immutable_statefulset_change_degrades_with_an_event_and_later_groups_still_apply() {
    let (result, ..) = Scenario::ImmutableStatefulSet.run().await;
    let error = result.expect_err("the refused apply is the reconcile's error");
    assert!(
        matches!(error, Error::ApplyChild { ref kind, ref name, .. } if kind == "StatefulSet" && name == "demo-broker-0")
    );
}

#[test]
fn retry_delay_doubles_from_five_seconds_up_to_the_resync_period() {
    let delays: Vec<u64> = (1..=8).map(|n| super::retry_delay(n).as_secs()).collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300]);
}

#[tokio::test]
async fn a_grown_storage_size_expands_every_claim_and_recreates_the_statefulsets_keeping_their_pods()
 {
    let (result, ..) = Scenario::Storage(StorageScenario::Grown).run().await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn a_claim_that_cannot_grow_keeps_its_statefulset_degrades_and_the_other_group_still_grows() {
    let (result, ..) = Scenario::Storage(StorageScenario::ExpansionRefused)
        .run()
        .await;
    assert!(
        matches!(result, Err(Error::ExpandClaim { .. })),
        "{result:?}"
    );
}
