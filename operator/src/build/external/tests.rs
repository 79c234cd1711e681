//! Tests of outside access: the node-port layout, the Services of each type, what a broker
//! pod is given, load-balancer addresses into the ConfigMap and the status, and which Services
//! go when.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, LoadBalancerIngress, LoadBalancerStatus, Service, ServiceStatus,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::build::pod::{CONFIG_HASH_ANNOTATION, TEMPLATE_HASH_ANNOTATION};
use crate::build::tests::validated;
use crate::build::{ClusterResources, build, build_with, owner_reference};
use crate::crd::external::last_broker_node_port;

const NODE_PORT: &str = "spec: {broker: {groups: 2, replicasPerGroup: 1, externalAccess: {type: NodePort, nodePortBase: 30100}}}";
const LOAD_BALANCER: &str = "spec: {nameServer: {externalAccess: {type: LoadBalancer}}, broker: {replicasPerGroup: 1, externalAccess: {type: LoadBalancer, annotations: {service.beta.kubernetes.io/aws-load-balancer-internal: 'true'}}}}";

fn external_services(r: &ClusterResources) -> Vec<&Service> {
    r.services
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(LABEL))
        })
        .collect()
}

fn named<'a>(r: &'a ClusterResources, name: &str) -> &'a Service {
    r.services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no Service {name}"))
}

/// `(name, port, targetPort, nodePort)` of each port of `service`.
fn ports(service: &Service) -> Vec<(String, i32, i32, Option<i32>)> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let target = match p.target_port {
                Some(IntOrString::Int(t)) => t,
                other => panic!("numeric targetPort expected, got {other:?}"),
            };
            (p.name.unwrap_or_default(), p.port, target, p.node_port)
        })
        .collect()
}

fn broker_container(sts: &StatefulSet) -> &Container {
    &sts.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod")
        .containers[0]
}

fn conf<'a>(cm: &'a ConfigMap, key: &str) -> &'a str {
    cm.data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no key {key}"))
}

fn with_ingress(service: &Service, ip: Option<&str>, hostname: Option<&str>) -> Service {
    let mut live = service.clone();
    live.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: Some(vec![LoadBalancerIngress {
                ip: ip.map(str::to_owned),
                hostname: hostname.map(str::to_owned),
                ..LoadBalancerIngress::default()
            }]),
        }),
        ..ServiceStatus::default()
    });
    live
}

#[test]
fn node_ports_pair_up_pods_so_no_two_collide_and_each_vip_is_two_below_its_main_port() {
    let mains: Vec<i64> = (0..6).map(|i| broker_node_port(30000, i)).collect();
    assert_eq!(mains, [30002, 30003, 30006, 30007, 30010, 30011]);
    // The most pods a cluster can have: 64 groups of a master and 8 slaves.
    let pods = 64 * 9;
    let mut seen = BTreeSet::new();
    for i in 0..pods {
        let main = broker_node_port(30000, i);
        assert!(seen.insert(main), "main port of pod {i} taken twice");
        assert!(seen.insert(main - 2), "VIP port of pod {i} taken twice");
    }
    assert_eq!(seen.first(), Some(&30000));
    assert_eq!(seen.last(), Some(&last_broker_node_port(30000, pods)));
    assert_eq!(
        seen.len() as i64,
        last_broker_node_port(30000, pods) - 30000 + 1,
        "no gap"
    );
}

#[test]
fn type_none_builds_no_external_service_whatever_else_the_field_holds() {
    let plain = build(&validated("spec: {broker: {groups: 2}}"));
    let none = build(&validated(
        "spec: {broker: {groups: 2, externalAccess: {type: None, annotations: {a: b}}}, nameServer: {externalAccess: {type: None}}}",
    ));
    assert!(external_services(&none).is_empty());
    assert_eq!(none, plain, "nothing changes for type None");
    let container = broker_container(&none.stateful_sets[1]);
    assert_eq!(
        container.command.as_deref().map(<[String]>::len),
        Some(3),
        "rmq-broker -c <file>"
    );
    assert!(!conf(&none.config_maps[2], "demo-broker-0-0.properties").contains("brokerIP2"));
}

#[test]
fn node_port_brokers_each_get_a_service_mapping_their_own_ports_selected_by_pod_name() {
    let c = validated(NODE_PORT);
    let r = build(&c);
    let names: Vec<_> = external_services(&r)
        .iter()
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    assert_eq!(
        names,
        [
            "demo-broker-0-0-external",
            "demo-broker-0-1-external",
            "demo-broker-1-0-external",
            "demo-broker-1-1-external"
        ]
    );
    // Pod 3 of the cluster: group 1, ordinal 1.
    let service = named(&r, "demo-broker-1-1-external");
    assert_eq!(
        ports(service),
        [
            ("broker".to_owned(), 30107, 30107, Some(30107)),
            ("vip".to_owned(), 30105, 30105, Some(30105)),
        ]
    );
    let spec = service.spec.as_ref().expect("spec");
    assert_eq!(spec.type_.as_deref(), Some("NodePort"));
    let selector = spec.selector.as_ref().expect("selector");
    assert_eq!(
        selector.get(POD_NAME_LABEL).map(String::as_str),
        Some("demo-broker-1-1")
    );
    assert_eq!(selector.get(BROKER_GROUP).map(String::as_str), Some("1"));
    let meta = &service.metadata;
    assert_eq!(meta.owner_references, Some(vec![owner_reference(&c)]));
    let labels = meta.labels.as_ref().expect("labels");
    assert_eq!(labels.get(LABEL).map(String::as_str), Some("true"));
    assert_eq!(
        labels.get(labels::MANAGED_BY).map(String::as_str),
        Some("rmq-operator")
    );
    assert!(meta.annotations.is_none());
}

#[test]
fn a_node_port_broker_listens_on_its_node_port_and_advertises_its_nodes_ip() {
    let r = build(&validated(NODE_PORT));
    let file = conf(&r.config_maps[3], "demo-broker-1-1.properties");
    for line in [
        "listenPort=30107",
        "brokerIP2=demo-broker-1-1.demo-broker-1.mq.svc.cluster.local",
        "haListenPort=10912",
    ] {
        assert!(file.lines().any(|l| l == line), "missing {line} in {file}");
    }
    let container = broker_container(&r.stateful_sets[2]);
    let command = container.command.clone().expect("command");
    assert_eq!(&command[3..], ["--set", "brokerIP1=$(HOST_IP)"]);
    let host_ip = container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "HOST_IP")
        .and_then(|e| e.value_from.as_ref())
        .and_then(|v| v.field_ref.as_ref())
        .map(|f| f.field_path.clone());
    assert_eq!(host_ip.as_deref(), Some("status.hostIP"));
    let declared: Vec<_> = container
        .ports
        .iter()
        .flatten()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(
        declared,
        ["ha", "health"],
        "no shared port: each pod has its own"
    );
}

#[test]
fn load_balancer_services_carry_the_spec_annotations_and_the_usual_ports() {
    let r = build(&validated(LOAD_BALANCER));
    let broker = named(&r, "demo-broker-0-1-external");
    assert_eq!(
        broker.spec.as_ref().and_then(|s| s.type_.as_deref()),
        Some("LoadBalancer")
    );
    assert_eq!(
        ports(broker),
        [
            ("broker".to_owned(), 10911, 10911, None),
            ("vip".to_owned(), 10909, 10909, None),
        ]
    );
    let annotations = broker.metadata.annotations.clone().expect("annotations");
    assert_eq!(
        annotations
            .get("service.beta.kubernetes.io/aws-load-balancer-internal")
            .map(String::as_str),
        Some("true")
    );
    let namesrv = named(&r, "demo-namesrv-1-external");
    assert_eq!(ports(namesrv), [("namesrv".to_owned(), 9876, 9876, None)]);
    assert!(
        namesrv.metadata.annotations.is_none(),
        "the name servers' own annotations"
    );
}

#[test]
fn a_load_balanced_broker_waits_for_its_address_file_and_keeps_its_ports() {
    let r = build(&validated(LOAD_BALANCER));
    let container = broker_container(&r.stateful_sets[1]);
    let command = container.command.clone().expect("command");
    assert_eq!(
        &command[3..],
        [
            "--broker-ip1-file",
            "/etc/rocketmq/$(POD_NAME).external-address"
        ]
    );
    let file = conf(&r.config_maps[2], "demo-broker-0-0.properties");
    assert!(file.contains("\nlistenPort=10911\n"), "{file}");
    assert!(file.contains("\nbrokerIP2=demo-broker-0-0.demo-broker-0.mq.svc.cluster.local\n"));
    assert!(file.contains("demo-broker-0-0.external-address"), "{file}");
    assert_eq!(
        r.config_maps[2].data.as_ref().map(|d| d.len()),
        Some(2),
        "no address before the load balancer has one"
    );
}

#[test]
fn a_load_balancer_address_goes_into_the_config_map_and_restarts_nothing() {
    let c = validated(LOAD_BALANCER);
    let before = build(&c);
    let live = vec![
        with_ingress(
            named(&before, "demo-broker-0-0-external"),
            Some("203.0.113.10"),
            None,
        ),
        with_ingress(
            named(&before, "demo-broker-0-1-external"),
            None,
            Some("lb-1.example.com"),
        ),
    ];
    let after = build_with(&c, &observe(&live));
    let cm = &after.config_maps[2];
    assert_eq!(conf(cm, "demo-broker-0-0.external-address"), "203.0.113.10");
    assert_eq!(
        conf(cm, "demo-broker-0-1.external-address"),
        "lb-1.example.com"
    );
    let annotations = |s: &StatefulSet| {
        let template = s
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.clone());
        (
            template.and_then(|a| a.get(CONFIG_HASH_ANNOTATION).cloned()),
            s.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(TEMPLATE_HASH_ANNOTATION).cloned()),
        )
    };
    assert_eq!(
        annotations(&after.stateful_sets[1]),
        annotations(&before.stateful_sets[1])
    );
    assert_eq!(
        after.stateful_sets, before.stateful_sets,
        "the same StatefulSets: no roll"
    );
    assert_eq!(build_with(&c, &observe(&live)), after, "stable once known");
}

#[test]
fn name_servers_get_node_ports_from_the_base_or_leave_them_to_kubernetes() {
    let based = build(&validated(
        "spec: {nameServer: {replicas: 3, externalAccess: {type: NodePort, nodePortBase: 31000}}}",
    ));
    let node_ports: Vec<_> = external_services(&based)
        .iter()
        .map(|s| ports(s)[0].3)
        .collect();
    assert_eq!(node_ports, [Some(31000), Some(31001), Some(31002)]);
    let picked = build(&validated(
        "spec: {nameServer: {externalAccess: {type: NodePort}}}",
    ));
    let service = named(&picked, "demo-namesrv-0-external");
    assert_eq!(ports(service), [("namesrv".to_owned(), 9876, 9876, None)]);
    let selector = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .expect("selector");
    assert_eq!(
        selector.get(POD_NAME_LABEL).map(String::as_str),
        Some("demo-namesrv-0")
    );
    let broker_sts = &picked.stateful_sets[1];
    assert_eq!(
        broker_container(broker_sts)
            .command
            .as_deref()
            .map(<[String]>::len),
        Some(3),
        "brokers are not touched by the name servers' access"
    );
}

#[test]
fn status_reports_each_address_known_and_the_outside_namesrv_addr_once_all_are() {
    let c = validated(LOAD_BALANCER);
    let built = build(&c);
    let mut live = vec![with_ingress(
        named(&built, "demo-namesrv-0-external"),
        Some("198.51.100.1"),
        None,
    )];
    let (entries, namesrv_addr) = status(&c, &observe(&live));
    let pods: Vec<_> = entries.iter().map(|e| e.pod.as_str()).collect();
    assert_eq!(
        pods,
        [
            "demo-namesrv-0",
            "demo-namesrv-1",
            "demo-broker-0-0",
            "demo-broker-0-1"
        ]
    );
    assert_eq!(entries[0].address.as_deref(), Some("198.51.100.1:9876"));
    assert_eq!(entries[0].type_, "LoadBalancer");
    assert_eq!(entries[1].address, None);
    assert_eq!(namesrv_addr, None, "one name server has no address yet");

    live.push(with_ingress(
        named(&built, "demo-namesrv-1-external"),
        Some("198.51.100.2"),
        None,
    ));
    live.push(with_ingress(
        named(&built, "demo-broker-0-0-external"),
        None,
        Some("b.example.com"),
    ));
    let (entries, namesrv_addr) = status(&c, &observe(&live));
    assert_eq!(
        namesrv_addr.as_deref(),
        Some("198.51.100.1:9876;198.51.100.2:9876")
    );
    assert_eq!(entries[2].address.as_deref(), Some("b.example.com:10911"));
    assert!(entries.iter().all(|e| e.node_port.is_none()));

    let node_port = validated(NODE_PORT);
    let (entries, namesrv_addr) = status(&node_port, &Observed::default());
    assert_eq!(entries[3].pod, "demo-broker-1-1");
    assert_eq!(
        (entries[3].node_port, entries[3].address.clone()),
        (Some(30107), None)
    );
    assert_eq!(namesrv_addr, None);
}

#[test]
fn a_node_port_kubernetes_picked_is_reported_from_the_live_service() {
    let c = validated("spec: {nameServer: {replicas: 1, externalAccess: {type: NodePort}}}");
    let mut live = build(&c).services.pop().expect("external Service");
    if let Some(port) = live
        .spec
        .as_mut()
        .and_then(|s| s.ports.as_mut())
        .and_then(|p| p.first_mut())
    {
        port.node_port = Some(31234);
    }
    let (entries, _) = status(&c, &observe(&[live]));
    assert_eq!(entries[0].node_port, Some(31234));
}

#[test]
fn services_no_longer_asked_for_go_once_their_group_has_rolled_and_removed_groups_keep_theirs() {
    let with = validated(
        "spec: {broker: {groups: 3, externalAccess: {type: LoadBalancer}}, nameServer: {replicas: 1, externalAccess: {type: LoadBalancer}}}",
    );
    let live_services = external_services(&build(&with))
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    // Back to None, and group 2 being removed.
    let without = validated("spec: {broker: {groups: 2}, nameServer: {replicas: 1}}");
    let desired = build(&without);
    let settled = |sts: &StatefulSet, ready: bool| {
        let mut s = sts.clone();
        s.metadata.generation = Some(1);
        s.status = Some(k8s_openapi::api::apps::v1::StatefulSetStatus {
            observed_generation: Some(1),
            replicas: 1,
            ready_replicas: Some(if ready { 1 } else { 0 }),
            updated_replicas: Some(1),
            ..Default::default()
        });
        s
    };
    // Group 0 has rolled to its DNS name; group 1 is still rolling.
    let sets = vec![
        settled(&desired.stateful_sets[0], true),
        settled(&desired.stateful_sets[1], true),
        settled(&desired.stateful_sets[2], false),
    ];
    let gone = unwanted(&without, &desired.services, &live_services, &sets);
    assert_eq!(
        gone,
        ["demo-namesrv-0-external", "demo-broker-0-0-external"]
    );
    assert_eq!(of_group(&live_services, 2), ["demo-broker-2-0-external"]);
    let kept = unwanted(&with, &build(&with).services, &live_services, &sets);
    assert!(kept.is_empty(), "every one still asked for: {kept:?}");
}
