//! The plan of a local cluster, as a pure function of the validated cluster, the state
//! directory and the base port: every process's name, ports, directories and config text.
//!
//! ```text
//! ports (base 9876)                        state directory <dir>
//! 9876  9877  ...     name servers 0, 1..  manifest.yaml          the manifest `up` ran
//! 9886  9887  ...     their /metrics       pids.json              while the cluster runs
//! 10909 10911 10912   broker 0             logs/<name>.log        stderr + stdout of each process
//! 10919 10921 10922   broker 1             namesrv/<name>/        namesrv.properties, kvConfig.json
//! ...   (fast, listen, HA), 10 apart,      broker/<name>/         broker.conf, store/
//!       groups in order, master first      .gitignore             `*`: .rmq/ sits in the checkout
//!       10913, 10923: brokers' /metrics
//!       10914, 10924: brokers' /livez, /readyz
//! ```
//!
//! Brokers start [`BROKER_PORT_OFFSET`] above the base, so the default base gives Apache's
//! default ports (9876 and 10911) to the first name server and the first broker. Each broker
//! owns `listenPort - 2` (the fast port older Java clients use), `listenPort` and
//! `listenPort + 1` (master/slave replication) and, with `spec.metrics.enabled`, `listenPort + 2`
//! (`/metrics`; a name server's is its port + [`NAMESRV_METRICS_OFFSET`]); brokers are
//! [`BROKER_PORT_STEP`] ports apart, so ranges never touch. `spec.metrics.port` is a pod's
//! port in Kubernetes, where pods do not share ports; locally every process needs its own.
//!
//! `broker.conf` is the operator's own rendering ([`broker_conf::render_with_files`]) with a
//! local [`Placement`] and the security files under the state directory
//! ([`crate::local::security::broker_files`]: ACL home, TLS directories, see [`crate::local::security`]);
//! `up` only appends `bindAddress=127.0.0.1` (unless the spec sets one), since the advertised
//! address is loopback anyway and a local cluster has no business on the network.
//! `namesrv.properties` gets the operator's TLS keys ([`security::namesrv_keys`]) the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rmq_operator::build::broker_conf::{self, Placement};
use rmq_operator::build::names;
use rmq_operator::build::security;
use rmq_operator::validate::ValidatedCluster;
use serde::{Deserialize, Serialize};

use crate::local::security::{broker_files, namesrv_files};

mod slots;
pub use slots::{BROKER_PORT_OFFSET, BROKER_PORT_STEP, broker_slots};

/// Host every local process listens on and advertises.
pub const LOCAL_HOST: &str = "127.0.0.1";
/// A name server's `/metrics` port minus its `listenPort` (name servers are at most 9).
pub const NAMESRV_METRICS_OFFSET: u16 = 10;
/// A broker's `/metrics` port minus its `listenPort`.
pub const BROKER_METRICS_OFFSET: u16 = 2;
/// A broker's `/livez` and `/readyz` port minus its `listenPort`.
pub const BROKER_HEALTH_OFFSET: u16 = 3;

/// What a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Namesrv,
    Broker,
}

impl Kind {
    /// The binary that runs it.
    pub fn binary(self) -> &'static str {
        match self {
            Kind::Namesrv => "rmq-namesrv",
            Kind::Broker => "rmq-broker",
        }
    }
}

/// One process of the local cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `demo-namesrv-0`, `demo-broker-0-1`: the operator's pod names.
    pub name: String,
    pub kind: Kind,
    /// `127.0.0.1:<listenPort>`.
    pub addr: String,
    /// Every port it listens on or will (fast and HA ports of a broker included).
    pub ports: Vec<u16>,
    /// Its directory: config file, working directory, store or KV file.
    pub home: PathBuf,
    /// Its config file, passed as `-c`.
    pub config_path: PathBuf,
    /// The text of that config file.
    pub config: String,
    /// Where its stderr and stdout go.
    pub log: PathBuf,
    /// Group, id, role and flush mode of a broker.
    pub broker: Option<BrokerNode>,
}

/// What makes a broker node a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerNode {
    /// `brokerName`: the group.
    pub group: String,
    /// `brokerId`: 0 for the master.
    pub id: u32,
    /// `brokerRole`.
    pub role: &'static str,
    /// `flushDiskType`.
    pub flush: &'static str,
}

/// Every process of a local cluster, name servers first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `brokerClusterName`: the RocketCluster's name.
    pub cluster: String,
    /// The state directory.
    pub dir: PathBuf,
    pub namesrvs: Vec<Node>,
    /// Groups in order, each master then its slaves.
    pub brokers: Vec<Node>,
}

/// The cluster cannot be laid out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "--base-port {base} is too high: {nodes} processes need ports up to {highest}, above \
         65535; use a base port of at most {max_base}"
    )]
    PortsBeyondRange {
        base: u16,
        nodes: u32,
        highest: u32,
        max_base: u32,
    },
    #[error("the state directory {} is not valid UTF-8, which config files need", .dir.display())]
    NonUtf8Dir { dir: PathBuf },
}

impl Plan {
    /// Name servers, then brokers: the order of starting.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.namesrvs.iter().chain(&self.brokers)
    }

    /// `namesrvAddr`: every name server, `;`-separated.
    pub fn namesrv_addr(&self) -> String {
        let addrs: Vec<&str> = self.namesrvs.iter().map(|n| n.addr.as_str()).collect();
        addrs.join(";")
    }

    /// `<dir>/logs`.
    pub fn log_dir(&self) -> PathBuf {
        log_dir(&self.dir)
    }

    /// Number of SLAVE brokers.
    pub fn slaves(&self) -> usize {
        self.brokers
            .iter()
            .filter(|b| b.broker.as_ref().is_some_and(|b| b.id > 0))
            .count()
    }
}

/// `<dir>/logs`.
pub fn log_dir(dir: &Path) -> PathBuf {
    dir.join("logs")
}

/// `<dir>/pids.json`.
pub fn pids_path(dir: &Path) -> PathBuf {
    dir.join("pids.json")
}

/// `<dir>/manifest.yaml`: a copy of the manifest `up` ran; `down --purge` deletes only
/// directories that have one.
pub fn manifest_copy_path(dir: &Path) -> PathBuf {
    dir.join("manifest.yaml")
}

/// Lays out `cluster` in `dir` (absolute) with ports from `base`: broker `i` in group order
/// takes slot `i`.
pub fn plan(cluster: &ValidatedCluster, dir: &Path, base: u16) -> Result<Plan, PlanError> {
    plan_keeping(cluster, dir, base, &BTreeMap::new())
}

/// [`plan`], but the brokers named in `kept` keep the `listenPort` they run on, and the others
/// take the lowest slots no kept broker holds: a change of `replicasPerGroup` on a running
/// cluster moves no running broker (`rmqctl apply`).
pub fn plan_keeping(
    cluster: &ValidatedCluster,
    dir: &Path,
    base: u16,
    kept: &BTreeMap<String, u16>,
) -> Result<Plan, PlanError> {
    let dir_text = dir.to_str().ok_or_else(|| PlanError::NonUtf8Dir {
        dir: dir.to_path_buf(),
    })?;
    let broker_count = cluster.groups() * cluster.pods_per_group();
    let metrics = cluster.spec.metrics.enabled;
    let slots = broker_slots(cluster, base, kept);
    // The highest port is the health port (listenPort + 3) of the last broker.
    let highest = u32::from(base)
        + u32::from(BROKER_PORT_OFFSET)
        + u32::from(BROKER_PORT_STEP) * slots.values().copied().max().unwrap_or(0)
        + u32::from(BROKER_HEALTH_OFFSET);
    if highest > u32::from(u16::MAX) {
        return Err(PlanError::PortsBeyondRange {
            base,
            nodes: cluster.name_servers() + broker_count,
            highest,
            max_base: u32::from(base) - (highest - u32::from(u16::MAX)),
        });
    }
    // Cannot overflow: checked above, and name servers (at most 9) stay below the brokers.
    let port = |offset: u32| u16::try_from(u32::from(base) + offset).unwrap_or(u16::MAX);
    let logs = log_dir(dir);

    let namesrvs: Vec<Node> = (0..cluster.name_servers())
        .map(|i| {
            let name = format!("{}-{i}", names::namesrv(cluster));
            let listen = port(i);
            let home = dir.join("namesrv").join(&name);
            let kv = format!("{dir_text}/namesrv/{name}/kvConfig.json");
            let (listen_text, metrics_port) = (
                listen.to_string(),
                listen.saturating_add(NAMESRV_METRICS_OFFSET).to_string(),
            );
            let mut keys = vec![
                ("listenPort", listen_text.as_str()),
                ("bindAddress", LOCAL_HOST),
                ("kvConfigPath", kv.as_str()),
            ];
            let mut ports = vec![listen];
            if metrics {
                keys.push(("metricsExporterType", "PROM"));
                keys.push(("metricsPromExporterPort", metrics_port.as_str()));
                ports.push(listen + NAMESRV_METRICS_OFFSET);
            }
            let tls = security::namesrv_keys(cluster, &namesrv_files(dir));
            keys.extend(tls.iter().map(|(key, value)| (*key, value.as_str())));
            let config = format!(
                "# namesrv.properties of {name}, written by rmqctl up.\n{}",
                rmq_protocol::body::properties::write(keys)
            );
            Node {
                addr: format!("{LOCAL_HOST}:{listen}"),
                ports,
                config_path: home.join("namesrv.properties"),
                config,
                log: logs.join(format!("{name}.log")),
                home,
                kind: Kind::Namesrv,
                broker: None,
                name,
            }
        })
        .collect();
    let namesrv_addr = namesrvs
        .iter()
        .map(|n| n.addr.as_str())
        .collect::<Vec<_>>()
        .join(";");

    let mut brokers = Vec::new();
    for group in 0..cluster.groups() {
        for ordinal in 0..cluster.pods_per_group() {
            let name = names::broker_pod(cluster, group, ordinal);
            let index = slots.get(&name).copied().unwrap_or(0);
            let listen = port(u32::from(BROKER_PORT_OFFSET) + u32::from(BROKER_PORT_STEP) * index);
            let home = dir.join("broker").join(&name);
            let placement = Placement {
                namesrv_addr: namesrv_addr.clone(),
                broker_ip1: LOCAL_HOST.to_owned(),
                listen_port: listen,
                store_path_root_dir: format!("{dir_text}/broker/{name}/store"),
                // Written only with metrics on, when the range check above covered it.
                metrics_port: listen.saturating_add(BROKER_METRICS_OFFSET),
                health_port: listen.saturating_add(BROKER_HEALTH_OFFSET),
            };
            let files = broker_files(dir, &name);
            let mut config =
                broker_conf::render_with_files(cluster, group, ordinal, &placement, &files);
            if !cluster.spec.broker.config.contains_key("bindAddress") {
                config.push_str(
                    "# added by rmqctl up: a local cluster listens on loopback only\n\
                     bindAddress=127.0.0.1\n",
                );
            }
            let mut ports = vec![listen - 2, listen, listen + 1];
            if metrics {
                ports.push(listen + BROKER_METRICS_OFFSET);
            }
            ports.push(listen + BROKER_HEALTH_OFFSET);
            brokers.push(Node {
                addr: format!("{LOCAL_HOST}:{listen}"),
                ports,
                config_path: home.join("broker.conf"),
                config,
                log: logs.join(format!("{name}.log")),
                home,
                kind: Kind::Broker,
                broker: Some(BrokerNode {
                    group: names::broker_group(cluster, group),
                    id: ordinal,
                    role: broker_conf::role(cluster, ordinal),
                    flush: cluster.spec.broker.flush_disk_type.as_str(),
                }),
                name,
            });
        }
    }
    Ok(Plan {
        cluster: cluster.name.clone(),
        dir: dir.to_path_buf(),
        namesrvs,
        brokers,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::local::manifest::{parse, validate_local};

    fn cluster(spec: &str) -> ValidatedCluster {
        let text = format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo}}\nspec: {spec}\n"
        );
        validate_local(parse(&text).unwrap().cluster).unwrap()
    }

    #[test]
    fn the_minimal_cluster_gets_apaches_default_ports_at_the_default_base() {
        let plan = plan(&cluster("{}"), Path::new("/s"), 9876).unwrap();
        let addrs: Vec<&str> = plan.nodes().map(|n| n.addr.as_str()).collect();
        assert_eq!(
            addrs,
            ["127.0.0.1:9876", "127.0.0.1:9877", "127.0.0.1:10911"]
        );
        assert_eq!(plan.brokers[0].ports, [10909, 10911, 10912, 10914]);
        assert!(
            plan.brokers[0]
                .config
                .contains("\nhealthListenPort=10914\n")
        );
        assert_eq!(plan.namesrv_addr(), "127.0.0.1:9876;127.0.0.1:9877");
        assert_eq!(plan.slaves(), 0);
    }

    #[test]
    fn no_two_processes_share_a_port_even_at_the_largest_size() {
        let plan = plan(
            &cluster("{nameServer: {replicas: 9}, broker: {groups: 64, replicasPerGroup: 8}}"),
            Path::new("/s"),
            20000,
        )
        .unwrap();
        let ports: Vec<u16> = plan.nodes().flat_map(|n| n.ports.iter().copied()).collect();
        let unique: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(ports.len(), unique.len());
        assert_eq!(ports.len(), 9 + 64 * 9 * 4);
        assert_eq!(plan.brokers.last().unwrap().addr, "127.0.0.1:26785");
    }

    #[test]
    fn with_metrics_every_process_gets_its_own_metrics_port_and_none_is_shared() {
        let spec = "{metrics: {enabled: true}, nameServer: {replicas: 9}, broker: {groups: 64, replicasPerGroup: 8}}";
        let plan = plan(&cluster(spec), Path::new("/s"), 20000).unwrap();
        let ports: Vec<u16> = plan.nodes().flat_map(|n| n.ports.iter().copied()).collect();
        let unique: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(ports.len(), unique.len());
        assert_eq!(ports.len(), 9 * 2 + 64 * 9 * 5);
        let small = plan_of("{metrics: {enabled: true}}");
        let entries = rmq_protocol::body::properties::parse(&small.namesrvs[0].config);
        assert!(entries.contains(&("metricsExporterType".to_owned(), "PROM".to_owned())));
        assert!(entries.contains(&("metricsPromExporterPort".to_owned(), "9886".to_owned())));
        assert!(
            small.brokers[0]
                .config
                .contains("\nmetricsPromExporterPort=10913\n")
        );
        assert_eq!(small.brokers[0].ports, [10909, 10911, 10912, 10913, 10914]);
    }

    fn plan_of(spec: &str) -> Plan {
        plan(&cluster(spec), Path::new("/s"), 9876).unwrap()
    }

    #[test]
    fn brokers_are_laid_out_group_by_group_master_first_with_the_operators_names_and_roles() {
        let plan = plan(
            &cluster("{broker: {groups: 2, replicasPerGroup: 1, brokerRole: SYNC_MASTER, flushDiskType: SYNC_FLUSH}}"),
            Path::new("/s"),
            9876,
        )
        .unwrap();
        let brokers: Vec<(&str, &str, u32, &str, &str)> = plan
            .brokers
            .iter()
            .map(|n| {
                let b = n.broker.as_ref().unwrap();
                (
                    n.name.as_str(),
                    b.group.as_str(),
                    b.id,
                    b.role,
                    n.addr.as_str(),
                )
            })
            .collect();
        assert_eq!(
            brokers,
            [
                (
                    "demo-broker-0-0",
                    "demo-broker-0",
                    0,
                    "SYNC_MASTER",
                    "127.0.0.1:10911"
                ),
                (
                    "demo-broker-0-1",
                    "demo-broker-0",
                    1,
                    "SLAVE",
                    "127.0.0.1:10921"
                ),
                (
                    "demo-broker-1-0",
                    "demo-broker-1",
                    0,
                    "SYNC_MASTER",
                    "127.0.0.1:10931"
                ),
                (
                    "demo-broker-1-1",
                    "demo-broker-1",
                    1,
                    "SLAVE",
                    "127.0.0.1:10941"
                ),
            ]
        );
        assert!(
            plan.brokers
                .iter()
                .all(|n| n.broker.as_ref().unwrap().flush == "SYNC_FLUSH")
        );
        assert_eq!(plan.slaves(), 2);
    }

    #[test]
    fn broker_conf_is_the_operators_rendering_at_a_local_placement_plus_a_loopback_bind() {
        let c = cluster("{broker: {config: {deleteWhen: '04'}}}");
        let plan = plan(&c, Path::new("/state/demo"), 9876).unwrap();
        let broker = &plan.brokers[0];
        let placement = Placement {
            namesrv_addr: "127.0.0.1:9876;127.0.0.1:9877".to_owned(),
            broker_ip1: "127.0.0.1".to_owned(),
            listen_port: 10911,
            store_path_root_dir: "/state/demo/broker/demo-broker-0-0/store".to_owned(),
            metrics_port: 10913,
            health_port: 10914,
        };
        let files = broker_files(Path::new("/state/demo"), "demo-broker-0-0");
        let rendered = broker_conf::render_with_files(&c, 0, 0, &placement, &files);
        assert_eq!(
            broker.config,
            format!(
                "{rendered}# added by rmqctl up: a local cluster listens on loopback only\nbindAddress=127.0.0.1\n"
            )
        );
        assert!(rendered.contains("\ndeleteWhen=04\n"));
        assert_eq!(
            broker.config_path,
            Path::new("/state/demo/broker/demo-broker-0-0/broker.conf")
        );
        assert_eq!(
            broker.log,
            Path::new("/state/demo/logs/demo-broker-0-0.log")
        );
    }

    #[test]
    fn a_bind_address_from_the_spec_is_left_alone() {
        let plan = plan(
            &cluster("{broker: {config: {bindAddress: 0.0.0.0}}}"),
            Path::new("/s"),
            9876,
        )
        .unwrap();
        let binds: Vec<&str> = plan.brokers[0]
            .config
            .lines()
            .filter(|l| l.starts_with("bindAddress="))
            .collect();
        assert_eq!(binds, ["bindAddress=0.0.0.0"]);
    }

    #[test]
    fn name_servers_listen_on_loopback_and_keep_their_kv_file_in_the_state_directory() {
        let plan = plan(&cluster("{}"), Path::new("/state/demo"), 9876).unwrap();
        let ns = &plan.namesrvs[1];
        assert_eq!(ns.name, "demo-namesrv-1");
        let entries = rmq_protocol::body::properties::parse(&ns.config);
        let entry = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(entry("listenPort"), Some("9877"));
        assert_eq!(entry("bindAddress"), Some("127.0.0.1"));
        assert_eq!(
            entry("kvConfigPath"),
            Some("/state/demo/namesrv/demo-namesrv-1/kvConfig.json")
        );
        assert_eq!(
            ns.config_path,
            Path::new("/state/demo/namesrv/demo-namesrv-1/namesrv.properties")
        );
    }

    #[test]
    fn a_base_port_too_high_for_every_broker_is_refused_with_the_highest_usable_base() {
        let c = cluster("{broker: {groups: 4, replicasPerGroup: 1}}");
        let error = plan(&c, Path::new("/s"), 65000).unwrap_err();
        // 8 brokers: the last health port is base + 1035 + 70 + 3.
        assert_eq!(
            error,
            PlanError::PortsBeyondRange {
                base: 65000,
                nodes: 10,
                highest: 66108,
                max_base: 64427,
            }
        );
        assert!(plan(&c, Path::new("/s"), 64427).is_ok());
    }
}
