//! INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223), from a tool, and GET_CONSUMER_STATUS_FROM_CLIENT
//! (221), from the broker to each consumer of the group: where each client stands on a topic.

use serde::{Deserialize, Serialize};

use super::command_header;
use crate::body::{EncodeBodyError, MessageQueue, fastjson};

command_header! {
    /// The query: one group on one topic, optionally one client (`clientAddr` holds a client id).
    pub struct GetConsumerStatusRequestHeader {
        topic: String => "topic",
        group: String => "group",
        client_addr: Option<String> => "clientAddr",
    }
}

/// A client's answer: its offset on every queue (`{"messageQueueTable":{{mq}:offset}}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientStatus {
    #[serde(deserialize_with = "fastjson::deserialize_pairs")]
    pub message_queue_table: Vec<(MessageQueue, i64)>,
}

impl ClientStatus {
    /// Reads a client's fastjson answer.
    pub fn decode(bytes: &[u8]) -> Result<ClientStatus, crate::body::DecodeBodyError> {
        crate::body::decode_object_keyed("GetConsumerStatusBody", bytes)
    }
}

/// The broker's answer: every client's table, by client id
/// (`{"consumerTable":{"cid":{{mq}:offset}},"messageQueueTable":{}}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetConsumerStatusBody {
    pub consumer_table: Vec<(String, Vec<(MessageQueue, i64)>)>,
}

impl GetConsumerStatusBody {
    /// fastjson's form.
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        let wrap = |source| EncodeBodyError {
            body: "GetConsumerStatusBody",
            source,
        };
        let mut out = br#"{"consumerTable":{"#.to_vec();
        for (index, (client, table)) in self.consumer_table.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, client).map_err(wrap)?;
            out.push(b':');
            fastjson::write_object_keyed(&mut out, table).map_err(wrap)?;
        }
        out.extend_from_slice(br#"},"messageQueueTable":{}}"#);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_header_round_trips_and_requires_topic_and_group() {
        let header = GetConsumerStatusRequestHeader {
            topic: "T".into(),
            group: "g".into(),
            client_addr: Some("c1".into()),
        };
        assert_round_trip_and_required(&header, &["topic", "group"]);
    }

    #[test]
    fn a_clients_table_is_read_and_the_brokers_answer_nests_it_by_client_id() {
        let status = ClientStatus::decode(
            br#"{"messageQueueTable":{{"brokerName":"b","queueId":1,"topic":"T"}:5}}"#,
        )
        .unwrap();
        assert_eq!(status.message_queue_table[0].1, 5);
        let body = GetConsumerStatusBody {
            consumer_table: vec![("c1".into(), status.message_queue_table)],
        };
        assert_eq!(
            String::from_utf8(body.to_fastjson().unwrap()).unwrap(),
            r#"{"consumerTable":{"c1":{{"brokerName":"b","queueId":1,"topic":"T"}:5}},"messageQueueTable":{}}"#
        );
    }
}
