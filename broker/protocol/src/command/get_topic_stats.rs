//! GET_TOPIC_STATS_INFO (202): min/max offsets of every queue of a topic on a broker.
//!
//! The answer's body (`TopicStatsTable`) is a map keyed by `MessageQueue` objects, which fastjson
//! writes as JSON objects in key position; its codec is not written yet.

use super::command_header;

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
