//! VIEW_MESSAGE_BY_ID (33): one stored record by commit-log offset (decoded from an offset
//! msgId). The answer's body is the raw record.

use super::command_header;

command_header! {
    /// The lookup.
    pub struct ViewMessageRequestHeader {
        topic: Option<String> => "topic",
        offset: i64 => "offset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_offset() {
        let header = ViewMessageRequestHeader {
            topic: Some("T".into()),
            offset: 4096,
        };
        assert_round_trip_and_required(&header, &["offset"]);
    }
}
