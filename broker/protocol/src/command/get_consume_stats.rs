//! GET_CONSUME_STATS (208): a group's progress on a topic, per queue.
//!
//! The answer's body, [`ConsumeStats`], is a map keyed by `MessageQueue` objects, which fastjson
//! writes as JSON objects in key position: `{"consumeTps":0.0,"offsetTable":{{"brokerName":..}:{..}}}`.

use serde::{Deserialize, Serialize};

use super::command_header;
use crate::body::{DecodeBodyError, EncodeBodyError, MessageQueue, fastjson};

/// A group's progress on every queue it consumes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeStats {
    pub consume_tps: f64,
    #[serde(deserialize_with = "fastjson::deserialize_pairs")]
    pub offset_table: Vec<(MessageQueue, OffsetWrapper)>,
}

/// Progress on one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OffsetWrapper {
    pub broker_offset: i64,
    pub consumer_offset: i64,
    pub last_timestamp: i64,
    /// 5.x only.
    pub pull_offset: i64,
}

impl ConsumeStats {
    /// fastjson's form, with queue objects as keys: what Java admin tools read.
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        let wrap = |source| EncodeBodyError {
            body: "ConsumeStats",
            source,
        };
        let mut out = br#"{"consumeTps":"#.to_vec();
        serde_json::to_writer(&mut out, &self.consume_tps).map_err(wrap)?;
        out.extend_from_slice(br#","offsetTable":"#);
        fastjson::write_object_keyed(&mut out, &self.offset_table).map_err(wrap)?;
        out.push(b'}');
        Ok(out)
    }

    /// Reads fastjson's form (or an empty table).
    pub fn decode(bytes: &[u8]) -> Result<ConsumeStats, DecodeBodyError> {
        crate::body::decode_object_keyed("ConsumeStats", bytes)
    }
}

command_header! {
    /// The query.
    pub struct GetConsumeStatsRequestHeader {
        consumer_group: String => "consumerGroup",
        topic: Option<String> => "topic",
        /// 5.x: several topics, comma-separated.
        topic_list: Option<String> => "topicList",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_group() {
        let header = GetConsumeStatsRequestHeader {
            consumer_group: "cg".into(),
            topic: Some("T".into()),
            topic_list: None,
        };
        assert_round_trip_and_required(&header, &["consumerGroup"]);
    }

    #[test]
    fn consume_stats_are_written_with_queue_keys_and_read_back() {
        let stats = ConsumeStats {
            consume_tps: 1.5,
            offset_table: vec![(
                MessageQueue {
                    broker_name: "b".into(),
                    queue_id: 0,
                    topic: "T".into(),
                },
                OffsetWrapper {
                    broker_offset: 10,
                    consumer_offset: 7,
                    last_timestamp: 1_700_000_000_000,
                    pull_offset: 8,
                },
            )],
        };
        let bytes = stats.to_fastjson().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"consumeTps":1.5,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":7,"lastTimestamp":1700000000000,"pullOffset":8}}}"#
        );
        assert_eq!(ConsumeStats::decode(&bytes).unwrap(), stats);
    }

    #[test]
    fn empty_consume_stats_read_back() {
        let stats = ConsumeStats::decode(br#"{"consumeTps":0.0,"offsetTable":{}}"#).unwrap();
        assert!(stats.offset_table.is_empty());
        assert_eq!(
            ConsumeStats::decode(&stats.to_fastjson().unwrap()).unwrap(),
            stats
        );
    }
}
