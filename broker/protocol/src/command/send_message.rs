//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
//!
//! Java clients send V2 (one-letter keys, cheaper to parse) by default and always for batches;
//! the broker works on V1. [`SendMessageRequestHeader::from_request`] reads either by code.

use super::{CommandHeader, ReadHeaderError, command_header};
use crate::code::RequestCode;
use crate::remoting_command::ExtFields;

/// Ext field the broker adds to every send response: its region (`regionId`).
pub const MSG_REGION: &str = "MSG_REGION";
/// Ext field the broker adds to every send response: whether tracing is on.
pub const TRACE_ON: &str = "TRACE_ON";

command_header! {
    /// The send request with Java field names (V1).
    pub struct SendMessageRequestHeader {
        producer_group: String => "producerGroup",
        topic: String => "topic",
        /// Normally `TBW102`: the topic whose config a missing topic is created from.
        default_topic: String => "defaultTopic",
        default_topic_queue_nums: i32 => "defaultTopicQueueNums",
        /// Negative: the broker picks a writable queue.
        queue_id: i32 => "queueId",
        sys_flag: i32 => "sysFlag",
        born_timestamp: i64 => "bornTimestamp",
        /// The user flag, stored verbatim.
        flag: i32 => "flag",
        /// The properties string (see the `message` module).
        properties: Option<String> => "properties",
        reconsume_times: Option<i32> => "reconsumeTimes",
        unit_mode: Option<bool> => "unitMode",
        batch: Option<bool> => "batch",
        max_reconsume_times: Option<i32> => "maxReconsumeTimes",
        /// 5.x: the RPC field `bname` of the V1 header.
        broker_name: Option<String> => "bname",
    }
}

command_header! {
    /// The send request with one-letter keys (V2), as Java clients send it.
    pub struct SendMessageRequestHeaderV2 {
        producer_group: String => "a",
        topic: String => "b",
        default_topic: String => "c",
        default_topic_queue_nums: i32 => "d",
        queue_id: i32 => "e",
        sys_flag: i32 => "f",
        born_timestamp: i64 => "g",
        flag: i32 => "h",
        properties: Option<String> => "i",
        reconsume_times: Option<i32> => "j",
        unit_mode: Option<bool> => "k",
        max_reconsume_times: Option<i32> => "l",
        batch: Option<bool> => "m",
        broker_name: Option<String> => "n",
    }
}

command_header! {
    /// The send response. All three required fields must be sent: Java unboxes them.
    pub struct SendMessageResponseHeader {
        /// Offset message id; comma-joined for a batch.
        msg_id: String => "msgId",
        queue_id: i32 => "queueId",
        /// Consume-queue offset of the (first) message.
        queue_offset: i64 => "queueOffset",
        transaction_id: Option<String> => "transactionId",
        batch_uniq_id: Option<String> => "batchUniqId",
        recall_handle: Option<String> => "recallHandle",
    }
}

impl SendMessageRequestHeader {
    /// Reads the header of a send request as the broker does: V2 keys for SEND_MESSAGE_V2 and
    /// SEND_BATCH_MESSAGE, Java names otherwise.
    pub fn from_request(
        code: i32,
        fields: &ExtFields,
    ) -> Result<SendMessageRequestHeader, ReadHeaderError> {
        let v2 = code == RequestCode::SendMessageV2.code()
            || code == RequestCode::SendBatchMessage.code()
            || code == RequestCode::SendReplyMessageV2.code();
        if v2 {
            SendMessageRequestHeaderV2::from_ext_fields(fields).map(SendMessageRequestHeader::from)
        } else {
            SendMessageRequestHeader::from_ext_fields(fields)
        }
    }
}

impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    fn from(v2: SendMessageRequestHeaderV2) -> Self {
        SendMessageRequestHeader {
            producer_group: v2.producer_group,
            topic: v2.topic,
            default_topic: v2.default_topic,
            default_topic_queue_nums: v2.default_topic_queue_nums,
            queue_id: v2.queue_id,
            sys_flag: v2.sys_flag,
            born_timestamp: v2.born_timestamp,
            flag: v2.flag,
            properties: v2.properties,
            reconsume_times: v2.reconsume_times,
            unit_mode: v2.unit_mode,
            batch: v2.batch,
            max_reconsume_times: v2.max_reconsume_times,
            broker_name: v2.broker_name,
        }
    }
}

impl From<SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    fn from(v1: SendMessageRequestHeader) -> Self {
        SendMessageRequestHeaderV2 {
            producer_group: v1.producer_group,
            topic: v1.topic,
            default_topic: v1.default_topic,
            default_topic_queue_nums: v1.default_topic_queue_nums,
            queue_id: v1.queue_id,
            sys_flag: v1.sys_flag,
            born_timestamp: v1.born_timestamp,
            flag: v1.flag,
            properties: v1.properties,
            reconsume_times: v1.reconsume_times,
            unit_mode: v1.unit_mode,
            max_reconsume_times: v1.max_reconsume_times,
            batch: v1.batch,
            broker_name: v1.broker_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_round_trip_and_required, fields};
    use super::*;

    fn v1() -> SendMessageRequestHeader {
        SendMessageRequestHeader {
            producer_group: "pg".into(),
            topic: "TopicTest".into(),
            default_topic: "TBW102".into(),
            default_topic_queue_nums: 4,
            queue_id: 2,
            sys_flag: 0,
            born_timestamp: 1_700_000_000_000,
            flag: 0,
            properties: Some("TAGS\u{1}TagA\u{2}".into()),
            reconsume_times: Some(0),
            unit_mode: Some(false),
            batch: Some(false),
            max_reconsume_times: Some(16),
            broker_name: Some("broker-a".into()),
        }
    }

    const V1_REQUIRED: &[&str] = &[
        "producerGroup",
        "topic",
        "defaultTopic",
        "defaultTopicQueueNums",
        "queueId",
        "sysFlag",
        "bornTimestamp",
        "flag",
    ];

    #[test]
    fn v1_round_trips_and_requires_its_required_fields() {
        assert_round_trip_and_required(&v1(), V1_REQUIRED);
    }

    #[test]
    fn v2_round_trips_and_requires_its_required_fields() {
        let v2 = SendMessageRequestHeaderV2::from(v1());
        assert_round_trip_and_required(&v2, &["a", "b", "c", "d", "e", "f", "g", "h"]);
    }

    #[test]
    fn v2_uses_one_letter_keys_for_every_field() {
        let keys: Vec<String> = SendMessageRequestHeaderV2::from(v1())
            .to_ext_fields()
            .keys()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            keys,
            [
                "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"
            ]
        );
    }

    #[test]
    fn v1_and_v2_convert_without_loss() {
        let v2 = SendMessageRequestHeaderV2::from(v1());
        assert_eq!(v2.max_reconsume_times, Some(16));
        assert_eq!(SendMessageRequestHeader::from(v2), v1());
    }

    #[test]
    fn from_request_reads_v2_keys_for_v2_batch_and_reply_v2_codes_and_java_names_otherwise() {
        let v2_fields = SendMessageRequestHeaderV2::from(v1()).to_ext_fields();
        for code in [310, 320, 325] {
            assert_eq!(
                SendMessageRequestHeader::from_request(code, &v2_fields).unwrap(),
                v1()
            );
        }
        assert_eq!(
            SendMessageRequestHeader::from_request(10, &v1().to_ext_fields()).unwrap(),
            v1()
        );
        assert_eq!(
            SendMessageRequestHeader::from_request(10, &v2_fields),
            Err(ReadHeaderError::MissingField {
                field: "producerGroup"
            })
        );
    }

    #[test]
    fn a_java_v2_header_decodes() {
        let header = SendMessageRequestHeader::from_request(
            310,
            &fields(&[
                ("a", "please_rename_unique_group_name"),
                ("b", "TopicTest"),
                ("c", "TBW102"),
                ("d", "4"),
                ("e", "3"),
                ("f", "0"),
                ("g", "1700000000123"),
                ("h", "0"),
                ("i", "KEYS\u{1}k1\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}"),
                ("j", "0"),
                ("k", "false"),
                ("m", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(header.topic, "TopicTest");
        assert_eq!(header.queue_id, 3);
        assert_eq!(header.born_timestamp, 1_700_000_000_123);
        assert_eq!(header.batch, Some(false));
        assert_eq!(header.max_reconsume_times, None);
    }

    #[test]
    fn response_round_trips_and_always_writes_its_required_fields() {
        let response = SendMessageResponseHeader {
            msg_id: "0A00000100002A9F0000000000000000".into(),
            queue_id: 1,
            queue_offset: 0,
            transaction_id: None,
            batch_uniq_id: None,
            recall_handle: None,
        };
        assert_round_trip_and_required(&response, &["msgId", "queueId", "queueOffset"]);
        let with_optional = SendMessageResponseHeader {
            transaction_id: Some("tx".into()),
            ..response
        };
        assert_eq!(&with_optional.to_ext_fields()["transactionId"], "tx");
    }
}
