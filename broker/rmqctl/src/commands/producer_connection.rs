//! `producerConnection -g group -t topic`: the producers of a group connected to the brokers
//! of a topic, as each reported itself.

use rmq_admin::Admin;
use rmq_protocol::command::connection_list::ProducerConnection;
use serde::Serialize;

use super::consumer_connection::{ConnectionRow, ask_route_brokers, render_rows, rows};
use crate::cli::ProducerConnectionArgs;
use crate::error::CmdError;

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
    ProducerConnections {
        group: group.to_owned(),
        topic: topic.to_owned(),
        connections: rows(answers.iter().flat_map(|a| &a.connection_set)),
    }
}

/// One row per connection.
pub fn render_producer_connections(p: &ProducerConnections) -> String {
    render_rows(&p.connections)
}

/// Asks every broker of the topic at once; no connection anywhere is an error.
pub async fn run(
    admin: &Admin,
    args: &ProducerConnectionArgs,
) -> Result<ProducerConnections, CmdError> {
    let group = args.group.as_str();
    let found = ask_route_brokers(admin, &args.topic, |addr| async move {
        admin.producer_connections(&addr, group).await
    })
    .await?;
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
