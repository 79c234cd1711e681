//! `clusterList`: every broker of every cluster (GET_BROKER_CLUSTER_INFO), with version and
//! TPS from each broker's GET_BROKER_RUNTIME_INFO; blank when a broker does not answer.

use std::collections::BTreeMap;

use futures::future::join_all;
use rmq_admin::Admin;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::route::ClusterInfo;
use serde::Serialize;

use crate::cli::ClusterListArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// The brokers, in cluster, broker name, broker id order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterList {
    pub brokers: Vec<BrokerRow>,
}

/// One broker process.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerRow {
    pub cluster: String,
    pub broker_name: String,
    pub broker_id: i64,
    pub addr: String,
    /// `brokerVersionDesc`; `None` when the broker did not answer.
    pub version: Option<String>,
    /// First figure of `putTps` (messages in per second).
    pub in_tps: Option<f64>,
    /// First figure of `getTransferredTps` (messages out per second).
    pub out_tps: Option<f64>,
}

/// Builds the rows of the clusters in `info` (only `only` when given), using the runtime
/// tables of the brokers that answered (by address).
pub fn cluster_list(
    info: &ClusterInfo,
    runtime: &BTreeMap<String, KvTable>,
    only: Option<&str>,
) -> ClusterList {
    let mut brokers = Vec::new();
    for (cluster, names) in &info.cluster_addr_table {
        if only.is_some_and(|only| only != cluster) {
            continue;
        }
        for name in names {
            let Some(group) = info.broker_addr_table.get(name) else {
                continue;
            };
            for (id, addr) in &group.broker_addrs {
                let table = runtime.get(addr).map(|kv| &kv.table);
                brokers.push(BrokerRow {
                    cluster: cluster.clone(),
                    broker_name: name.clone(),
                    broker_id: *id,
                    addr: addr.clone(),
                    version: table.and_then(|t| t.get("brokerVersionDesc")).cloned(),
                    in_tps: table.and_then(|t| first_figure(t.get("putTps"))),
                    out_tps: table.and_then(|t| first_figure(t.get("getTransferredTps"))),
                });
            }
        }
    }
    ClusterList { brokers }
}

/// The table.
pub fn render_cluster_list(list: &ClusterList) -> String {
    let mut table = Table::new(&[
        ("Cluster Name", Align::Left),
        ("Broker Name", Align::Left),
        ("BID", Align::Right),
        ("Addr", Align::Left),
        ("Version", Align::Left),
        ("InTPS", Align::Right),
        ("OutTPS", Align::Right),
    ]);
    let tps = |value: Option<f64>| value.map(|v| format!("{v:.2}")).unwrap_or_default();
    for broker in &list.brokers {
        table.row(vec![
            broker.cluster.clone(),
            broker.broker_name.clone(),
            broker.broker_id.to_string(),
            broker.addr.clone(),
            broker.version.clone().unwrap_or_default(),
            tps(broker.in_tps),
            tps(broker.out_tps),
        ]);
    }
    table.render()
}

/// Asks the name server, then every broker at once.
pub async fn run(admin: &Admin, args: &ClusterListArgs) -> Result<ClusterList, CmdError> {
    let info = admin.cluster_info().await?;
    let addrs: Vec<&String> = info
        .broker_addr_table
        .values()
        .flat_map(|group| group.broker_addrs.values())
        .collect();
    let answers = join_all(addrs.iter().map(|addr| admin.runtime_info(addr))).await;
    let runtime = addrs
        .into_iter()
        .zip(answers)
        .filter_map(|(addr, answer)| Some((addr.clone(), answer.ok()?)))
        .collect();
    Ok(cluster_list(&info, &runtime, args.cluster.as_deref()))
}

/// `"12.5 11.0 10.9"` (TPS over 10 s, 1 min, 10 min) → 12.5.
fn first_figure(text: Option<&String>) -> Option<f64> {
    text?.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fixtures::{cluster_info, group};

    fn runtime(version: &str, put: &str, get: &str) -> KvTable {
        let mut kv = KvTable::default();
        kv.table.insert("brokerVersionDesc".into(), version.into());
        kv.table.insert("putTps".into(), put.into());
        kv.table.insert("getTransferredTps".into(), get.into());
        kv
    }

    fn info() -> ClusterInfo {
        cluster_info(&[
            group(
                "DefaultCluster",
                "broker-a",
                &[(0, "10.0.0.1:10911"), (1, "10.0.0.2:10911")],
            ),
            group("Other", "broker-b", &[(0, "10.0.1.1:10911")]),
        ])
    }

    #[test]
    fn every_broker_is_listed_with_the_runtime_figures_of_those_that_answered() {
        let runtime = BTreeMap::from([(
            "10.0.0.1:10911".to_owned(),
            runtime("V4_9_4", "12.5 11.0 10.9", "3 2 1"),
        )]);
        let list = cluster_list(&info(), &runtime, None);
        assert_eq!(
            render_cluster_list(&list),
            "\
#Cluster Name   #Broker Name  #BID  #Addr           #Version  #InTPS  #OutTPS
DefaultCluster  broker-a         0  10.0.0.1:10911  V4_9_4     12.50     3.00
DefaultCluster  broker-a         1  10.0.0.2:10911
Other           broker-b         0  10.0.1.1:10911
"
        );
    }

    #[test]
    fn a_cluster_filter_keeps_only_that_cluster() {
        let list = cluster_list(&info(), &BTreeMap::new(), Some("Other"));
        assert_eq!(list.brokers.len(), 1);
        assert_eq!(list.brokers[0].broker_name, "broker-b");
    }

    #[test]
    fn json_has_null_figures_for_brokers_that_did_not_answer() {
        let runtime = BTreeMap::from([(
            "10.0.1.1:10911".to_owned(),
            runtime("V5_3_3", "not a number", "0.5"),
        )]);
        let list = cluster_list(&info(), &runtime, Some("Other"));
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"brokers":[{"cluster":"Other","brokerName":"broker-b","brokerId":0,"addr":"10.0.1.1:10911","version":"V5_3_3","inTps":null,"outTps":0.5}]}"#
        );
    }

    #[test]
    fn brokers_named_in_a_cluster_but_missing_from_the_address_table_are_skipped() {
        let mut info = info();
        info.broker_addr_table.remove("broker-b");
        let list = cluster_list(&info, &BTreeMap::new(), None);
        assert!(list.brokers.iter().all(|b| b.broker_name == "broker-a"));
        assert_eq!(
            render_cluster_list(&ClusterList { brokers: vec![] }),
            "#Cluster Name  #Broker Name  #BID  #Addr  #Version  #InTPS  #OutTPS\n"
        );
    }
}
