//! GET_TOPIC_CONFIG (351, 5.x): one topic's configuration, as the 5.x admin tools and the
//! dashboard ask it. The answer's body is the topic's `TopicConfig` as JSON.

use super::command_header;

command_header! {
    /// The query; `lo` asks for the static-topic queue mapping, which no broker here keeps.
    pub struct GetTopicConfigRequestHeader {
        topic: String => "topic",
        lo: Option<bool> => "lo",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_round_trips_and_requires_its_topic() {
        let header = GetTopicConfigRequestHeader {
            topic: "T".into(),
            lo: Some(true),
        };
        assert_round_trip_and_required(&header, &["topic"]);
    }
}
