//! GET_TOPIC_STATS_INFO (202): min/max offsets of every queue of a topic on a broker.
//!
//! The answer's body, [`TopicStatsTable`], is a map keyed by `MessageQueue` objects, which
//! fastjson writes as JSON objects in key position.

use serde::{Deserialize, Serialize};

use super::command_header;
use crate::body::{DecodeBodyError, EncodeBodyError, MessageQueue, fastjson};

/// Offsets of every queue of a topic on one broker.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicStatsTable {
    #[serde(deserialize_with = "fastjson::deserialize_pairs")]
    pub offset_table: Vec<(MessageQueue, TopicOffset)>,
    /// 5.x only.
    pub topic_put_tps: f64,
}

/// Offsets of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicOffset {
    pub last_update_timestamp: i64,
    pub max_offset: i64,
    pub min_offset: i64,
}

impl TopicStatsTable {
    /// fastjson's form, with queue objects as keys: what Java admin tools read.
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        let wrap = |source| EncodeBodyError {
            body: "TopicStatsTable",
            source,
        };
        let mut out = br#"{"offsetTable":"#.to_vec();
        fastjson::write_object_keyed(&mut out, &self.offset_table).map_err(wrap)?;
        out.extend_from_slice(br#","topicPutTps":"#);
        serde_json::to_writer(&mut out, &self.topic_put_tps).map_err(wrap)?;
        out.push(b'}');
        Ok(out)
    }

    /// Reads fastjson's form (or an empty table).
    pub fn decode(bytes: &[u8]) -> Result<TopicStatsTable, DecodeBodyError> {
        crate::body::decode_object_keyed("TopicStatsTable", bytes)
    }
}

command_header! {
    /// The query.
    pub struct GetTopicStatsInfoRequestHeader {
        topic: String => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_topic() {
        assert_round_trip_and_required(
            &GetTopicStatsInfoRequestHeader { topic: "T".into() },
            &["topic"],
        );
    }
}
