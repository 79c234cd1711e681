//! Renders each broker pod's `broker.conf`, as a pure function of the validated cluster.
//!
//! In Kubernetes a pod is placed by [`Placement::in_cluster`]; a local runner (`rmqctl up`)
//! builds its own [`Placement`] (127.0.0.1, its own ports and directories) and calls
//! [`render_at`], so both run exactly the configuration the operator renders.
//!
//! ```text
//! # operator-owned keys, always in this order
//! brokerClusterName brokerName brokerId brokerRole flushDiskType
//! brokerIP1 listenPort namesrvAddr storePathRootDir healthListenPort
//! # in Kubernetes with spec.broker.externalAccess (see external_keys)
//! brokerIP2 [haListenPort]
//! # with spec.metrics.enabled
//! metricsExporterType metricsPromExporterPort
//! # with spec.security (see security::broker_keys)
//! aclEnable rocketmqHome tls.server.* useTLS tls.client.*
//! # then spec.broker.config, sorted by key
//! ```
//!
//! The security keys name files by where [`SecurityFiles`] says they are: the pods' mount points
//! for [`render`] and [`render_at`], a local runner's own with [`render_with_files`].

use std::fmt::Write as _;

use super::security::{self, SecurityFiles};
use super::{external, names};
use crate::crd::ExternalAccessType;
use crate::validate::ValidatedCluster;

/// Mount point of the broker data volume.
pub const DATA_DIR: &str = "/data";
/// `storePathRootDir` inside the data volume.
pub const STORE_DIR: &str = "/data/store";

/// Where one broker runs: everything in its config that depends on the host rather than on the
/// spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// `namesrvAddr`: `host:port` entries separated by `;`.
    pub namesrv_addr: String,
    /// `brokerIP1`: the address clients and slaves use to reach this broker.
    pub broker_ip1: String,
    /// `listenPort`.
    pub listen_port: u16,
    /// `storePathRootDir`.
    pub store_path_root_dir: String,
    /// `metricsPromExporterPort`, written when `spec.metrics.enabled`.
    pub metrics_port: u16,
    /// `healthListenPort`: `/livez` and `/readyz`.
    pub health_port: u16,
}

impl Placement {
    /// Placement of pod `ordinal` of group `group` in Kubernetes: the pod's stable DNS name and
    /// the name servers' stable DNS names; its own node port under `externalAccess` NodePort.
    pub fn in_cluster(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> Self {
        Self {
            namesrv_addr: names::namesrv_addr(cluster),
            broker_ip1: names::broker_pod_dns(cluster, group, ordinal),
            listen_port: external::broker_listen_port(cluster, group, ordinal),
            store_path_root_dir: STORE_DIR.to_owned(),
            metrics_port: metrics_port(cluster),
            health_port: names::BROKER_HEALTH_PORT,
        }
    }
}

/// `spec.metrics.port` (validated to 1024..=65535 by the schema; the default if out of range).
pub fn metrics_port(cluster: &ValidatedCluster) -> u16 {
    u16::try_from(cluster.spec.metrics.port).unwrap_or(5557)
}

/// `brokerRole` of pod `ordinal`: ordinal 0 is the master with the spec's role, others SLAVE.
pub fn role(cluster: &ValidatedCluster, ordinal: u32) -> &'static str {
    if ordinal == 0 {
        cluster.spec.broker.broker_role.as_str()
    } else {
        "SLAVE"
    }
}

/// Hash of what the pods of group `group` run with, for their template: the master's file and
/// a slave's (ordinal 1 stands for every slave: the others differ only by ordinal), each
/// without `namesrvAddr`. So adding a slave changes no running pod's hash, and neither does a
/// new name-server list (running brokers are given it at run time).
pub fn group_hash(cluster: &ValidatedCluster, group: u32) -> String {
    let without_namesrvs = |ordinal: u32| -> String {
        render(cluster, group, ordinal)
            .lines()
            .filter(|line| !line.starts_with("namesrvAddr="))
            .map(|line| format!("{line}\n"))
            .collect()
    };
    super::pod::hash_of(&[without_namesrvs(0), without_namesrvs(1)])
}

/// `broker.conf` of pod `ordinal` of group `group`, placed in Kubernetes, with
/// [`external_keys`].
pub fn render(cluster: &ValidatedCluster, group: u32, ordinal: u32) -> String {
    render_keys(
        cluster,
        group,
        ordinal,
        &Placement::in_cluster(cluster, group, ordinal),
        &SecurityFiles::in_cluster(),
        &external_keys(cluster, group, ordinal),
    )
}

/// What `spec.broker.externalAccess` adds in Kubernetes: `brokerIP2`, the pod's stable DNS
/// name, for slaves to replicate from (the `brokerIP1` the broker advertises is given at start,
/// see [`external_note`]); under NodePort `haListenPort` stays 10912 (not `listenPort + 1`).
pub fn external_keys(
    cluster: &ValidatedCluster,
    group: u32,
    ordinal: u32,
) -> Vec<(&'static str, String)> {
    let dns = names::broker_pod_dns(cluster, group, ordinal);
    match cluster.spec.broker.external_access.type_ {
        ExternalAccessType::None => Vec::new(),
        ExternalAccessType::NodePort => vec![
            ("brokerIP2", dns),
            ("haListenPort", names::BROKER_HA_PORT.to_string()),
        ],
        ExternalAccessType::LoadBalancer => vec![("brokerIP2", dns)],
    }
}

/// The comment saying where the advertised `brokerIP1` comes from, when not from the file.
fn external_note(cluster: &ValidatedCluster, pod: &str) -> Option<String> {
    match cluster.spec.broker.external_access.type_ {
        ExternalAccessType::None => None,
        ExternalAccessType::NodePort => Some(
            "# brokerIP1 is replaced at start by the IP of the pod's node (--set brokerIP1=$(HOST_IP)).\n"
                .to_owned(),
        ),
        ExternalAccessType::LoadBalancer => Some(format!(
            "# brokerIP1 is replaced at start by the load balancer's address ({}).\n",
            names::broker_address_key(pod)
        )),
    }
}

/// `broker.conf` of pod `ordinal` of group `group` at `placement`, with the security files at
/// the pods' mount points.
pub fn render_at(
    cluster: &ValidatedCluster,
    group: u32,
    ordinal: u32,
    placement: &Placement,
) -> String {
    render_with_files(
        cluster,
        group,
        ordinal,
        placement,
        &SecurityFiles::in_cluster(),
    )
}

/// `broker.conf` of pod `ordinal` of group `group` at `placement`, with the ACL and TLS files
/// where `files` says.
pub fn render_with_files(
    cluster: &ValidatedCluster,
    group: u32,
    ordinal: u32,
    placement: &Placement,
    files: &SecurityFiles,
) -> String {
    render_keys(cluster, group, ordinal, placement, files, &[])
}

/// The rendering itself: the owned keys, `extra` after them, then the spec's config.
fn render_keys(
    cluster: &ValidatedCluster,
    group: u32,
    ordinal: u32,
    placement: &Placement,
    files: &SecurityFiles,
    extra: &[(&'static str, String)],
) -> String {
    let broker = &cluster.spec.broker;
    let mut owned: Vec<(&str, String)> = vec![
        ("brokerClusterName", cluster.name.clone()),
        ("brokerName", names::broker_group(cluster, group)),
        ("brokerId", ordinal.to_string()),
        ("brokerRole", role(cluster, ordinal).to_owned()),
        ("flushDiskType", broker.flush_disk_type.as_str().to_owned()),
        ("brokerIP1", placement.broker_ip1.clone()),
        ("listenPort", placement.listen_port.to_string()),
        ("namesrvAddr", placement.namesrv_addr.clone()),
        ("storePathRootDir", placement.store_path_root_dir.clone()),
        ("healthListenPort", placement.health_port.to_string()),
    ];
    owned.extend(extra.iter().cloned());
    if cluster.spec.metrics.enabled {
        owned.push(("metricsExporterType", "PROM".to_owned()));
        owned.push((
            "metricsPromExporterPort",
            placement.metrics_port.to_string(),
        ));
    }
    owned.extend(security::broker_keys(cluster, files));
    let pod = names::broker_pod(cluster, group, ordinal);
    let mut out = format!(
        "# broker.conf of {pod}, rendered by rmq-operator; edit the RocketCluster instead.\n"
    );
    if !extra.is_empty()
        && let Some(note) = external_note(cluster, &pod)
    {
        out.push_str(&note);
    }
    for (key, value) in owned
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(broker.config.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{key}={}", escape_value(value));
    }
    out
}

/// Escapes a value for a Java properties file (backslashes, and leading spaces that the parser
/// would otherwise strip). Line breaks are rejected earlier by validation.
fn escape_value(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\");
    match escaped.strip_prefix(' ') {
        Some(rest) => format!("\\ {rest}"),
        None => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tests::validated;

    #[test]
    fn master_gets_the_spec_role_and_slaves_get_slave() {
        let c = validated(
            "spec: {broker: {replicasPerGroup: 1, brokerRole: SYNC_MASTER, flushDiskType: SYNC_FLUSH}}",
        );
        let master = render(&c, 0, 0);
        let slave = render(&c, 0, 1);
        assert!(
            master.contains("\nbrokerId=0\nbrokerRole=SYNC_MASTER\nflushDiskType=SYNC_FLUSH\n")
        );
        assert!(slave.contains("\nbrokerId=1\nbrokerRole=SLAVE\n"));
    }

    #[test]
    fn in_cluster_placement_uses_stable_dns_names_never_ips() {
        let c = validated("spec: {nameServer: {replicas: 2}}");
        let conf = render(&c, 1, 0);
        assert!(conf.contains("brokerIP1=demo-broker-1-0.demo-broker-1.mq.svc.cluster.local\n"));
        assert!(conf.contains(
            "namesrvAddr=demo-namesrv-0.demo-namesrv.mq.svc.cluster.local:9876;demo-namesrv-1.demo-namesrv.mq.svc.cluster.local:9876\n"
        ));
    }

    #[test]
    fn a_local_placement_replaces_every_host_dependent_key() {
        let c = validated("spec: {}");
        let local = Placement {
            namesrv_addr: "127.0.0.1:9876".to_owned(),
            broker_ip1: "127.0.0.1".to_owned(),
            listen_port: 20911,
            store_path_root_dir: "/tmp/rmq/b0".to_owned(),
            metrics_port: 20913,
            health_port: 20914,
        };
        let conf = render_at(&c, 0, 0, &local);
        for line in [
            "brokerIP1=127.0.0.1",
            "listenPort=20911",
            "namesrvAddr=127.0.0.1:9876",
            "storePathRootDir=/tmp/rmq/b0",
        ] {
            assert!(conf.lines().any(|l| l == line), "missing {line} in {conf}");
        }
        assert!(!conf.contains("svc.cluster.local"));
        assert!(!conf.contains("metrics"), "metrics are off by default");
    }

    #[test]
    fn enabled_metrics_turn_on_the_prometheus_exporter_at_the_spec_port() {
        let c = validated("spec: {metrics: {enabled: true, port: 9100}}");
        let conf = render(&c, 0, 0);
        assert!(
            conf.contains("\nmetricsExporterType=PROM\nmetricsPromExporterPort=9100\n"),
            "{conf}"
        );
        let default_port = render(&validated("spec: {metrics: {enabled: true}}"), 0, 0);
        assert!(default_port.contains("\nmetricsPromExporterPort=5557\n"));
    }

    #[test]
    fn user_config_follows_owned_keys_sorted_and_escaped() {
        let c =
            validated(r#"spec: {broker: {config: {zeta: "1", alpha: 'C:\dir', beta: " lead"}}}"#);
        let conf = render(&c, 0, 0);
        let tail: Vec<_> = conf
            .lines()
            .skip_while(|l| !l.starts_with("healthListenPort"))
            .skip(1)
            .collect();
        assert_eq!(tail, ["alpha=C:\\\\dir", "beta=\\ lead", "zeta=1"]);
    }
}
