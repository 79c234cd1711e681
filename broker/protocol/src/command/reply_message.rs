//! PUSH_REPLY_MESSAGE_TO_CLIENT (326): a reply the broker pushes to the requester whose
//! `DefaultMQProducer.request()` waits for it. The replier sent it with SEND_REPLY_MESSAGE (324)
//! or SEND_REPLY_MESSAGE_V2 (325), whose headers are SEND_MESSAGE's.

use super::command_header;
use super::send_message::SendMessageRequestHeader;

command_header! {
    /// The pushed reply's header: the replier's send header, plus where it was born and stored.
    pub struct ReplyMessageRequestHeader {
        producer_group: String => "producerGroup",
        topic: String => "topic",
        default_topic: String => "defaultTopic",
        default_topic_queue_nums: i32 => "defaultTopicQueueNums",
        queue_id: i32 => "queueId",
        sys_flag: i32 => "sysFlag",
        born_timestamp: i64 => "bornTimestamp",
        flag: i32 => "flag",
        properties: Option<String> => "properties",
        reconsume_times: Option<i32> => "reconsumeTimes",
        unit_mode: bool => "unitMode" or false,
        /// `ip:port` of the replier's connection.
        born_host: String => "bornHost",
        /// `ip:port` of the broker.
        store_host: String => "storeHost",
        store_timestamp: i64 => "storeTimestamp",
    }
}

impl ReplyMessageRequestHeader {
    /// The push of a reply sent with `send`, its properties replaced by `properties`.
    pub fn of_send(
        send: &SendMessageRequestHeader,
        properties: String,
        born_host: String,
        store_host: String,
        store_timestamp: i64,
    ) -> ReplyMessageRequestHeader {
        ReplyMessageRequestHeader {
            producer_group: send.producer_group.clone(),
            topic: send.topic.clone(),
            default_topic: send.default_topic.clone(),
            default_topic_queue_nums: send.default_topic_queue_nums,
            queue_id: send.queue_id,
            sys_flag: send.sys_flag,
            born_timestamp: send.born_timestamp,
            flag: send.flag,
            properties: Some(properties),
            reconsume_times: send.reconsume_times,
            unit_mode: send.unit_mode.unwrap_or(false),
            born_host,
            store_host,
            store_timestamp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_push_header_round_trips_and_requires_what_java_marks_not_null() {
        let header = ReplyMessageRequestHeader {
            producer_group: "pg".into(),
            topic: "DefaultCluster_REPLY_TOPIC".into(),
            default_topic: "TBW102".into(),
            default_topic_queue_nums: 4,
            queue_id: 0,
            sys_flag: 0,
            born_timestamp: 1,
            flag: 0,
            properties: Some("CORRELATION_ID\u{1}c\u{2}".into()),
            reconsume_times: Some(0),
            unit_mode: false,
            born_host: "127.0.0.1:5000".into(),
            store_host: "127.0.0.1:10911".into(),
            store_timestamp: 2,
        };
        assert_round_trip_and_required(
            &header,
            &[
                "producerGroup",
                "topic",
                "defaultTopic",
                "defaultTopicQueueNums",
                "queueId",
                "sysFlag",
                "bornTimestamp",
                "flag",
                "bornHost",
                "storeHost",
                "storeTimestamp",
            ],
        );
    }
}
