//! CONSUMER_SEND_MSG_BACK (36): a consumer hands a failed message back for retry (or DLQ).

use super::command_header;

command_header! {
    /// The send-back.
    pub struct ConsumerSendMsgBackRequestHeader {
        /// Commit-log offset of the failed message.
        offset: i64 => "offset",
        group: String => "group",
        delay_level: i32 => "delayLevel",
        origin_msg_id: Option<String> => "originMsgId",
        origin_topic: Option<String> => "originTopic",
        /// `boolean unitMode = false` in Java.
        unit_mode: bool => "unitMode" or false,
        max_reconsume_times: Option<i32> => "maxReconsumeTimes",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_fields() {
        let header = ConsumerSendMsgBackRequestHeader {
            offset: 1234,
            group: "cg".into(),
            delay_level: 3,
            origin_msg_id: Some("AC11000100002A9F0000000000000000".into()),
            origin_topic: Some("T".into()),
            unit_mode: false,
            max_reconsume_times: Some(16),
        };
        assert_round_trip_and_required(&header, &["offset", "group", "delayLevel"]);
    }
}
