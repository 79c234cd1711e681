//! `producerConnection -g group -t topic`: the producers of a group connected to the brokers
//! of a topic, as each reported itself.

use futures::future::join_all;
use rmq_protocol::command::connection_list::ProducerConnection;
use serde::Serialize;

use super::consumer_connection::ConnectionRow;
use super::{select_broker_addr, version_name};
use crate::admin::Admin;
use crate::cli::ProducerConnectionArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// A producer group's connections over the topic's brokers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProducerConnections {
    pub group: String,
    pub topic: String,
    pub connections: Vec<ConnectionRow>,
}

/// Every distinct connection of the brokers' answers.
pub fn merge(group: &str, topic: &str, answers: &[ProducerConnection]) -> ProducerConnections {
    let mut connections: Vec<ConnectionRow> = answers
        .iter()
        .flat_map(|a| &a.connection_set)
        .map(|c| ConnectionRow {
            client_id: c.client_id.clone(),
            client_addr: c.client_addr.clone(),
            language: c.language.name().to_owned(),
            version: version_name(c.version),
        })
        .collect();
    connections.sort();
    connections.dedup();
    ProducerConnections {
        group: group.to_owned(),
        topic: topic.to_owned(),
        connections,
    }
}

/// One row per connection.
pub fn render_producer_connections(p: &ProducerConnections) -> String {
    let mut table = Table::new(&[
        ("ClientId", Align::Left),
        ("ClientAddr", Align::Left),
        ("Language", Align::Left),
        ("Version", Align::Left),
    ]);
    for row in &p.connections {
        table.row(vec![
            row.client_id.clone(),
            row.client_addr.clone(),
            row.language.clone(),
            row.version.clone(),
        ]);
    }
    table.render()
}

/// Asks every broker of the topic at once; no connection anywhere is an error.
pub async fn run(
    admin: &Admin,
    args: &ProducerConnectionArgs,
) -> Result<ProducerConnections, CmdError> {
    let route = admin.topic_route(&args.topic).await?;
    let addrs: Vec<&str> = route
        .broker_datas
        .iter()
        .filter_map(select_broker_addr)
        .collect();
    let answers = join_all(
        addrs
            .iter()
            .map(|addr| admin.producer_connections(addr, &args.group)),
    )
    .await;
    let found: Vec<ProducerConnection> = answers
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let merged = merge(&args.group, &args.topic, &found);
    if merged.connections.is_empty() {
        return Err(CmdError::GroupNotOnline {
            group: args.group.clone(),
        });
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use rmq_protocol::LanguageCode;
    use rmq_protocol::command::connection_list::Connection;

    use super::*;

    #[test]
    fn a_connection_seen_by_two_brokers_is_listed_once() {
        let answer = ProducerConnection {
            connection_set: vec![Connection {
                client_addr: "10.0.0.1:1".into(),
                client_id: "p@1".into(),
                language: LanguageCode::Java,
                version: 413,
            }],
        };
        let merged = merge("pg", "T", &[answer.clone(), answer]);
        assert_eq!(
            render_producer_connections(&merged),
            "#ClientId  #ClientAddr  #Language  #Version\np@1        10.0.0.1:1   JAVA       V5_0_0\n"
        );
    }
}
