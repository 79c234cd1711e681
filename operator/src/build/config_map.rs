//! ConfigMaps: the name servers' config, the discovery address, one broker.conf per pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::labels::Component;
use super::security::{self, SecurityFiles};
use super::{broker_conf, external, metadata, names};
use crate::validate::ValidatedCluster;

/// Key of the name server config file.
pub const NAMESRV_CONF_KEY: &str = "namesrv.properties";
/// Where a name server keeps its KV config: on its data volume.
pub const NAMESRV_KV_PATH: &str = "/data/namesrv/kvConfig.json";
/// Key of the discovery ConfigMap holding the `namesrvAddr` list.
pub const NAMESRV_ADDR_KEY: &str = "NAMESRV_ADDR";

/// The name servers' `namesrv.properties`: the port, the Prometheus exporter when
/// `spec.metrics.enabled`, and TLS when `spec.security.tls.nameServer` serves it.
pub fn namesrv(cluster: &ValidatedCluster) -> ConfigMap {
    // The KV file on the name server's own volume (spec.nameServer.storage): the default,
    // under $HOME, is on the read-only root filesystem.
    let mut conf = format!(
        "# namesrv.properties, rendered by rmq-operator; edit the RocketCluster instead.\nlistenPort={}\nkvConfigPath={}\n",
        names::NAMESRV_PORT,
        NAMESRV_KV_PATH
    );
    if cluster.spec.metrics.enabled {
        conf.push_str(&format!(
            "metricsExporterType=PROM\nmetricsPromExporterPort={}\n",
            broker_conf::metrics_port(cluster)
        ));
    }
    for (key, value) in security::namesrv_keys(cluster, &SecurityFiles::in_cluster()) {
        conf.push_str(&format!("{key}={value}\n"));
    }
    ConfigMap {
        metadata: metadata(
            cluster,
            names::namesrv_config(cluster),
            Component::NameServer,
        ),
        data: Some(BTreeMap::from([(NAMESRV_CONF_KEY.to_owned(), conf)])),
        ..ConfigMap::default()
    }
}

/// `NAMESRV_ADDR` for clients: `envFrom` this ConfigMap to reach the cluster.
pub fn discovery(cluster: &ValidatedCluster) -> ConfigMap {
    ConfigMap {
        metadata: metadata(cluster, names::discovery(cluster), Component::Cluster),
        data: Some(BTreeMap::from([(
            NAMESRV_ADDR_KEY.to_owned(),
            names::namesrv_addr(cluster),
        )])),
        ..ConfigMap::default()
    }
}

/// Name of group `group`'s ConfigMap: named after its config hash
/// ([`broker_conf::group_hash`]), so pods of an earlier template keep reading the files they
/// started with until their turn to restart (a new name-server list alone updates it in place).
pub fn broker_group_name(cluster: &ValidatedCluster, group: u32) -> String {
    names::broker_config(cluster, group, &broker_conf::group_hash(cluster, group))
}

/// Group `group`'s ConfigMap: one `<pod>.properties` per pod, rendered by
/// [`broker_conf::render`], and each `<pod>.external-address` known in `observed`
/// ([`external::address_entries`]).
pub fn broker_group(
    cluster: &ValidatedCluster,
    group: u32,
    observed: &external::Observed,
) -> ConfigMap {
    let data = (0..cluster.pods_per_group())
        .map(|ordinal| {
            let pod = names::broker_pod(cluster, group, ordinal);
            (
                names::broker_conf_key(&pod),
                broker_conf::render(cluster, group, ordinal),
            )
        })
        .chain(external::address_entries(cluster, group, observed))
        .collect();
    ConfigMap {
        metadata: metadata(
            cluster,
            broker_group_name(cluster, group),
            Component::BrokerGroup(group),
        ),
        data: Some(data),
        ..ConfigMap::default()
    }
}
