//! GET_MIN_OFFSET (31): the smallest offset still in a consume queue.

use super::command_header;

command_header! {
    /// The query.
    pub struct GetMinOffsetRequestHeader {
        topic: String => "topic",
        queue_id: i32 => "queueId",
    }
}

command_header! {
    /// The answer.
    pub struct GetMinOffsetResponseHeader {
        offset: i64 => "offset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = GetMinOffsetRequestHeader {
            topic: "T".into(),
            queue_id: 1,
        };
        assert_round_trip_and_required(&header, &["topic", "queueId"]);
    }

    #[test]
    fn response_round_trips_and_requires_its_offset() {
        assert_round_trip_and_required(&GetMinOffsetResponseHeader { offset: 0 }, &["offset"]);
    }
}
