//! INVOKE_BROKER_TO_RESET_OFFSET (222), from a tool to the broker, and
//! RESET_CONSUMER_CLIENT_OFFSET (220), from the broker to each online consumer of the group:
//! the same header, and the new offset of every queue.
//!
//! The offsets travel as fastjson writes a map keyed by `MessageQueue`
//! (`{"offsetTable":{{"brokerName":..,"queueId":0,"topic":..}:42}}`), except to C++ consumers,
//! which read a list ([`ResetOffsetBodyForC`]).

use serde::{Deserialize, Serialize};

use super::command_header;
use crate::body::{DecodeBodyError, EncodeBodyError, MessageQueue, fastjson};

command_header! {
    /// Reset `group`'s offsets on `topic` to the first message stored at or after `timestamp`
    /// (ms; -1 means the queue's end); without `is_force`, only offsets that move back.
    pub struct ResetOffsetRequestHeader {
        topic: String => "topic",
        group: String => "group",
        timestamp: i64 => "timestamp",
        is_force: bool => "isForce",
    }
}

/// The new offset of every queue.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetOffsetBody {
    #[serde(deserialize_with = "fastjson::deserialize_pairs")]
    pub offset_table: Vec<(MessageQueue, i64)>,
}

impl ResetOffsetBody {
    /// fastjson's form, with queue objects as keys.
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        let mut out = br#"{"offsetTable":"#.to_vec();
        fastjson::write_object_keyed(&mut out, &self.offset_table).map_err(|source| {
            EncodeBodyError {
                body: "ResetOffsetBody",
                source,
            }
        })?;
        out.push(b'}');
        Ok(out)
    }

    /// Reads fastjson's form.
    pub fn decode(bytes: &[u8]) -> Result<ResetOffsetBody, DecodeBodyError> {
        crate::body::decode_object_keyed("ResetOffsetBody", bytes)
    }

    /// The same offsets as the C++ client reads them.
    pub fn for_c(&self) -> ResetOffsetBodyForC {
        ResetOffsetBodyForC {
            offset_table: self
                .offset_table
                .iter()
                .map(|(mq, offset)| MessageQueueForC {
                    broker_name: mq.broker_name.clone(),
                    offset: *offset,
                    queue_id: mq.queue_id,
                    topic: mq.topic.clone(),
                })
                .collect(),
        }
    }
}

/// The C++ client's form: `{"offsetTable":[{"brokerName":..,"offset":42,"queueId":0,"topic":..}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetOffsetBodyForC {
    pub offset_table: Vec<MessageQueueForC>,
}

/// One queue and its new offset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueueForC {
    pub broker_name: String,
    pub offset: i64,
    pub queue_id: i32,
    pub topic: String,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    fn mq(queue_id: i32) -> MessageQueue {
        MessageQueue {
            broker_name: "b".into(),
            queue_id,
            topic: "T".into(),
        }
    }

    #[test]
    fn the_header_round_trips_and_requires_every_field_java_marks_not_null() {
        let header = ResetOffsetRequestHeader {
            topic: "T".into(),
            group: "g".into(),
            timestamp: -1,
            is_force: true,
        };
        assert_round_trip_and_required(&header, &["topic", "group", "timestamp", "isForce"]);
    }

    #[test]
    fn the_body_is_keyed_by_queue_objects_and_reads_back() {
        let body = ResetOffsetBody {
            offset_table: vec![(mq(0), 42), (mq(1), 7)],
        };
        let bytes = body.to_fastjson().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:42,{"brokerName":"b","queueId":1,"topic":"T"}:7}}"#
        );
        assert_eq!(ResetOffsetBody::decode(&bytes).unwrap(), body);
    }

    #[test]
    fn the_c_form_is_a_list_with_the_offset_inside_each_queue() {
        let body = ResetOffsetBody {
            offset_table: vec![(mq(3), 9)],
        };
        assert_eq!(
            serde_json::to_string(&body.for_c()).unwrap(),
            r#"{"offsetTable":[{"brokerName":"b","offset":9,"queueId":3,"topic":"T"}]}"#
        );
    }
}
