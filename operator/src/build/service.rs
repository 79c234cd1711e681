//! Headless Services: they give every pod a stable DNS name (`<pod>.<service>.<ns>.svc`).

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};

use super::labels::{self, Component};
use super::{broker_conf, metadata, names};
use crate::validate::ValidatedCluster;

/// Headless Service of the name servers.
pub fn namesrv(cluster: &ValidatedCluster) -> Service {
    headless(
        cluster,
        names::namesrv(cluster),
        Component::NameServer,
        with_metrics(cluster, vec![port("namesrv", names::NAMESRV_PORT)]),
    )
}

/// Headless Service of broker group `group`.
pub fn broker_group(cluster: &ValidatedCluster, group: u32) -> Service {
    headless(
        cluster,
        names::broker_group(cluster, group),
        Component::BrokerGroup(group),
        with_metrics(
            cluster,
            vec![
                port("broker", names::BROKER_PORT),
                port("ha", names::BROKER_HA_PORT),
            ],
        ),
    )
}

/// `ports` plus `metrics` when `spec.metrics.enabled`, so a ServiceMonitor can select it.
fn with_metrics(cluster: &ValidatedCluster, mut ports: Vec<ServicePort>) -> Vec<ServicePort> {
    if cluster.spec.metrics.enabled {
        ports.push(port(
            names::METRICS_PORT_NAME,
            broker_conf::metrics_port(cluster),
        ));
    }
    ports
}

fn headless(
    cluster: &ValidatedCluster,
    name: String,
    component: Component,
    ports: Vec<ServicePort>,
) -> Service {
    Service {
        metadata: metadata(cluster, name, component),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_owned()),
            // Brokers and slaves must resolve each other (and the name servers) while starting,
            // before any of them is Ready.
            publish_not_ready_addresses: Some(true),
            selector: Some(labels::selector(cluster, component)),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn port(name: &str, port: u16) -> ServicePort {
    ServicePort {
        name: Some(name.to_owned()),
        port: i32::from(port),
        protocol: Some("TCP".to_owned()),
        ..ServicePort::default()
    }
}
