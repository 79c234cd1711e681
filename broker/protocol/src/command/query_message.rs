//! QUERY_MESSAGE (12): messages of a topic by key, through the index.
//! The answer's body is the concatenated stored records.

use super::command_header;

/// Ext field that makes `key` a UNIQ_KEY and `maxNum` the broker's default (`"true"`).
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

command_header! {
    /// The query.
    pub struct QueryMessageRequestHeader {
        topic: String => "topic",
        key: String => "key",
        max_num: i32 => "maxNum",
        begin_timestamp: i64 => "beginTimestamp",
        end_timestamp: i64 => "endTimestamp",
    }
}

command_header! {
    /// The answer.
    pub struct QueryMessageResponseHeader {
        index_last_update_timestamp: i64 => "indexLastUpdateTimestamp",
        index_last_update_phyoffset: i64 => "indexLastUpdatePhyoffset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = QueryMessageRequestHeader {
            topic: "T".into(),
            key: "order-1".into(),
            max_num: 32,
            begin_timestamp: 0,
            end_timestamp: i64::MAX,
        };
        assert_round_trip_and_required(
            &header,
            &["topic", "key", "maxNum", "beginTimestamp", "endTimestamp"],
        );
    }

    #[test]
    fn response_round_trips_and_requires_its_required_fields() {
        let header = QueryMessageResponseHeader {
            index_last_update_timestamp: 1,
            index_last_update_phyoffset: 2,
        };
        assert_round_trip_and_required(
            &header,
            &["indexLastUpdateTimestamp", "indexLastUpdatePhyoffset"],
        );
    }
}
