//! A grown `spec.broker.storage.size`: every live claim is expanded, the StatefulSet deleted
//! with its pods orphaned and applied again — no pod restarts; a claim the StorageClass cannot
//! expand keeps the old StatefulSet and degrades the cluster.

use http::Method;
use serde_json::json;

use super::mock::*;
use super::*;

/// The reconcile paths of a storage change.
pub(super) enum StorageScenario {
    /// 50Gi to 100Gi on a settled cluster of two groups of a master and a slave.
    Grown,
    /// The same, but the API server refuses to expand group 0's first claim.
    ExpansionRefused,
}

fn spec(size: &str) -> serde_json::Value {
    json!({"broker": {"groups": 2, "replicasPerGroup": 1, "brokerRole": "SYNC_MASTER",
                      "storage": {"type": "Persistent", "size": size}}})
}

fn expand(claim: &str, reply: Reply) -> Call {
    call(
        Method::PATCH,
        format!("/api/v1{NS}/persistentvolumeclaims/{claim}?"),
        reply,
    )
    .checking(|body| {
        assert_eq!(
            body,
            &json!({"spec": {"resources": {"requests": {"storage": "100Gi"}}}})
        );
    })
}

fn orphan(name: &str) -> Call {
    call(
        Method::DELETE,
        format!("/apis/apps/v1{NS}/statefulsets/{name}?"),
        Reply::Json(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
        ),
    )
    .checking(|body| assert_eq!(body["propagationPolicy"], "Orphan"))
}

fn claim_object(claim: &str) -> Reply {
    Reply::Json(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": claim, "namespace": "mq"}}))
}

impl StorageScenario {
    /// The cluster to reconcile and the calls it must make, in order.
    pub(super) fn setup(&self) -> (RocketCluster, Vec<Call>) {
        let before = built(&cluster(spec("50Gi"), None));
        let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
        let c = cluster(spec("100Gi"), None);
        let after = built(&c);
        let mut calls = vec![list_sts(&live), list_external(&[])];
        let mut applies = apply_calls(&after, |s| Reply::EchoWithStatus(json!(settled(s).status)));
        // Services, ConfigMaps, PDBs come first; the StatefulSets (name servers, group 0,
        // group 1) last.
        let sts_applies = applies.split_off(applies.len() - 3);
        calls.extend(applies);
        match self {
            Self::Grown => {
                for group in ["demo-broker-0", "demo-broker-1"] {
                    for ordinal in 0..2 {
                        let claim = format!("data-{group}-{ordinal}");
                        calls.push(expand(&claim, claim_object(&claim)));
                    }
                    calls.push(orphan(group));
                }
                calls.extend(sts_applies);
                calls.push(event(
                    "StorageExpanded",
                    "expanded claims data-demo-broker-0-0, data-demo-broker-0-1 to 100Gi; recreated StatefulSet demo-broker-0 keeping its pods; expanded claims data-demo-broker-1-0, data-demo-broker-1-1 to 100Gi; recreated StatefulSet demo-broker-1 keeping its pods",
                ));
                calls.push(status_call(&c, |s| {
                    assert_eq!(
                        conditions(s)[2],
                        cond("Degraded", "False", "ReconcileSucceeded"),
                        "{s}"
                    );
                }));
            }
            Self::ExpansionRefused => {
                calls.push(expand("data-demo-broker-0-0", Reply::Invalid));
                for ordinal in 0..2 {
                    let claim = format!("data-demo-broker-1-{ordinal}");
                    calls.push(expand(&claim, claim_object(&claim)));
                }
                calls.push(orphan("demo-broker-1"));
                // Group 0's StatefulSet is neither deleted nor applied: it keeps its pods and
                // its old size until the claim can grow.
                calls.extend(
                    sts_applies
                        .into_iter()
                        .filter(|call| !call.uri.contains("statefulsets/demo-broker-0")),
                );
                calls.push(event(
                    "StorageExpanded",
                    "recreated StatefulSet demo-broker-1 keeping",
                ));
                calls.push(event("ApplyFailed", "data-demo-broker-0-0"));
                calls.push(status_call(&c, |s| {
                    assert_eq!(conditions(s)[2].2, "ApplyFailed", "{s}");
                }));
            }
        }
        (c, calls)
    }
}
