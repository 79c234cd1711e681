//! Outside access against the mock API server: a load balancer's address reaching the
//! ConfigMap and the status without a roll, external Services deleted once the spec no longer
//! asks for them (a broker's only after its group has rolled), and a drained group's going with
//! it.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, Service, ServiceStatus};
use serde_json::json;

use super::lifecycle::ScriptedAdmin;
use super::mock::*;
use super::*;
use crate::build::{self, external};
use crate::plan::Writes;

fn external_of(r: &build::ClusterResources) -> Vec<Service> {
    r.services
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(external::LABEL))
        })
        .cloned()
        .collect()
}

fn with_ip(service: &Service, ip: &str) -> Service {
    let mut live = service.clone();
    live.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: Some(vec![LoadBalancerIngress {
                ip: Some(ip.to_owned()),
                ..LoadBalancerIngress::default()
            }]),
        }),
        ..ServiceStatus::default()
    });
    live
}

fn delete_service(service: &Service) -> Call {
    delete_call(
        &format!("/api/v1{NS}/services"),
        service.metadata.name.as_deref().unwrap_or_default(),
        Reply::Json(json!(service)),
    )
}

#[tokio::test]
async fn a_load_balancer_address_reaches_the_config_map_and_the_status_without_a_roll() {
    let c = cluster(
        json!({"broker": {"replicasPerGroup": 1, "externalAccess": {"type": "LoadBalancer"}}}),
        None,
    );
    let before = built(&c);
    let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
    let services = external_of(&before);
    let live_services = vec![with_ip(&services[0], "203.0.113.10"), services[1].clone()];
    let validated = validate(&c, &Environment::default()).expect("valid");
    let after = build::build_with(&validated, &external::observe(&live_services));
    assert_eq!(
        after.stateful_sets, before.stateful_sets,
        "the address restarts no pod"
    );
    let mut calls = vec![list_sts(&live), list_external(&live_services)];
    let mut applies = apply_calls(&after, |s| Reply::EchoWithStatus(json!(settled(s).status)));
    let cm_name = after.config_maps[2]
        .metadata
        .name
        .clone()
        .unwrap_or_default();
    let cm = applies
        .iter()
        .position(|c| c.uri.contains(&format!("configmaps/{cm_name}?")))
        .expect("the group's ConfigMap is applied");
    applies[cm] = apply_call(
        &format!("/api/v1{NS}/configmaps"),
        &cm_name,
        json!(after.config_maps[2]),
        Reply::Echo,
    )
    .checking(|body| {
        assert_eq!(
            body["data"]["demo-broker-0-0.external-address"], "203.0.113.10",
            "{body}"
        );
        assert!(
            body["data"]
                .get("demo-broker-0-1.external-address")
                .is_none(),
            "no address yet for the slave's load balancer: {body}"
        );
    });
    calls.extend(applies);
    calls.push(status_call(&c, |s| {
        assert_eq!(
            s["externalAddresses"],
            json!([
                {"pod": "demo-broker-0-0", "service": "demo-broker-0-0-external",
                 "type": "LoadBalancer", "address": "203.0.113.10:10911"},
                {"pod": "demo-broker-0-1", "service": "demo-broker-0-1-external",
                 "type": "LoadBalancer"}
            ]),
            "{s}"
        );
        assert!(s.get("externalNameServerAddress").is_none(), "{s}");
        assert_eq!(conditions(s)[1], cond("Progressing", "False", "Settled"));
    }));
    let result = reconcile_expecting(c, calls, Arc::default()).await;
    assert!(result.is_ok(), "{result:?}");
}

/// Both roles behind load balancers, live and settled; the spec back to `None`; the
/// StatefulSets answer as `reply` says. The calls up to the deletions.
fn switched_to_none(
    reply: fn(&k8s_openapi::api::apps::v1::StatefulSet) -> Reply,
) -> (RocketCluster, Vec<Call>, Vec<Service>) {
    let spec = json!({"nameServer": {"externalAccess": {"type": "LoadBalancer"}},
                      "broker": {"externalAccess": {"type": "LoadBalancer"}}});
    let before = built(&cluster(spec, None));
    let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
    let live_services = external_of(&before);
    let c = cluster(json!({}), None);
    let mut calls = vec![list_sts(&live), list_external(&live_services)];
    calls.extend(apply_calls(&gated(&c, &live), reply));
    // The new template's roll starts: the lone group's only pod takes it at once.
    calls.push(list_pods(&[("demo-broker-0-0", true)]));
    calls.push(partition_call("demo-broker-0", 0));
    (c, calls, live_services)
}

#[tokio::test]
async fn switched_back_to_none_the_name_servers_services_go_at_once_and_a_brokers_once_it_rolled() {
    // The broker group has just been given its new template: not settled.
    let (c, mut calls, services) = switched_to_none(|_| Reply::Echo);
    let names: Vec<_> = services
        .iter()
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    assert_eq!(
        names,
        [
            "demo-namesrv-0-external",
            "demo-namesrv-1-external",
            "demo-broker-0-0-external"
        ]
    );
    calls.push(delete_service(&services[0]));
    calls.push(delete_service(&services[1]));
    calls.push(event("RollingRestart", "demo-broker-0 changed"));
    calls.push(status_call(&c, |s| {
        assert!(s.get("externalAddresses").is_none(), "{s}");
    }));
    let result = reconcile_expecting(c, calls, Arc::default()).await;
    assert!(result.is_ok(), "{result:?}");

    // Rolled: its brokers advertise their DNS names again, the Service goes too.
    let (c, mut calls, services) =
        switched_to_none(|s| Reply::EchoWithStatus(json!(settled(s).status)));
    for service in &services {
        calls.push(delete_service(service));
    }
    calls.push(event("RollingRestart", "demo-broker-0 changed"));
    calls.push(status_call(&c, |_| {}));
    let result = reconcile_expecting(c, calls, Arc::default()).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn a_drained_group_takes_its_external_services_with_it() {
    let spec = |groups: u32| json!({"broker": {"groups": groups, "externalAccess": {"type": "LoadBalancer"}}});
    let before = built(&cluster(spec(2), None));
    let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
    let live_services = external_of(&before);
    let since = k8s_openapi::jiff::Timestamp::from_second(1_800_000_000 - 60).expect("time");
    let c = cluster(
        spec(1),
        Some(json!({"syncedGroups": ["demo-broker-0"],
                    "drains": [{"name": "demo-broker-1", "writesHeldSince": since.to_string(), "message": ""}]})),
    );
    let mut calls = vec![list_sts(&live), list_external(&live_services)];
    calls.extend(apply_calls(&built(&c), |s| {
        Reply::EchoWithStatus(json!(settled(s).status))
    }));
    calls.push(list_pods(&[
        ("demo-broker-0-0", true),
        ("demo-broker-1-0", true),
    ]));
    assert_eq!(
        live_services[1].metadata.name.as_deref(),
        Some("demo-broker-1-0-external")
    );
    calls.push(delete_service(&live_services[1]));
    for (path, object) in [
        (
            "/apis/policy/v1{NS}/poddisruptionbudgets",
            json!(before.pdbs[2]),
        ),
        ("/api/v1{NS}/configmaps", json!(before.config_maps[3])),
        ("/api/v1{NS}/services", json!(before.services[2])),
        (
            "/apis/apps/v1{NS}/statefulsets",
            json!(before.stateful_sets[2]),
        ),
    ] {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if path.contains("configmaps") {
            calls.push(list_group_configs(1, &[&name]));
        }
        calls.push(delete_call(
            &path.replace("{NS}", NS),
            &name,
            Reply::Json(object),
        ));
    }
    calls.push(event(
        "GroupsRemoved",
        "deleted broker groups demo-broker-1",
    ));
    calls.push(status_call(&c, |s| {
        let pods: Vec<_> = s["externalAddresses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["pod"].clone())
            .collect();
        assert_eq!(pods, [json!("demo-broker-0-0")], "{s}");
    }));
    let admin = Arc::new(ScriptedAdmin {
        writes: Writes { on: 0, of: 2 },
        messages_left: Some(0),
        ..ScriptedAdmin::default()
    });
    let result = reconcile_expecting(c, calls, admin).await;
    assert!(result.is_ok(), "{result:?}");
}
