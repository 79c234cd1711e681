//! QUERY_CONSUMER_OFFSET (14): a group's committed offset of one queue.

use super::command_header;

command_header! {
    /// The query.
    pub struct QueryConsumerOffsetRequestHeader {
        consumer_group: String => "consumerGroup",
        topic: String => "topic",
        queue_id: i32 => "queueId",
        /// `false`: answer QUERY_NOT_FOUND rather than 0 for an unknown offset.
        set_zero_if_not_found: Option<bool> => "setZeroIfNotFound",
    }
}

command_header! {
    /// The answer.
    pub struct QueryConsumerOffsetResponseHeader {
        offset: i64 => "offset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = QueryConsumerOffsetRequestHeader {
            consumer_group: "cg".into(),
            topic: "T".into(),
            queue_id: 3,
            set_zero_if_not_found: Some(false),
        };
        assert_round_trip_and_required(&header, &["consumerGroup", "topic", "queueId"]);
    }

    #[test]
    fn response_round_trips_and_requires_its_offset() {
        assert_round_trip_and_required(
            &QueryConsumerOffsetResponseHeader { offset: 77 },
            &["offset"],
        );
    }
}
