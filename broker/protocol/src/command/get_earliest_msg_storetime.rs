//! GET_EARLIEST_MSG_STORETIME (32): store time of the oldest message of a queue.

use super::command_header;

command_header! {
    /// The query.
    pub struct GetEarliestMsgStoretimeRequestHeader {
        topic: String => "topic",
        queue_id: i32 => "queueId",
    }
}

command_header! {
    /// The answer.
    pub struct GetEarliestMsgStoretimeResponseHeader {
        timestamp: i64 => "timestamp",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = GetEarliestMsgStoretimeRequestHeader {
            topic: "T".into(),
            queue_id: 1,
        };
        assert_round_trip_and_required(&header, &["topic", "queueId"]);
    }

    #[test]
    fn response_round_trips_and_requires_its_timestamp() {
        let header = GetEarliestMsgStoretimeResponseHeader {
            timestamp: 1_700_000_000_000,
        };
        assert_round_trip_and_required(&header, &["timestamp"]);
    }
}
