//! Who is connected, as tools ask it: a group's connections and subscriptions, and which groups
//! consume a topic. Pure over the client table; the caller says how a channel's address reads.

use std::collections::BTreeSet;

use rmq_protocol::code::ResponseCode;
use std::collections::BTreeMap;
use std::time::Instant;

use rmq_protocol::command::connection_list::{
    Connection, ConsumerConnection, ProducerConnection, ProducerInfo, ProducerTableInfo,
};

use crate::clients::{ConsumerGroup, Member};

/// Why a connection list is not given, with Apache's codes and remarks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionsRefused {
    #[error("the consumer group[{0}] not online")]
    ConsumerNotOnline(String),
    #[error("the producer group[{0}] not exist")]
    ProducerNotExist(String),
}

impl ConnectionsRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            ConnectionsRefused::ConsumerNotOnline(_) => ResponseCode::ConsumerNotOnline,
            ConnectionsRefused::ProducerNotExist(_) => ResponseCode::SystemError,
        }
    }
}

/// A member as a connection list shows it, in a stable order.
fn connections<'a, C: 'a>(
    members: impl Iterator<Item = &'a Member<C>>,
    addr_of: impl Fn(&C) -> String,
) -> Vec<Connection> {
    let mut list: Vec<Connection> = members
        .map(|m| Connection {
            client_addr: addr_of(&m.channel),
            client_id: m.client_id.clone(),
            language: m.language,
            version: m.version,
        })
        .collect();
    list.sort();
    list
}

/// GET_CONSUMER_CONNECTION_LIST: the group's members and subscriptions, or CONSUMER_NOT_ONLINE.
pub fn consumer_connection<C>(
    name: &str,
    group: Option<&ConsumerGroup<C>>,
    addr_of: impl Fn(&C) -> String,
) -> Result<ConsumerConnection, ConnectionsRefused> {
    let group = group.ok_or_else(|| ConnectionsRefused::ConsumerNotOnline(name.to_owned()))?;
    Ok(ConsumerConnection {
        connection_set: connections(group.members.values(), addr_of),
        consume_from_where: group.consume_from_where,
        consume_type: group.consume_type,
        message_model: group.message_model,
        subscription_table: group.subscriptions.clone().into_iter().collect(),
    })
}

/// GET_PRODUCER_CONNECTION_LIST: the group's members, or SYSTEM_ERROR when it has none.
pub fn producer_connection<'a, C: 'a>(
    name: &str,
    members: Option<impl Iterator<Item = &'a Member<C>>>,
    addr_of: impl Fn(&C) -> String,
) -> Result<ProducerConnection, ConnectionsRefused> {
    let members = members.ok_or_else(|| ConnectionsRefused::ProducerNotExist(name.to_owned()))?;
    Ok(ProducerConnection {
        connection_set: connections(members, addr_of),
    })
}

/// GET_ALL_PRODUCER_INFO: every producer group's connections, each with its last heartbeat
/// as wall-clock time (`now_ms` is the wall clock at `now`).
pub fn producer_table<'a, C: 'a>(
    groups: impl Iterator<Item = (&'a String, &'a BTreeMap<u64, Member<C>>)>,
    addr_of: impl Fn(&C) -> String,
    now: Instant,
    now_ms: i64,
) -> ProducerTableInfo {
    let data = groups
        .map(|(group, members)| {
            let mut infos: Vec<ProducerInfo> = members
                .values()
                .map(|m| ProducerInfo {
                    client_id: m.client_id.clone(),
                    language: m.language,
                    last_update_timestamp: now_ms
                        - now.saturating_duration_since(m.last_heartbeat).as_millis() as i64,
                    remote_ip: format!("/{}", addr_of(&m.channel)),
                    version: m.version,
                })
                .collect();
            infos.sort();
            (group.clone(), infos)
        })
        .collect();
    ProducerTableInfo { data }
}

/// QUERY_TOPIC_CONSUME_BY_WHO: groups online and subscribed, and groups with a committed
/// offset on the topic (offline ones included), each once.
pub fn who_consumes(online: Vec<String>, with_offsets: Vec<String>) -> Vec<String> {
    online
        .into_iter()
        .chain(with_offsets)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use rmq_protocol::LanguageCode;
    use rmq_protocol::command::heart_beat::{ConsumerData, SubscriptionData};

    use super::*;
    use crate::clients::{Clients, Identity};

    fn who(client_id: &str, language: LanguageCode, version: i32) -> Identity {
        Identity {
            client_id: client_id.into(),
            language,
            version,
        }
    }

    fn consumer(group: &str) -> ConsumerData {
        ConsumerData {
            group_name: group.into(),
            subscription_data_set: vec![SubscriptionData {
                topic: "T".into(),
                ..SubscriptionData::default()
            }],
            ..ConsumerData::default()
        }
    }

    #[test]
    fn a_consumer_group_lists_each_member_as_it_reported_itself_and_where_it_connects_from() {
        let now = Instant::now();
        let mut clients = Clients::<String>::default();
        let cpp = who("10.0.0.2@7", LanguageCode::Cpp, 401);
        let java = who("10.0.0.1@3", LanguageCode::Java, 413);
        clients.register_consumer(2, &"10.0.0.2:4000".into(), &cpp, &consumer("g"), now);
        clients.register_consumer(1, &"10.0.0.1:5000".into(), &java, &consumer("g"), now);
        let answer = consumer_connection("g", clients.consumer_group("g"), String::clone).unwrap();
        assert_eq!(
            answer.connection_set,
            [
                Connection {
                    client_addr: "10.0.0.1:5000".into(),
                    client_id: "10.0.0.1@3".into(),
                    language: LanguageCode::Java,
                    version: 413,
                },
                Connection {
                    client_addr: "10.0.0.2:4000".into(),
                    client_id: "10.0.0.2@7".into(),
                    language: LanguageCode::Cpp,
                    version: 401,
                },
            ]
        );
        assert_eq!(answer.subscription_table.keys().collect::<Vec<_>>(), ["T"]);
    }

    #[test]
    fn an_offline_consumer_group_is_consumer_not_online_and_an_unknown_producer_group_a_system_error()
     {
        let clients = Clients::<String>::default();
        let refused =
            consumer_connection("g", clients.consumer_group("g"), String::clone).unwrap_err();
        assert_eq!(refused.code(), ResponseCode::ConsumerNotOnline);
        assert_eq!(refused.to_string(), "the consumer group[g] not online");
        let refused = producer_connection(
            "pg",
            clients.producer_group("pg").map(|m| m.values()),
            String::clone,
        )
        .unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError);
        assert_eq!(refused.to_string(), "the producer group[pg] not exist");
    }

    #[test]
    fn a_producer_group_lists_its_connections() {
        let mut clients = Clients::<String>::default();
        let go = who("p@1", LanguageCode::Go, 401);
        clients.register_producer(1, &"10.0.0.9:1".into(), &go, "pg", Instant::now());
        let answer = producer_connection(
            "pg",
            clients.producer_group("pg").map(|m| m.values()),
            String::clone,
        )
        .unwrap();
        assert_eq!(answer.connection_set.len(), 1);
        assert_eq!(answer.connection_set[0].language, LanguageCode::Go);
        assert_eq!(answer.connection_set[0].client_addr, "10.0.0.9:1");
    }

    #[test]
    fn the_producer_table_dates_each_heartbeat_by_the_wall_clock() {
        let now = Instant::now();
        let mut clients = Clients::<String>::default();
        let go = who("p@1", LanguageCode::Go, 401);
        clients.register_producer(1, &"10.0.0.9:1".into(), &go, "pg", now);
        let later = now + std::time::Duration::from_millis(1500);
        let table = producer_table(clients.producer_groups(), String::clone, later, 10_000);
        let info = &table.data["pg"][0];
        assert_eq!(info.last_update_timestamp, 8_500);
        assert_eq!(info.remote_ip, "/10.0.0.9:1");
        assert_eq!(info.language, LanguageCode::Go);
    }

    #[test]
    fn groups_consuming_a_topic_are_the_online_and_the_offset_holders_each_once() {
        assert_eq!(
            who_consumes(
                vec!["online".into(), "both".into()],
                vec!["both".into(), "offline".into()]
            ),
            ["both", "offline", "online"]
        );
    }
}
