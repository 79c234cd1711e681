//! `brokerStatus -b addr | -c cluster`: every runtime figure a broker reports
//! (GET_BROKER_RUNTIME_INFO), one `key: value` line each.

use std::collections::BTreeMap;

use futures::future::join_all;
use rmq_admin::Admin;
use serde::Serialize;

use super::masters_of_cluster;
use crate::cli::BrokerTargetArgs;
use crate::error::CmdError;

/// The figures of each broker asked, by address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerStatus {
    pub brokers: BTreeMap<String, BTreeMap<String, String>>,
}

/// mqadmin's layout: `key (padded to 32): value`, keys sorted; with several brokers each line
/// starts with the broker's address.
pub fn render_broker_status(status: &BrokerStatus) -> String {
    let several = status.brokers.len() > 1;
    let mut out = String::new();
    for (addr, table) in &status.brokers {
        for (key, value) in table {
            if several {
                out.push_str(&format!("{addr:<24}{key:<32}: {value}\n"));
            } else {
                out.push_str(&format!("{key:<32}: {value}\n"));
            }
        }
    }
    out
}

/// The brokers of `-b`, or every master of `-c`.
pub async fn targets(admin: &Admin, args: &BrokerTargetArgs) -> Result<Vec<String>, CmdError> {
    match (&args.broker, &args.cluster) {
        (Some(addr), _) => Ok(vec![addr.clone()]),
        (None, Some(cluster)) => Ok(masters_of_cluster(&admin.cluster_info().await?, cluster)?
            .into_iter()
            .map(|m| m.addr)
            .collect()),
        (None, None) => unreachable!("clap requires -b or -c"),
    }
}

/// Asks every target at once.
pub async fn run(admin: &Admin, args: &BrokerTargetArgs) -> Result<BrokerStatus, CmdError> {
    let addrs = targets(admin, args).await?;
    let answers = join_all(addrs.iter().map(|addr| admin.runtime_info(addr))).await;
    let mut brokers = BTreeMap::new();
    for (addr, answer) in addrs.into_iter().zip(answers) {
        brokers.insert(addr, answer?.table.into_iter().collect());
    }
    Ok(BrokerStatus { brokers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_broker_prints_padded_sorted_keys_and_several_prefix_the_address() {
        let table: BTreeMap<String, String> = [
            ("putTps".into(), "1.0 2.0 3.0".into()),
            ("brokerVersion".into(), "401".into()),
        ]
        .into();
        let one = BrokerStatus {
            brokers: [("a:1".to_owned(), table.clone())].into(),
        };
        assert_eq!(
            render_broker_status(&one),
            format!(
                "{:<32}: 401\n{:<32}: 1.0 2.0 3.0\n",
                "brokerVersion", "putTps"
            )
        );
        let two = BrokerStatus {
            brokers: [("a:1".to_owned(), table.clone()), ("b:1".to_owned(), table)].into(),
        };
        assert!(render_broker_status(&two).starts_with("a:1 "));
        assert_eq!(render_broker_status(&two).lines().count(), 4);
    }
}
