//! Groups that come and go, against the mock API server and a scripted admin API: a removed
//! group is drained (writes off, then deleted only with nothing left for its consumers, or
//! forced), a new group is given the cluster's topics before it counts as synced.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde_json::json;

use super::mock::*;
use super::*;
use crate::build::ClusterResources;
use crate::controller::access::Access;
use crate::controller::admin::{AdminFactory, BrokerRuntime, ClusterAdmin};
use crate::plan::Writes;

/// A cluster's admin API as a test scripts it; every call is recorded.
#[derive(Default)]
pub(super) struct ScriptedAdmin {
    pub(super) writes: Writes,
    pub(super) messages_left: Option<u64>,
    pub(super) missing: Option<u32>,
    /// What every broker answers for its `namesrvAddr`.
    pub(super) namesrvs: Option<String>,
    /// Writes of one group, over `writes`.
    pub(super) writes_of: Mutex<std::collections::BTreeMap<String, Writes>>,
    /// Runtime figures by broker address (absent: it does not answer).
    pub(super) runtime: Mutex<std::collections::BTreeMap<String, BrokerRuntime>>,
    pub(super) calls: Mutex<Vec<String>>,
}

/// Hands out its [`ScriptedAdmin`], recording how the cluster was to be reached.
pub(super) struct Scripted(pub(super) Arc<ScriptedAdmin>);

impl AdminFactory for Scripted {
    fn connect(&self, access: Access) -> Arc<dyn ClusterAdmin> {
        self.0.record(format!("reached with {}", access.summary()));
        self.0.clone()
    }
}

impl ScriptedAdmin {
    fn record(&self, call: String) {
        self.calls.lock().expect("calls").push(call);
    }

    pub(super) fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }
}

impl ClusterAdmin for ScriptedAdmin {
    fn writes<'a>(&'a self, namesrvs: &'a [String], group: &'a str) -> BoxFuture<'a, Writes> {
        self.record(format!("writes {group} on {}", namesrvs.len()));
        let writes = self
            .writes_of
            .lock()
            .expect("writes")
            .get(group)
            .copied()
            .unwrap_or(self.writes);
        Box::pin(async move { writes })
    }

    fn hold_writes<'a>(
        &'a self,
        namesrvs: &'a [String],
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.record(format!("hold {group} on {}", namesrvs.len()));
        Box::pin(async { Ok(()) })
    }

    fn messages_left<'a>(&'a self, master: &'a str) -> BoxFuture<'a, Option<u64>> {
        self.record(format!("messages left on {master}"));
        Box::pin(async move { self.messages_left })
    }

    fn missing_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Option<u32>> {
        self.record(format!("missing {source} -> {target}"));
        Box::pin(async move { self.missing })
    }

    fn sync_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.record(format!("sync {source} -> {target}"));
        Box::pin(async { Ok(()) })
    }

    fn release_writes<'a>(
        &'a self,
        namesrvs: &'a [String],
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.record(format!("release {group} on {}", namesrvs.len()));
        Box::pin(async { Ok(()) })
    }

    fn runtime<'a>(&'a self, broker: &'a str) -> BoxFuture<'a, Option<BrokerRuntime>> {
        self.record(format!("runtime of {broker}"));
        let figures = self.runtime.lock().expect("runtime").get(broker).copied();
        Box::pin(async move { figures })
    }

    fn namesrvs_of<'a>(&'a self, broker: &'a str) -> BoxFuture<'a, Option<String>> {
        self.record(format!("namesrvs of {broker}"));
        Box::pin(async move { self.namesrvs.clone() })
    }

    fn tell_namesrvs<'a>(
        &'a self,
        broker: &'a str,
        list: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.record(format!("tell {broker} {list}"));
        Box::pin(async { Ok(()) })
    }
}

/// A cluster whose removed group has writes on `on` of 2 name servers and `left` messages
/// for its consumers.
fn draining(on: u32, left: Option<u64>) -> Arc<ScriptedAdmin> {
    Arc::new(ScriptedAdmin {
        writes: Writes { on, of: 2 },
        messages_left: left,
        ..ScriptedAdmin::default()
    })
}

const MASTER_0: &str = "demo-broker-0-0.demo-broker-0.mq.svc.cluster.local:10911";
const MASTER_1: &str = "demo-broker-1-0.demo-broker-1.mq.svc.cluster.local:10911";

/// Two groups live and settled, the spec down to one; `status` the previous status.
fn scaled_in(
    status: Option<serde_json::Value>,
    force: bool,
) -> (RocketCluster, Vec<Call>, ClusterResources) {
    scaled_in_securely(json!({}), status, force)
}

/// [`scaled_in`] with `security` as `spec.security`.
fn scaled_in_securely(
    security: serde_json::Value,
    status: Option<serde_json::Value>,
    force: bool,
) -> (RocketCluster, Vec<Call>, ClusterResources) {
    let before = built(&cluster(
        json!({"broker": {"groups": 2}, "security": security}),
        None,
    ));
    let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
    let mut c = cluster(
        json!({"broker": {"groups": 1}, "security": security}),
        status,
    );
    if force {
        c.metadata.annotations =
            Some([("rocketmq.rs/force-drain".to_owned(), "true".to_owned())].into());
    }
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&built(&c), |s| {
        Reply::EchoWithStatus(json!(settled(s).status))
    }));
    calls.push(list_pods(&[
        ("demo-broker-0-0", true),
        ("demo-broker-1-0", true),
    ]));
    (c, calls, before)
}

/// The deletion of group 1's children, StatefulSet last.
fn delete_group_1(before: &ClusterResources) -> Vec<Call> {
    let config_name = before.config_maps[3]
        .metadata
        .name
        .clone()
        .unwrap_or_default();
    vec![
        delete_call(
            &format!("/apis/policy/v1{NS}/poddisruptionbudgets"),
            "demo-broker-1",
            Reply::Json(json!(before.pdbs[2])),
        ),
        // Every ConfigMap of the group: the current one and one a roll left behind.
        list_group_configs(1, &[&config_name, "demo-broker-1-config-0123456789"]),
        delete_call(
            &format!("/api/v1{NS}/configmaps"),
            &config_name,
            Reply::Json(json!(before.config_maps[3])),
        ),
        delete_call(
            &format!("/api/v1{NS}/configmaps"),
            "demo-broker-1-config-0123456789",
            Reply::NotFound,
        ),
        delete_call(
            &format!("/api/v1{NS}/services"),
            "demo-broker-1",
            Reply::NotFound,
        ),
        delete_call(
            &format!("/apis/apps/v1{NS}/statefulsets"),
            "demo-broker-1",
            Reply::Json(json!(before.stateful_sets[2])),
        ),
    ]
}

/// A status whose drain of group 1 took writes off `ago_s` seconds before the fixed clock.
fn draining_since(ago_s: i64) -> serde_json::Value {
    let since = k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 - ago_s).expect("time");
    json!({"syncedGroups": ["demo-broker-0"],
           "drains": [{"name": "demo-broker-1", "writesHeldSince": since.to_string(), "message": ""}]})
}

#[tokio::test]
async fn scaling_in_takes_the_groups_writes_off_and_deletes_nothing_yet() {
    let admin = draining(2, Some(0));
    let (c, mut calls, _) = scaled_in(None, false);
    calls.push(event(
        "DrainStarted",
        "took writes off demo-broker-1 on every name server",
    ));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["drains"][0]["name"], "demo-broker-1", "{s}");
        assert_eq!(
            s["drains"][0]["writesHeldSince"], "2027-01-15T08:00:00Z",
            "{s}"
        );
        assert_eq!(
            conditions(s)[1],
            cond("Progressing", "True", "Draining"),
            "{s}"
        );
        assert!(
            condition_message(s, "Progressing")
                .contains("clients to refresh their routes away from demo-broker-1"),
            "{s}"
        );
        assert_eq!(s["syncedGroups"], json!(["demo-broker-0"]));
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    let namesrvs = 2;
    assert!(
        admin
            .calls()
            .contains(&format!("hold demo-broker-1 on {namesrvs}")),
        "{:?}",
        admin.calls()
    );
}

#[tokio::test]
async fn a_drained_group_is_deleted_once_its_consumers_have_consumed_everything() {
    let admin = draining(0, Some(0));
    let (c, mut calls, before) = scaled_in(Some(draining_since(60)), false);
    calls.extend(delete_group_1(&before));
    calls.push(event(
        "GroupsRemoved",
        "deleted broker groups demo-broker-1",
    ));
    calls.push(status_call(&c, |s| {
        assert!(s.get("drains").is_none(), "{s}");
        assert_eq!(conditions(s)[1].2, "Settled", "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        admin
            .calls()
            .contains(&format!("messages left on {MASTER_1}"))
    );
}

#[tokio::test]
async fn a_group_with_messages_left_is_kept_with_the_count_in_the_status() {
    let admin = draining(0, Some(7));
    let (c, mut calls, _) = scaled_in(Some(draining_since(24 * 3600)), false);
    calls.push(status_call(&c, |s| {
        assert_eq!(s["drains"][0]["messagesLeft"], 7, "{s}");
        assert!(
            s["drains"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("consume the 7 messages left on demo-broker-1"),
            "{s}"
        );
        assert_eq!(
            conditions(s)[1],
            cond("Progressing", "True", "Draining"),
            "{s}"
        );
    }));
    let result = reconcile_expecting(c, calls, admin).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn the_force_annotation_deletes_a_group_with_messages_left() {
    let admin = draining(0, Some(7));
    let (c, mut calls, before) = scaled_in(Some(draining_since(60)), true);
    calls.extend(delete_group_1(&before));
    calls.push(event("GroupsRemoved", "demo-broker-1"));
    calls.push(status_call(&c, |_| {}));
    let result = reconcile_expecting(c, calls, admin).await;
    assert!(result.is_ok(), "{result:?}");
}

/// One group live and synced, two in the spec; group 1's StatefulSet and pod are there.
fn scaled_out(missing: Option<u32>) -> (RocketCluster, Vec<Call>, Arc<ScriptedAdmin>) {
    let spec = json!({"broker": {"groups": 2}});
    let after = built(&cluster(spec.clone(), None));
    let live: Vec<_> = after.stateful_sets.iter().map(settled).collect();
    let c = cluster(spec, Some(json!({"syncedGroups": ["demo-broker-0"]})));
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&built(&c), |s| {
        Reply::EchoWithStatus(json!(settled(s).status))
    }));
    calls.push(list_pods(&[
        ("demo-broker-0-0", true),
        ("demo-broker-1-0", true),
    ]));
    let admin = Arc::new(ScriptedAdmin {
        missing,
        ..ScriptedAdmin::default()
    });
    (c, calls, admin)
}

#[tokio::test]
async fn a_new_group_gets_the_topics_of_a_live_master_before_it_counts_as_synced() {
    let (c, mut calls, admin) = scaled_out(Some(3));
    calls.push(event(
        "TopicsSynced",
        "gave demo-broker-1 the topics and subscription groups",
    ));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["syncedGroups"], json!(["demo-broker-0"]), "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        admin
            .calls()
            .contains(&format!("sync {MASTER_0} -> {MASTER_1}")),
        "{:?}",
        admin.calls()
    );
}

#[tokio::test]
async fn a_new_group_that_lacks_nothing_is_synced() {
    let (c, mut calls, admin) = scaled_out(Some(0));
    calls.push(status_call(&c, |s| {
        assert_eq!(
            s["syncedGroups"],
            json!(["demo-broker-0", "demo-broker-1"]),
            "{s}"
        );
        assert_eq!(conditions(s)[1].2, "Settled", "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        !admin.calls().iter().any(|c| c.starts_with("sync")),
        "{:?}",
        admin.calls()
    );
}

const SECURED: &str = r#"{"acl": {"enabled": true, "secretName": "acl", "adminCredentialsSecret": "ops"},
    "tls": {"broker": {"mode": "enforcing", "secretName": "b-tls"}}}"#;

fn get_secret(name: &str, reply: Reply) -> Call {
    call(Method::GET, format!("/api/v1{NS}/secrets/{name}"), reply)
}

#[tokio::test]
async fn a_secured_cluster_is_drained_over_tls_with_requests_signed_by_the_admin_account() {
    let admin = draining(2, Some(0));
    let security: serde_json::Value = serde_json::from_str(SECURED).expect("spec");
    let (c, mut calls, _) = scaled_in_securely(security, None, false);
    calls.push(get_secret(
        "ops",
        Reply::Json(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ops"},
            "stringData": {"accessKey": "ops-ak", "secretKey": "ops-sk"}}),
        ),
    ));
    calls.push(get_secret(
        "b-tls",
        Reply::Json(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b-tls"},
            "data": {}}),
        ),
    ));
    calls.push(event("DrainStarted", "demo-broker-1"));
    calls.push(status_call(&c, |_| {}));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    let calls = admin.calls();
    assert!(
        calls.contains(
            &"reached with name servers plain, brokers tls ClientTls { verify_server: false, .. }, signed as ops-ak".to_owned()
        ),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"hold demo-broker-1 on 2".to_owned()),
        "{calls:?}"
    );
}

#[tokio::test]
async fn without_the_admin_secret_a_secured_drain_waits_saying_so_and_deletes_nothing() {
    let admin = draining(0, Some(0));
    let security: serde_json::Value = serde_json::from_str(SECURED).expect("spec");
    // Writes already off long ago and nothing left, as far as the status remembers: only
    // the missing account stands between the group and its deletion.
    let (c, mut calls, _) = scaled_in_securely(security, Some(draining_since(3600)), false);
    calls.push(get_secret("ops", Reply::NotFound));
    calls.push(status_call(&c, |s| {
        let message = s["drains"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Secret ops"), "{s}");
        assert_eq!(
            conditions(s)[1],
            cond("Progressing", "True", "Draining"),
            "{s}"
        );
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        !admin.calls().iter().any(|c| c.starts_with("reached")),
        "{:?}",
        admin.calls()
    );
}
