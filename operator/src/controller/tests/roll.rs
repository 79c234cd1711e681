//! A config change rolled through the change planner, against the mock API server and a
//! scripted admin API, one reconcile pass per stage: every pod held by its partition; writes
//! off the first group while the other takes them; after the route refresh and the last sends,
//! the slave's turn; the master only once the slave caught up; writes back; then the next group,
//! with the finished group's older ConfigMap deleted.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSet;
use serde_json::json;

use super::lifecycle::ScriptedAdmin;
use super::mock::*;
use super::*;
use crate::controller::admin::BrokerRuntime;
use crate::plan::Writes;

const MASTER_0: &str = "demo-broker-0-0.demo-broker-0.mq.svc.cluster.local:10911";
const SLAVE_0: &str = "demo-broker-0-1.demo-broker-0.mq.svc.cluster.local:10911";

fn before() -> RocketCluster {
    cluster(
        json!({"broker": {"groups": 2, "replicasPerGroup": 1}}),
        None,
    )
}

fn after(status: Option<serde_json::Value>) -> RocketCluster {
    cluster(
        json!({"broker": {"groups": 2, "replicasPerGroup": 1, "config": {"deleteWhen": "03"}}}),
        status,
    )
}

/// `sts` as live once its new template is applied: update revision `rev-2`, `updated` pods on
/// it, partition `partition`.
fn applied(sts: &StatefulSet, updated: i32, partition: i32) -> StatefulSet {
    let mut s = settled(sts);
    if let Some(status) = s.status.as_mut() {
        status.update_revision = Some("rev-2".into());
        status.updated_replicas = Some(updated);
        if updated == status.replicas {
            status.current_revision = Some("rev-2".into());
        }
    }
    if let Some(ru) = s
        .spec
        .as_mut()
        .and_then(|x| x.update_strategy.as_mut())
        .and_then(|u| u.rolling_update.as_mut())
    {
        ru.partition = Some(partition);
    }
    s
}

/// Pods of both groups, ready, with their revisions.
fn pods(revisions: [&str; 4]) -> Call {
    let names = [
        "demo-broker-0-0",
        "demo-broker-0-1",
        "demo-broker-1-0",
        "demo-broker-1-1",
    ];
    let items: Vec<serde_json::Value> = names
        .iter()
        .zip(revisions)
        .map(|(name, rev)| {
            json!({"metadata": {"name": name, "namespace": "mq",
                                "labels": {"controller-revision-hash": rev}},
                   "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        })
        .collect();
    let mut c = list_pods(&[]);
    c.reply =
        Reply::Json(json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}));
    c
}

/// An admin API where group 0's writes are `on` of 2 name servers (group 1's all on), the
/// master of group 0 at offset `master` with no sends arriving, its slave at `slave`.
fn admin(on: u32, master: u64, slave: u64) -> Arc<ScriptedAdmin> {
    let admin = ScriptedAdmin {
        writes: Writes { on: 2, of: 2 },
        ..ScriptedAdmin::default()
    };
    admin
        .writes_of
        .lock()
        .expect("writes")
        .insert("demo-broker-0".into(), Writes { on, of: 2 });
    let mut runtime = admin.runtime.lock().expect("runtime");
    runtime.insert(
        MASTER_0.into(),
        BrokerRuntime {
            max_offset: Some(master),
            puts_today: Some(500),
        },
    );
    runtime.insert(
        SLAVE_0.into(),
        BrokerRuntime {
            max_offset: Some(slave),
            puts_today: Some(0),
        },
    );
    drop(runtime);
    Arc::new(admin)
}

/// Group 0 rolling, its writes taken off `ago_s` seconds before the fixed clock.
fn rolling_since(ago_s: i64) -> serde_json::Value {
    let since = k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 - ago_s).expect("time");
    json!({"roll": {"name": "demo-broker-0", "writesHeldSince": since.to_string()}})
}

fn partition_of(body: &serde_json::Value) -> serde_json::Value {
    body["spec"]["updateStrategy"]["rollingUpdate"]["partition"].clone()
}

#[tokio::test]
async fn a_config_change_holds_every_pod_and_takes_the_first_group_s_writes_off() {
    let live: Vec<_> = built(&before()).stateful_sets.iter().map(settled).collect();
    let c = after(None);
    let desired = gated(&c, &live);
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&desired, |_| Reply::Echo));
    for name in ["demo-broker-0", "demo-broker-1"] {
        let at = calls
            .iter()
            .position(|x| x.uri.contains(&format!("statefulsets/{name}?")))
            .expect("sts call");
        let check = std::mem::replace(&mut calls[at].check, Box::new(|_| {}));
        calls[at].check = Box::new(move |body| {
            check(body);
            assert_eq!(partition_of(body), 2, "every pod of {name} held");
        });
    }
    calls.push(pods(["rev-1"; 4]));
    calls.push(event("WritesHeld", "took writes off demo-broker-0"));
    calls.push(event(
        "RollingRestart",
        "demo-broker-0, demo-broker-1 changed",
    ));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["roll"]["name"], "demo-broker-0", "{s}");
        assert_eq!(s["roll"]["writesHeldSince"], "2027-01-15T08:00:00Z", "{s}");
        assert_eq!(
            conditions(s)[1],
            cond("Progressing", "True", "RollingUpdate"),
            "{s}"
        );
        assert!(
            condition_message(s, "Progressing")
                .contains("clients to refresh their routes away from demo-broker-0"),
            "{s}"
        );
    }));
    let admin = admin(2, 0, 0);
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        admin
            .calls()
            .contains(&"hold demo-broker-0 on 2".to_owned()),
        "{:?}",
        admin.calls()
    );
}

#[tokio::test]
async fn after_the_route_refresh_and_the_last_sends_the_slave_takes_the_new_template_first() {
    let c = after(Some(rolling_since(60)));
    let new = built(&c);
    let live = vec![
        settled(&new.stateful_sets[0]),
        applied(&new.stateful_sets[1], 0, 2),
        applied(&new.stateful_sets[2], 0, 2),
    ];
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&gated(&c, &live), |_| Reply::Echo));
    calls.push(pods(["rev-1"; 4]));
    calls.push(partition_call("demo-broker-0", 1));
    calls.push(status_call(&c, |s| {
        assert!(
            condition_message(s, "Progressing").contains("pod demo-broker-0-1 to restart"),
            "{s}"
        );
        assert_eq!(s["roll"]["writesHeldSince"], "2027-01-15T07:59:00Z", "{s}");
    }));
    let admin = admin(0, 100, 100);
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    // The master was asked twice for its sends, 2 s apart.
    let asked = admin
        .calls()
        .iter()
        .filter(|x| *x == &format!("runtime of {MASTER_0}"))
        .count();
    assert_eq!(asked, 2, "{:?}", admin.calls());
}

#[tokio::test]
async fn the_master_waits_while_its_restarted_slave_is_behind() {
    let c = after(Some(rolling_since(90)));
    let new = built(&c);
    let live = vec![
        settled(&new.stateful_sets[0]),
        applied(&new.stateful_sets[1], 1, 1),
        applied(&new.stateful_sets[2], 0, 2),
    ];
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&gated(&c, &live), |_| Reply::Echo));
    calls.push(pods(["rev-1", "rev-2", "rev-1", "rev-1"]));
    // No partition call: the master keeps its pod.
    calls.push(status_call(&c, |s| {
        assert!(
            condition_message(s, "Progressing").contains("demo-broker-0-1"),
            "{s}"
        );
    }));
    let result = reconcile_expecting(c, calls, admin(0, 1000, 900)).await;
    assert!(result.is_ok(), "{result:?}");

    // Caught up: the master's turn.
    let c = after(Some(rolling_since(95)));
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&gated(&c, &live), |_| Reply::Echo));
    calls.push(pods(["rev-1", "rev-2", "rev-1", "rev-1"]));
    calls.push(partition_call("demo-broker-0", 0));
    calls.push(status_call(&c, |_| {}));
    let result = reconcile_expecting(c, calls, admin(0, 1000, 1000)).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn writes_come_back_once_the_group_is_settled_and_the_next_turn_deletes_its_older_config() {
    let c = after(Some(rolling_since(120)));
    let new = built(&c);
    let live = vec![
        settled(&new.stateful_sets[0]),
        applied(&new.stateful_sets[1], 2, 0),
        applied(&new.stateful_sets[2], 0, 2),
    ];
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&gated(&c, &live), |_| Reply::Echo));
    calls.push(pods(["rev-2", "rev-2", "rev-1", "rev-1"]));
    calls.push(event("WritesReleased", "gave writes back to demo-broker-0"));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["roll"]["name"], "demo-broker-0", "{s}");
        assert!(s["roll"].get("writesHeldSince").is_none(), "{s}");
    }));
    let admin0 = admin(0, 1000, 1000);
    let result = reconcile_expecting(c, calls, admin0.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        admin0
            .calls()
            .contains(&"release demo-broker-0 on 2".to_owned()),
        "{:?}",
        admin0.calls()
    );

    // The next pass: group 0 is done (its older ConfigMap goes), group 1's writes come off.
    let c = after(Some(json!({"roll": {"name": "demo-broker-0"}})));
    let mut calls = vec![list_sts(&live), list_external(&[])];
    calls.extend(apply_calls(&gated(&c, &live), |_| Reply::Echo));
    calls.push(pods(["rev-2", "rev-2", "rev-1", "rev-1"]));
    let current = new.config_maps[2].metadata.name.clone().unwrap_or_default();
    let older = built(&before()).config_maps[2]
        .metadata
        .name
        .clone()
        .unwrap_or_default();
    assert_ne!(current, older);
    calls.push(list_group_configs(0, &[&current, &older]));
    calls.push(delete_call(
        &format!("/api/v1{NS}/configmaps"),
        &older,
        Reply::NotFound,
    ));
    calls.push(event("WritesHeld", "took writes off demo-broker-1"));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["roll"]["name"], "demo-broker-1", "{s}");
    }));
    let admin1 = admin(2, 1000, 1000);
    let result = reconcile_expecting(c, calls, admin1.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        admin1
            .calls()
            .contains(&"hold demo-broker-1 on 2".to_owned()),
        "{:?}",
        admin1.calls()
    );
}
