//! One module per subcommand. Each has a serializable model (what `--json` prints), a pure
//! function building it from decoded answers, a pure `render_*` giving the table, and a thin
//! async `run` doing the requests.

pub mod broker_status;
pub mod clean_expired_cq;
pub mod cluster_list;
pub mod consumer_connection;
pub mod consumer_progress;
pub mod consumer_status;
pub mod delete_sub_group;
pub mod delete_topic;
pub mod message;
pub mod producer_connection;
pub mod query_msg_by_id;
pub mod query_msg_by_key;
pub mod query_msg_trace;
pub mod reset_offset_by_time;
pub mod stats_all;
pub mod topic_list;
pub mod topic_route;
pub mod topic_status;
pub mod update_broker_config;
pub mod update_sub_group;
pub mod update_topic;

use std::future::Future;

use rmq_admin::RpcError;
use rmq_protocol::body::perm;
use rmq_protocol::body::route::{BrokerData, ClusterInfo};
use rmq_protocol::language::version;
use serde::Serialize;

use crate::error::CmdError;
use crate::table::{Align, Table};

/// A change applied to brokers one after the other: what, and where it was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub action: String,
    pub brokers: Vec<String>,
}

/// One row per broker.
pub fn render_applied(applied: &Applied) -> String {
    let mut table = Table::new(&[("Broker", Align::Left), ("Done", Align::Left)]);
    for addr in &applied.brokers {
        table.row(vec![addr.clone(), applied.action.clone()]);
    }
    table.render()
}

/// Runs `change` on each broker in turn; the first failure stops it, naming the broker and
/// those already changed.
pub async fn apply_each<F, Fut>(
    action: String,
    addrs: Vec<String>,
    change: F,
) -> Result<Applied, CmdError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), RpcError>>,
{
    let mut done = Vec::new();
    for addr in addrs {
        if let Err(source) = change(addr.clone()).await {
            return Err(CmdError::BrokerApply {
                action,
                addr,
                done,
                source: Box::new(source),
            });
        }
        done.push(addr);
    }
    Ok(Applied {
        action,
        brokers: done,
    })
}

/// Apache's `MQVersion` name of the ordinals clients commonly send; others as `ordinal N`.
pub fn version_name(ordinal: i32) -> String {
    match ordinal {
        version::V3_0_11 => "V3_0_11".to_owned(),
        version::V4_0_0 => "V4_0_0".to_owned(),
        version::V4_9_4 => "V4_9_4".to_owned(),
        version::V4_9_8 => "V4_9_8".to_owned(),
        version::V5_0_0 => "V5_0_0".to_owned(),
        version::V5_3_3 => "V5_3_3".to_owned(),
        other => format!("ordinal {other}"),
    }
}

/// A master of a cluster: broker name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Master {
    pub broker_name: String,
    pub addr: String,
}

/// The masters (broker id 0) of `cluster`, by broker name, as mqadmin's
/// `fetchMasterAddrByClusterName` finds them.
pub fn masters_of_cluster(info: &ClusterInfo, cluster: &str) -> Result<Vec<Master>, CmdError> {
    let names = info
        .cluster_addr_table
        .get(cluster)
        .ok_or_else(|| CmdError::UnknownCluster {
            cluster: cluster.to_owned(),
        })?;
    let masters: Vec<Master> = names
        .iter()
        .filter_map(|name| {
            let group = info.broker_addr_table.get(name)?;
            Some(Master {
                broker_name: name.clone(),
                addr: group.master_addr()?.to_owned(),
            })
        })
        .collect();
    if masters.is_empty() {
        return Err(CmdError::NoMaster {
            cluster: cluster.to_owned(),
        });
    }
    Ok(masters)
}

/// The address to read a broker group's stats from: the master, else the lowest-id slave
/// (Java's `selectBrokerAddr` picks a random slave; the lowest keeps output reproducible).
pub fn select_broker_addr(group: &BrokerData) -> Option<&str> {
    group
        .master_addr()
        .or_else(|| group.broker_addrs.values().next().map(String::as_str))
}

/// Permission bits as Apache's `PermName.perm2String`: `R`, `W`, `X` (inherit) or `-`.
pub fn perm_string(bits: i32) -> String {
    let flag = |set: bool, letter: char| if set { letter } else { '-' };
    [
        flag(perm::is_readable(bits), 'R'),
        flag(perm::is_writeable(bits), 'W'),
        flag(perm::is_inherited(bits), 'X'),
    ]
    .iter()
    .collect()
}

#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::{BTreeMap, BTreeSet};

    use rmq_protocol::body::route::{BrokerData, ClusterInfo};

    /// A broker group of `cluster` with these `(id, addr)` members.
    pub fn group(cluster: &str, name: &str, addrs: &[(i64, &str)]) -> BrokerData {
        BrokerData {
            broker_addrs: addrs
                .iter()
                .map(|(id, addr)| (*id, (*addr).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            broker_name: name.to_owned(),
            cluster: cluster.to_owned(),
            enable_acting_master: None,
            zone_name: None,
        }
    }

    /// Cluster info of these groups.
    pub fn cluster_info(groups: &[BrokerData]) -> ClusterInfo {
        let mut info = ClusterInfo::default();
        for group in groups {
            info.cluster_addr_table
                .entry(group.cluster.clone())
                .or_insert_with(BTreeSet::new)
                .insert(group.broker_name.clone());
            info.broker_addr_table
                .insert(group.broker_name.clone(), group.clone());
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{cluster_info, group};
    use super::*;

    #[test]
    fn masters_are_the_id_zero_members_of_the_clusters_groups() {
        let info = cluster_info(&[
            group("c1", "broker-a", &[(0, "a0:10911"), (1, "a1:10911")]),
            group("c1", "broker-b", &[(1, "b1:10911")]),
            group("c2", "broker-c", &[(0, "c0:10911")]),
        ]);
        assert_eq!(
            masters_of_cluster(&info, "c1").unwrap(),
            [Master {
                broker_name: "broker-a".into(),
                addr: "a0:10911".into()
            }]
        );
    }

    #[test]
    fn an_unknown_cluster_and_a_cluster_without_masters_are_errors() {
        let info = cluster_info(&[group("c1", "broker-b", &[(1, "b1:10911")])]);
        assert!(matches!(
            masters_of_cluster(&info, "nope"),
            Err(CmdError::UnknownCluster { cluster }) if cluster == "nope"
        ));
        assert!(matches!(
            masters_of_cluster(&info, "c1"),
            Err(CmdError::NoMaster { cluster }) if cluster == "c1"
        ));
    }

    #[test]
    fn stats_are_read_from_the_master_or_else_the_lowest_slave() {
        assert_eq!(
            select_broker_addr(&group("c", "a", &[(2, "s2"), (0, "m"), (1, "s1")])),
            Some("m")
        );
        assert_eq!(
            select_broker_addr(&group("c", "a", &[(2, "s2"), (1, "s1")])),
            Some("s1")
        );
        assert_eq!(select_broker_addr(&group("c", "a", &[])), None);
    }

    #[test]
    fn perm_bits_read_like_apaches_perm2string() {
        assert_eq!(perm_string(6), "RW-");
        assert_eq!(perm_string(4), "R--");
        assert_eq!(perm_string(2), "-W-");
        assert_eq!(perm_string(7), "RWX");
        assert_eq!(perm_string(0), "---");
    }
}
