//! Outside access (`spec.broker.externalAccess`, `spec.nameServer.externalAccess`): one Service
//! per pod, the ports a broker listens on, and what the live Services tell.
//!
//! ```text
//! <c>-namesrv-<o>-external     NodePort      nodePortBase + o (or Kubernetes' pick) → 9876
//!                              LoadBalancer  9876 → 9876
//! <c>-broker-<g>-<o>-external  NodePort      node port N → N (listenPort), N−2 → N−2 (VIP)
//!                              LoadBalancer  10911 → 10911, 10909 → 10909
//! ```
//!
//! Node ports of the brokers, b = `nodePortBase`, pod i = g × podsPerGroup + o:
//!
//! ```text
//! b+0   b+1   b+2    b+3   | b+4   b+5   b+6    b+7   | ...
//! VIP 0 VIP 1 main 0 main 1| VIP 2 VIP 3 main 2 main 3|
//! ```
//!
//! A broker behind a node port listens on its main node port itself (`listenPort`, and its VIP
//! channel on `listenPort − 2`), so the port it registers with the name servers, next to the IP
//! of its node (`--set brokerIP1=$(HOST_IP)`), is the one clients outside reach.
//!
//! A broker behind a load balancer reads its address from the key `<pod>.external-address` of
//! its group's ConfigMap ([`address_entries`]), written once its live Service has an ingress;
//! the pods' config hash leaves those keys out ([`is_address_key`]), so the address arriving
//! restarts nothing: the waiting broker reads it from the mounted file.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{self, BROKER_GROUP, Component};
use super::rollout::{group_of, is_settled};
use super::{metadata, names};
use crate::crd::external::broker_node_port;
use crate::crd::{ExternalAccessSpec, ExternalAccessType, ExternalAddress};
use crate::validate::ValidatedCluster;

/// Label on every external Service (value `true`), how the operator lists them.
pub const LABEL: &str = "rocketmq.rs/external-access";
/// The label a StatefulSet puts on each of its pods: what an external Service selects.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";

/// Index of pod `ordinal` of group `group` in the brokers' node-port numbering.
pub fn pod_index(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> u32 {
    group * cluster.pods_per_group() + ordinal
}

/// `listenPort` of pod `ordinal` of group `group`: its main node port under NodePort, 10911
/// otherwise.
pub fn broker_listen_port(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> u16 {
    let access = &cluster.spec.broker.external_access;
    match (access.type_, access.node_port_base) {
        (ExternalAccessType::NodePort, Some(base)) => {
            let port = broker_node_port(base, pod_index(cluster, group, ordinal));
            // Validation keeps every port within the node-port range.
            u16::try_from(port).unwrap_or(names::BROKER_PORT)
        }
        _ => names::BROKER_PORT,
    }
}

/// Every external Service of `cluster`: name servers, then each group's pods.
pub fn services(cluster: &ValidatedCluster) -> Vec<Service> {
    targets(cluster)
        .into_iter()
        .map(|t| {
            let mut meta = metadata(cluster, t.service.clone(), t.component);
            meta.labels
                .get_or_insert_default()
                .insert(LABEL.to_owned(), "true".to_owned());
            meta.annotations =
                (!t.access.annotations.is_empty()).then(|| t.access.annotations.clone());
            let mut selector = labels::selector(cluster, t.component);
            selector.insert(POD_NAME_LABEL.to_owned(), t.pod.clone());
            Service {
                metadata: meta,
                spec: Some(ServiceSpec {
                    type_: t.access.type_.service_type().map(str::to_owned),
                    selector: Some(selector),
                    ports: Some(t.ports),
                    ..ServiceSpec::default()
                }),
                ..Service::default()
            }
        })
        .collect()
}

/// What the live external Services tell, by Service name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Load-balancer host: the first ingress's IP, else its hostname.
    pub addresses: BTreeMap<String, String>,
    /// Node port of the RocketMQ port (`namesrv` or `broker`), as Kubernetes allocated it.
    pub node_ports: BTreeMap<String, i32>,
}

/// Reads `live` (the cluster's external Services).
pub fn observe(live: &[Service]) -> Observed {
    let mut out = Observed::default();
    for service in live {
        let Some(name) = service.metadata.name.clone() else {
            continue;
        };
        let ingress = service
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .and_then(|i| i.first());
        if let Some(host) = ingress
            .and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()))
            .filter(|h| !h.is_empty())
        {
            out.addresses.insert(name.clone(), host);
        }
        let node_port = service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .into_iter()
            .flatten()
            .find(|p| matches!(p.name.as_deref(), Some("broker" | "namesrv")))
            .and_then(|p| p.node_port);
        if let Some(port) = node_port {
            out.node_ports.insert(name, port);
        }
    }
    out
}

/// The `<pod>.external-address` entries of group `group`'s ConfigMap: each pod's
/// load-balancer host known so far (`LoadBalancer` only).
pub fn address_entries(
    cluster: &ValidatedCluster,
    group: u32,
    observed: &Observed,
) -> Vec<(String, String)> {
    if cluster.spec.broker.external_access.type_ != ExternalAccessType::LoadBalancer {
        return Vec::new();
    }
    (0..cluster.pods_per_group())
        .filter_map(|o| {
            let host = observed
                .addresses
                .get(&names::broker_external(cluster, group, o))?;
            let pod = names::broker_pod(cluster, group, o);
            Some((names::broker_address_key(&pod), host.clone()))
        })
        .collect()
}

/// Whether a ConfigMap key is a pod's outside address (left out of the config hash).
pub fn is_address_key(key: &str) -> bool {
    key.ends_with(names::EXTERNAL_ADDRESS_SUFFIX)
}

/// `status.externalAddresses` and `status.externalNameServerAddress`.
pub fn status(
    cluster: &ValidatedCluster,
    observed: &Observed,
) -> (Vec<ExternalAddress>, Option<String>) {
    let entries: Vec<ExternalAddress> = targets(cluster)
        .into_iter()
        .map(|t| {
            let address = (t.access.type_ == ExternalAccessType::LoadBalancer)
                .then(|| observed.addresses.get(&t.service))
                .flatten()
                .map(|host| format!("{host}:{}", t.port));
            let node_port = (t.access.type_ == ExternalAccessType::NodePort)
                .then(|| {
                    t.ports[0]
                        .node_port
                        .or_else(|| observed.node_ports.get(&t.service).copied())
                })
                .flatten();
            ExternalAddress {
                pod: t.pod,
                service: t.service,
                type_: t.access.type_.service_type().unwrap_or_default().to_owned(),
                address,
                node_port,
            }
        })
        .collect();
    let namesrvs: Vec<&ExternalAddress> = (0..cluster.name_servers())
        .filter_map(|o| {
            let pod = names::namesrv_pod(cluster, o);
            entries.iter().find(|e| e.pod == pod)
        })
        .collect();
    let namesrv_addr =
        (!namesrvs.is_empty() && namesrvs.iter().all(|e| e.address.is_some())).then(|| {
            namesrvs
                .iter()
                .filter_map(|e| e.address.clone())
                .collect::<Vec<_>>()
                .join(";")
        });
    (entries, namesrv_addr)
}

/// Names of the `live` external Services to delete: not among `desired`, and neither of a group
/// being removed (they go with the group, once drained: outside consumers still read it) nor of
/// a group whose StatefulSet in `stateful_sets` has not settled (some of its brokers may still
/// advertise them).
pub fn unwanted(
    cluster: &ValidatedCluster,
    desired: &[Service],
    live: &[Service],
    stateful_sets: &[StatefulSet],
) -> Vec<String> {
    live.iter()
        .filter_map(|s| s.metadata.name.clone().map(|name| (name, group_label(s))))
        .filter(|(name, _)| {
            !desired
                .iter()
                .any(|d| d.metadata.name.as_ref() == Some(name))
        })
        .filter(|(_, group)| match group {
            None => true,
            Some(g) if *g >= cluster.groups() => false,
            Some(g) => stateful_sets
                .iter()
                .any(|sts| group_of(sts) == Some(*g) && is_settled(sts)),
        })
        .map(|(name, _)| name)
        .collect()
}

/// Names of the `live` external Services of group `group`.
pub fn of_group(live: &[Service], group: u32) -> Vec<String> {
    live.iter()
        .filter(|s| group_label(s) == Some(group))
        .filter_map(|s| s.metadata.name.clone())
        .collect()
}

/// One pod with an external Service.
struct Target<'a> {
    pod: String,
    service: String,
    component: Component,
    access: &'a ExternalAccessSpec,
    /// Service ports, the RocketMQ port first.
    ports: Vec<ServicePort>,
    /// The RocketMQ port clients dial (the Service port).
    port: i32,
}

fn targets(cluster: &ValidatedCluster) -> Vec<Target<'_>> {
    let mut out = Vec::new();
    let access = &cluster.spec.name_server.external_access;
    if access.type_ != ExternalAccessType::None {
        for o in 0..cluster.name_servers() {
            let node_port = access
                .node_port_base
                .filter(|_| access.type_ == ExternalAccessType::NodePort)
                .map(|base| base + i32::try_from(o).unwrap_or(0));
            let port = i32::from(names::NAMESRV_PORT);
            out.push(Target {
                pod: names::namesrv_pod(cluster, o),
                service: names::namesrv_external(cluster, o),
                component: Component::NameServer,
                access,
                ports: vec![service_port("namesrv", port, node_port)],
                port,
            });
        }
    }
    let access = &cluster.spec.broker.external_access;
    if access.type_ != ExternalAccessType::None {
        for g in 0..cluster.groups() {
            for o in 0..cluster.pods_per_group() {
                let (main, vip, node_ports) = match access.type_ {
                    ExternalAccessType::NodePort => {
                        let main = i32::from(broker_listen_port(cluster, g, o));
                        (main, main - 2, true)
                    }
                    _ => (
                        i32::from(names::BROKER_PORT),
                        i32::from(names::BROKER_VIP_PORT),
                        false,
                    ),
                };
                out.push(Target {
                    pod: names::broker_pod(cluster, g, o),
                    service: names::broker_external(cluster, g, o),
                    component: Component::BrokerGroup(g),
                    access,
                    ports: vec![
                        service_port("broker", main, node_ports.then_some(main)),
                        service_port("vip", vip, node_ports.then_some(vip)),
                    ],
                    port: main,
                });
            }
        }
    }
    out
}

fn service_port(name: &str, port: i32, node_port: Option<i32>) -> ServicePort {
    ServicePort {
        name: Some(name.to_owned()),
        port,
        target_port: Some(IntOrString::Int(port)),
        node_port,
        protocol: Some("TCP".to_owned()),
        ..ServicePort::default()
    }
}

fn group_label(service: &Service) -> Option<u32> {
    service
        .metadata
        .labels
        .as_ref()?
        .get(BROKER_GROUP)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests;
