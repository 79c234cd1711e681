//! QUERY_CONSUME_TIME_SPAN (303): for each queue of a topic, the store times of its first and
//! last message and of the group's position, and how long the group's next message has waited.

use serde::{Deserialize, Serialize};

use super::command_header;
use crate::body::MessageQueue;

command_header! {
    /// The query.
    pub struct QueryConsumeTimeSpanRequestHeader {
        topic: String => "topic",
        group: String => "group",
    }
}

/// One queue's span.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueTimeSpan {
    pub consume_time_stamp: i64,
    pub delay_time: i64,
    pub max_time_stamp: i64,
    pub message_queue: MessageQueue,
    pub min_time_stamp: i64,
}

/// The answer: `{"consumeTimeSpanSet":[..]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryConsumeTimeSpanBody {
    pub consume_time_span_set: Vec<QueueTimeSpan>,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_requires_topic_and_group() {
        let header = QueryConsumeTimeSpanRequestHeader {
            topic: "T".into(),
            group: "g".into(),
        };
        assert_round_trip_and_required(&header, &["topic", "group"]);
        let json = serde_json::to_string(&QueryConsumeTimeSpanBody::default()).unwrap();
        assert_eq!(json, r#"{"consumeTimeSpanSet":[]}"#);
    }
}
