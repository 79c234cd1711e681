//! UPDATE_CONSUMER_OFFSET (15): commit a group's offset of one queue (usually oneway).
//! The response has no header.

use super::command_header;

command_header! {
    /// The commit.
    pub struct UpdateConsumerOffsetRequestHeader {
        consumer_group: String => "consumerGroup",
        topic: String => "topic",
        queue_id: i32 => "queueId",
        commit_offset: i64 => "commitOffset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = UpdateConsumerOffsetRequestHeader {
            consumer_group: "cg".into(),
            topic: "T".into(),
            queue_id: 0,
            commit_offset: 1000,
        };
        assert_round_trip_and_required(
            &header,
            &["consumerGroup", "topic", "queueId", "commitOffset"],
        );
    }
}
