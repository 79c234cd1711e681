//! GET_MAX_OFFSET (30): the next offset to be written in a consume queue.

use super::command_header;

command_header! {
    /// The query.
    pub struct GetMaxOffsetRequestHeader {
        topic: String => "topic",
        queue_id: i32 => "queueId",
        /// 5.x; `boolean committed = true` in Java.
        committed: bool => "committed" or true,
    }
}

command_header! {
    /// The answer.
    pub struct GetMaxOffsetResponseHeader {
        offset: i64 => "offset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::CommandHeader;
    use super::super::testing::{assert_round_trip_and_required, fields};
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = GetMaxOffsetRequestHeader {
            topic: "T".into(),
            queue_id: 2,
            committed: false,
        };
        assert_round_trip_and_required(&header, &["topic", "queueId"]);
    }

    #[test]
    fn a_4x_request_without_committed_means_committed() {
        let header = GetMaxOffsetRequestHeader::from_ext_fields(&fields(&[
            ("topic", "T"),
            ("queueId", "0"),
        ]))
        .unwrap();
        assert!(header.committed);
    }

    #[test]
    fn response_round_trips_and_requires_its_offset() {
        assert_round_trip_and_required(&GetMaxOffsetResponseHeader { offset: 10 }, &["offset"]);
    }
}
