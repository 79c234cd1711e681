//! `consumerConnection -g group`: the group's members as each broker of its retry topic sees
//! them (client id, address, language, version), its subscriptions and how it consumes.

use futures::future::join_all;
use rmq_admin::Admin;
use rmq_protocol::command::connection_list::{Connection, ConsumerConnection};
use serde::Serialize;

use super::consumer_progress::RETRY_GROUP_TOPIC_PREFIX;
use super::{select_broker_addr, version_name};
use crate::cli::GroupArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// A group's connections, merged over its brokers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConnections {
    pub group: String,
    pub connections: Vec<ConnectionRow>,
    /// `(topic, expression)` of each subscription.
    pub subscriptions: Vec<(String, String)>,
    pub consume_type: String,
    pub message_model: String,
    pub consume_from_where: String,
}

/// One client connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRow {
    pub client_id: String,
    pub client_addr: String,
    pub language: String,
    pub version: String,
}

/// Merges the brokers' answers: every distinct connection, the first answer's subscriptions
/// and consume settings. `None` when no broker had the group online.
pub fn merge(group: &str, answers: &[ConsumerConnection]) -> Option<ConsumerConnections> {
    let first = answers.first()?;
    let connections = rows(answers.iter().flat_map(|a| &a.connection_set));
    Some(ConsumerConnections {
        group: group.to_owned(),
        connections,
        subscriptions: first
            .subscription_table
            .iter()
            .map(|(topic, s)| (topic.clone(), s.sub_string.clone()))
            .collect(),
        consume_type: first.consume_type.name().to_owned(),
        message_model: first.message_model.name().to_owned(),
        consume_from_where: first.consume_from_where.name().to_owned(),
    })
}

/// Every distinct connection, sorted, as the tables show them.
pub fn rows<'a>(connections: impl Iterator<Item = &'a Connection>) -> Vec<ConnectionRow> {
    let mut rows: Vec<ConnectionRow> = connections
        .map(|c| ConnectionRow {
            client_id: c.client_id.clone(),
            client_addr: c.client_addr.clone(),
            language: c.language.name().to_owned(),
            version: version_name(c.version),
        })
        .collect();
    rows.sort();
    rows.dedup();
    rows
}

/// One line per connection.
pub fn render_rows(rows: &[ConnectionRow]) -> String {
    let mut table = Table::new(&[
        ("ClientId", Align::Left),
        ("ClientAddr", Align::Left),
        ("Language", Align::Left),
        ("Version", Align::Left),
    ]);
    for row in rows {
        table.row(vec![
            row.client_id.clone(),
            row.client_addr.clone(),
            row.language.clone(),
            row.version.clone(),
        ]);
    }
    table.render()
}

/// The connections table, the subscriptions, then the consume settings.
pub fn render_consumer_connections(c: &ConsumerConnections) -> String {
    let mut subs = Table::new(&[("Topic", Align::Left), ("SubExpression", Align::Left)]);
    for (topic, expression) in &c.subscriptions {
        subs.row(vec![topic.clone(), expression.clone()]);
    }
    format!(
        "{}\nBelow is subscription:\n{}\nConsumeType: {}\nMessageModel: {}\nConsumeFromWhere: {}\n",
        render_rows(&c.connections),
        subs.render(),
        c.consume_type,
        c.message_model,
        c.consume_from_where
    )
}

/// Asks every broker of `topic`'s route at once (the master, else the lowest slave); the
/// answers that are there, or the first failure.
pub async fn ask_route_brokers<T, F, Fut>(
    admin: &Admin,
    topic: &str,
    ask: F,
) -> Result<Vec<T>, CmdError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, rmq_admin::RpcError>>,
{
    let route = admin.topic_route(topic).await?;
    let answers = join_all(
        route
            .broker_datas
            .iter()
            .filter_map(select_broker_addr)
            .map(|addr| ask(addr.to_owned())),
    )
    .await;
    Ok(answers
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// Asks every broker of the group's retry topic at once.
pub async fn run(admin: &Admin, args: &GroupArgs) -> Result<ConsumerConnections, CmdError> {
    let retry_topic = format!("{RETRY_GROUP_TOPIC_PREFIX}{}", args.group);
    let group = args.group.as_str();
    let online = ask_route_brokers(admin, &retry_topic, |addr| async move {
        admin.consumer_connections(&addr, group).await
    })
    .await?;
    merge(&args.group, &online).ok_or_else(|| CmdError::GroupNotOnline {
        group: args.group.clone(),
    })
}

#[cfg(test)]
mod tests {
    use rmq_protocol::LanguageCode;
    use rmq_protocol::command::connection_list::Connection;
    use rmq_protocol::command::heart_beat::SubscriptionData;

    use super::*;

    fn answer(client: &str) -> ConsumerConnection {
        ConsumerConnection {
            connection_set: vec![Connection {
                client_addr: "127.0.0.1:5000".into(),
                client_id: client.into(),
                language: LanguageCode::Cpp,
                version: 401,
            }],
            subscription_table: [(
                "T".to_owned(),
                SubscriptionData {
                    topic: "T".into(),
                    sub_string: "a || b".into(),
                    ..SubscriptionData::default()
                },
            )]
            .into(),
            ..ConsumerConnection::default()
        }
    }

    #[test]
    fn connections_of_every_broker_are_merged_once_each_with_the_consume_settings() {
        let merged = merge("g", &[answer("c1"), answer("c1"), answer("c2")]).unwrap();
        assert_eq!(merged.connections.len(), 2);
        assert_eq!(merged.connections[0].version, "V4_9_4");
        assert_eq!(merged.consume_type, "CONSUME_PASSIVELY");
        assert_eq!(
            render_consumer_connections(&merged),
            "\
#ClientId  #ClientAddr     #Language  #Version
c1         127.0.0.1:5000  CPP        V4_9_4
c2         127.0.0.1:5000  CPP        V4_9_4

Below is subscription:
#Topic  #SubExpression
T       a || b

ConsumeType: CONSUME_PASSIVELY
MessageModel: CLUSTERING
ConsumeFromWhere: CONSUME_FROM_LAST_OFFSET
"
        );
        assert!(merge("g", &[]).is_none());
    }
}
