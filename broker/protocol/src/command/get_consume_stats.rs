//! GET_CONSUME_STATS (208): a group's progress on a topic, per queue.
//!
//! The answer's body (`ConsumeStats`) is a map keyed by `MessageQueue` objects, which fastjson
//! writes as JSON objects in key position; its codec is not written yet.

use super::command_header;

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
}
