//! GET_CONSUMER_CONNECTION_LIST (203), GET_PRODUCER_CONNECTION_LIST (204) and
//! GET_ALL_PRODUCER_INFO (328): who is connected to a broker for a group, as each client reported
//! itself (id, language, version) and where its connection comes from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command_header;
use super::heart_beat::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use crate::LanguageCode;

command_header! {
    /// GET_CONSUMER_CONNECTION_LIST's query.
    pub struct GetConsumerConnectionListRequestHeader {
        consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// GET_PRODUCER_CONNECTION_LIST's query.
    pub struct GetProducerConnectionListRequestHeader {
        producer_group: String => "producerGroup",
    }
}

/// One client connection: `{"clientAddr":"10.0.0.5:53012","clientId":"..","language":"JAVA","version":401}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Connection {
    pub client_addr: String,
    pub client_id: String,
    pub language: LanguageCode,
    pub version: i32,
}

/// GET_CONSUMER_CONNECTION_LIST's answer: the group's members and what they subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerConnection {
    pub connection_set: Vec<Connection>,
    pub consume_from_where: ConsumeFromWhere,
    pub consume_type: ConsumeType,
    pub message_model: MessageModel,
    pub subscription_table: BTreeMap<String, SubscriptionData>,
}

impl Default for ConsumerConnection {
    fn default() -> Self {
        ConsumerConnection {
            connection_set: Vec::new(),
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_type: ConsumeType::ConsumePassively,
            message_model: MessageModel::Clustering,
            subscription_table: BTreeMap::new(),
        }
    }
}

/// GET_PRODUCER_CONNECTION_LIST's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerConnection {
    pub connection_set: Vec<Connection>,
}

/// GET_ALL_PRODUCER_INFO's answer: every producer group's connections.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerTableInfo {
    pub data: BTreeMap<String, Vec<ProducerInfo>>,
}

/// One producer connection; `remote_ip` as Java prints a socket address (`/10.0.0.5:53012`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerInfo {
    pub client_id: String,
    pub language: LanguageCode,
    pub last_update_timestamp: i64,
    #[serde(rename = "remoteIP")]
    pub remote_ip: String,
    pub version: i32,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn requests_round_trip_and_require_their_group() {
        assert_round_trip_and_required(
            &GetConsumerConnectionListRequestHeader {
                consumer_group: "cg".into(),
            },
            &["consumerGroup"],
        );
        assert_round_trip_and_required(
            &GetProducerConnectionListRequestHeader {
                producer_group: "pg".into(),
            },
            &["producerGroup"],
        );
    }

    #[test]
    fn a_consumer_connection_has_javas_field_names_and_enum_names() {
        let body = ConsumerConnection {
            connection_set: vec![Connection {
                client_addr: "127.0.0.1:5000".into(),
                client_id: "10.0.0.1@1".into(),
                language: LanguageCode::Cpp,
                version: 401,
            }],
            ..ConsumerConnection::default()
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"connectionSet":[{"clientAddr":"127.0.0.1:5000","clientId":"10.0.0.1@1","language":"CPP","version":401}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{}}"#
        );
        assert_eq!(
            serde_json::from_str::<ConsumerConnection>(&json).unwrap(),
            body
        );
    }

    #[test]
    fn the_producer_table_has_javas_names() {
        let table = ProducerTableInfo {
            data: [(
                "pg".to_owned(),
                vec![ProducerInfo {
                    client_id: "c".into(),
                    language: LanguageCode::Java,
                    last_update_timestamp: 5,
                    remote_ip: "/127.0.0.1:1".into(),
                    version: 401,
                }],
            )]
            .into(),
        };
        assert_eq!(
            serde_json::to_string(&table).unwrap(),
            r#"{"data":{"pg":[{"clientId":"c","language":"JAVA","lastUpdateTimestamp":5,"remoteIP":"/127.0.0.1:1","version":401}]}}"#
        );
    }

    #[test]
    fn an_unknown_language_name_reads_as_other() {
        let connection: Connection =
            serde_json::from_str(r#"{"clientId":"c","language":"COBOL","version":1}"#).unwrap();
        assert_eq!(connection.language, LanguageCode::Other);
    }
}
