//! A changed name-server list, against the mock API server and a scripted admin API: the
//! running brokers are given it once every name server is ready (no pod restarted), and name
//! servers being removed stay until they have it.

use std::sync::Arc;

use serde_json::json;

use super::lifecycle::ScriptedAdmin;
use super::mock::*;
use super::*;

fn list(n: u32) -> String {
    (0..n)
        .map(|o| format!("demo-namesrv-{o}.demo-namesrv.mq.svc.cluster.local:9876"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The pod list: three name servers and group 0's two brokers, ready or not.
fn pods(namesrvs: [bool; 3], brokers: [bool; 2]) -> Call {
    list_pods(&[
        ("demo-namesrv-0", namesrvs[0]),
        ("demo-namesrv-1", namesrvs[1]),
        ("demo-namesrv-2", namesrvs[2]),
        ("demo-broker-0-0", brokers[0]),
        ("demo-broker-0-1", brokers[1]),
    ])
}

fn spec(namesrvs: u32) -> serde_json::Value {
    json!({"nameServer": {"replicas": namesrvs}, "broker": {"groups": 1, "replicasPerGroup": 1}})
}

/// A cluster whose brokers run with the list of `running` name servers, the spec asking for
/// `wanted`; the live StatefulSets settled with `live` name servers. The name-server
/// StatefulSet is expected applied with `live` replicas when `held`, else `wanted`.
fn changed(running: u32, wanted: u32, live: u32, held: bool) -> (RocketCluster, Vec<Call>) {
    let mut before = built(&cluster(spec(live), None));
    let live_sts: Vec<_> = before
        .stateful_sets
        .iter_mut()
        .map(|s| settled(s))
        .collect();
    let c = cluster(
        spec(wanted),
        Some(json!({"brokersNameServerAddress": list(running)})),
    );
    let mut calls = vec![list_sts(&live_sts), list_external(&[])];
    let mut desired = built(&c);
    if held && let Some(s) = desired.stateful_sets[0].spec.as_mut() {
        s.replicas = Some(i32::try_from(live).expect("replicas"));
    }
    calls.extend(apply_calls(&desired, |s| {
        Reply::EchoWithStatus(json!(settled(s).status))
    }));
    (c, calls)
}

#[tokio::test]
async fn a_name_server_more_is_given_to_every_running_broker_once_it_is_ready() {
    let admin = Arc::new(ScriptedAdmin {
        namesrvs: Some(list(2)),
        ..ScriptedAdmin::default()
    });
    let (c, mut calls) = changed(2, 3, 3, false);
    calls.push(pods([true, true, true], [true, true]));
    calls.push(event(
        "NameServersGiven",
        "demo-broker-0-0, demo-broker-0-1",
    ));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["brokersNameServerAddress"], list(3), "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    let master = "demo-broker-0-0.demo-broker-0.mq.svc.cluster.local:10911";
    let calls = admin.calls();
    assert!(
        calls.contains(&format!("namesrvs of {master}")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&format!("tell {master} {}", list(3))),
        "{calls:?}"
    );
}

#[tokio::test]
async fn brokers_get_no_list_naming_a_name_server_that_is_not_ready() {
    let admin = Arc::new(ScriptedAdmin::default());
    let (c, mut calls) = changed(2, 3, 3, false);
    calls.push(pods([true, true, false], [true, true]));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["brokersNameServerAddress"], list(2), "{s}");
        assert_eq!(
            conditions(s)[1],
            cond("Progressing", "True", "ChangingNameServers"),
            "{s}"
        );
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(
        !admin.calls().iter().any(|c| c.starts_with("tell")),
        "{:?}",
        admin.calls()
    );
}

#[tokio::test]
async fn name_servers_being_removed_stay_until_every_broker_runs_without_them() {
    let admin = Arc::new(ScriptedAdmin::default());
    // Three running and known to the brokers, two in the spec; a broker is restarting.
    let (c, mut calls) = changed(3, 2, 3, true);
    calls.push(pods([true, true, true], [true, false]));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["brokersNameServerAddress"], list(3), "{s}");
        let progressing = condition_message(s, "Progressing");
        assert!(progressing.contains("demo-broker-0-1"), "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");

    // Once the brokers run with the two, the third goes.
    let admin = Arc::new(ScriptedAdmin {
        namesrvs: Some(list(2)),
        ..ScriptedAdmin::default()
    });
    let (c, mut calls) = changed(3, 2, 3, true);
    calls.push(pods([true, true, true], [true, true]));
    calls.push(status_call(&c, |s| {
        assert_eq!(s["brokersNameServerAddress"], list(2), "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    // Every broker already ran with the list: asked, not told.
    assert!(
        !admin.calls().iter().any(|c| c.starts_with("tell")),
        "{:?}",
        admin.calls()
    );
    // The next pass, with the list remembered: the StatefulSet goes down to the spec's two,
    // and nothing is asked of the brokers.
    let admin = Arc::new(ScriptedAdmin::default());
    let (c, mut calls) = changed(2, 2, 3, false);
    calls.push(status_call(&c, |s| {
        assert_eq!(s["brokersNameServerAddress"], list(2), "{s}");
    }));
    let result = reconcile_expecting(c, calls, admin.clone()).await;
    assert!(result.is_ok(), "{result:?}");
    assert!(admin.calls().is_empty(), "{:?}", admin.calls());
}
