//! Names and stable DNS names of every child object, derived from the spec alone.
//!
//! ```text
//! <c>-namesrv                  headless Service + StatefulSet of the name servers
//! <c>-namesrv-<i>.<c>-namesrv.<ns>.svc.<domain>:9876     name server i
//! <c>-broker-<g>               brokerName, headless Service, StatefulSet, PDB of group g
//! <c>-broker-<g>-config-<hash> ConfigMap: one <c>-broker-<g>-<o>.properties per pod, per config
//! <c>-broker-<g>-<o>.<c>-broker-<g>.<ns>.svc.<domain>     brokerIP1 of pod o of group g
//!                              (brokerIP2 with externalAccess: what slaves replicate from)
//! <c>-broker-<g>-<o>-external  NodePort or LoadBalancer Service of that pod (externalAccess)
//! <c>-broker-<g>-<o>.external-address   its load balancer's address, in the group's ConfigMap
//! <c>-namesrv-<i>-external     NodePort or LoadBalancer Service of name server i
//! <c>-namesrv-tls, <c>-broker-tls   cert-manager Certificates (and their Secrets), per role
//! ```

use crate::crd::TlsRole;
use crate::validate::ValidatedCluster;

/// Port name servers listen on.
pub const NAMESRV_PORT: u16 = 9876;
/// Port brokers listen on (`listenPort`).
pub const BROKER_PORT: u16 = 10911;
/// The VIP channel Java clients may use: `listenPort - 2`, served by the broker too.
pub const BROKER_VIP_PORT: u16 = 10909;
/// Port of master/slave replication (`listenPort + 1`, RocketMQ's default `haListenPort`).
pub const BROKER_HA_PORT: u16 = 10912;
/// The broker's `/livez` and `/readyz` (`healthListenPort`), what its probes ask.
pub const BROKER_HEALTH_PORT: u16 = 10914;
/// Name of the container and Service port of `/metrics` (what a PodMonitor selects).
pub const METRICS_PORT_NAME: &str = "metrics";

/// Name of the name servers' StatefulSet and headless Service.
pub fn namesrv(cluster: &ValidatedCluster) -> String {
    format!("{}-namesrv", cluster.name)
}

/// Name of the name servers' ConfigMap.
pub fn namesrv_config(cluster: &ValidatedCluster) -> String {
    format!("{}-namesrv-config", cluster.name)
}

/// Name of the discovery ConfigMap (`NAMESRV_ADDR` for clients).
pub fn discovery(cluster: &ValidatedCluster) -> String {
    format!("{}-discovery", cluster.name)
}

/// `brokerName` of group `group`, also its StatefulSet, Service and PDB name.
pub fn broker_group(cluster: &ValidatedCluster, group: u32) -> String {
    format!("{}-broker-{group}", cluster.name)
}

/// Name of group `group`'s ConfigMap for config hash `hash`: a config change makes a new
/// ConfigMap, so the files pods of the previous template read never change under them.
pub fn broker_config(cluster: &ValidatedCluster, group: u32, hash: &str) -> String {
    let short = hash.get(..10).unwrap_or(hash);
    format!("{}-broker-{group}-config-{short}", cluster.name)
}

/// Name of pod `ordinal` of group `group`.
pub fn broker_pod(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> String {
    format!("{}-{ordinal}", broker_group(cluster, group))
}

/// Key of pod `pod`'s broker.conf in its group's ConfigMap.
pub fn broker_conf_key(pod: &str) -> String {
    format!("{pod}.properties")
}

/// End of the key of a broker pod's outside address in its group's ConfigMap.
pub const EXTERNAL_ADDRESS_SUFFIX: &str = ".external-address";

/// Key of pod `pod`'s outside address (its load balancer's) in its group's ConfigMap.
pub fn broker_address_key(pod: &str) -> String {
    format!("{pod}{EXTERNAL_ADDRESS_SUFFIX}")
}

/// Name of the external Service of pod `ordinal` of group `group`.
pub fn broker_external(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> String {
    format!("{}-external", broker_pod(cluster, group, ordinal))
}

/// Name of name server `ordinal`'s pod.
pub fn namesrv_pod(cluster: &ValidatedCluster, ordinal: u32) -> String {
    format!("{}-{ordinal}", namesrv(cluster))
}

/// Name of the external Service of name server `ordinal`.
pub fn namesrv_external(cluster: &ValidatedCluster, ordinal: u32) -> String {
    format!("{}-external", namesrv_pod(cluster, ordinal))
}

/// Stable DNS name of pod `ordinal` of group `group` (its `brokerIP1`).
pub fn broker_pod_dns(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> String {
    let service = broker_group(cluster, group);
    format!(
        "{}.{service}.{}.svc.{}",
        broker_pod(cluster, group, ordinal),
        cluster.namespace,
        cluster.environment.cluster_domain
    )
}

/// `host:port` of every name server, by predicted stable DNS name (never a pod IP), in ordinal
/// order.
pub fn namesrv_hosts(cluster: &ValidatedCluster) -> Vec<String> {
    let service = namesrv(cluster);
    (0..cluster.name_servers())
        .map(|i| {
            format!(
                "{service}-{i}.{service}.{}.svc.{}:{NAMESRV_PORT}",
                cluster.namespace, cluster.environment.cluster_domain
            )
        })
        .collect()
}

/// The `namesrvAddr` value: [`namesrv_hosts`] joined by `;`.
pub fn namesrv_addr(cluster: &ValidatedCluster) -> String {
    namesrv_hosts(cluster).join(";")
}

/// Name of the cert-manager `Certificate` of `role`, and of the Secret it writes.
pub fn tls_certificate(cluster: &ValidatedCluster, role: TlsRole) -> String {
    match role {
        TlsRole::NameServer => format!("{}-tls", namesrv(cluster)),
        TlsRole::Broker => format!("{}-broker-tls", cluster.name),
    }
}

/// The headless Services whose pods carry `role`'s certificate.
pub fn tls_services(cluster: &ValidatedCluster, role: TlsRole) -> Vec<String> {
    match role {
        TlsRole::NameServer => vec![namesrv(cluster)],
        TlsRole::Broker => (0..cluster.groups())
            .map(|g| broker_group(cluster, g))
            .collect(),
    }
}
