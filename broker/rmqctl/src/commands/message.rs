//! A stored message as the message queries show it, decoded from the raw record that
//! VIEW_MESSAGE_BY_ID and QUERY_MESSAGE answer with.

use std::collections::BTreeMap;

use rmq_protocol::message::msg_id::offset_msg_id;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::{DecodeRecordError, RecordView, decode_all};
use rmq_protocol::message::sysflag;
use serde::Serialize;

use crate::time::format_millis;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// Store host and commit log offset in hex: what `queryMsgById` takes.
    pub offset_msg_id: String,
    /// The producer's unique id (`UNIQ_KEY`), if it set one.
    pub msg_id: Option<String>,
    pub topic: String,
    pub tags: Option<String>,
    /// Space-separated keys.
    pub keys: Option<String>,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub reconsume_times: i32,
    pub born_timestamp: i64,
    pub store_timestamp: i64,
    pub born_host: String,
    pub store_host: String,
    pub sys_flag: i32,
    pub properties: BTreeMap<String, String>,
    pub body_length: usize,
    pub body_compressed: bool,
    /// The body as text, when it is uncompressed UTF-8.
    pub body: Option<String>,
}

impl MessageView {
    /// The message of a stored record.
    pub fn from_record(record: &RecordView<'_>) -> MessageView {
        let props: BTreeMap<String, String> = properties::decode(record.properties())
            .into_iter()
            .collect();
        let compressed = record.sys_flag() & sysflag::COMPRESSED != 0;
        let body = if compressed {
            None
        } else {
            std::str::from_utf8(record.body()).ok().map(str::to_owned)
        };
        MessageView {
            offset_msg_id: offset_msg_id(record.store_host(), record.physical_offset()),
            msg_id: props.get(keys::UNIQ_KEY).cloned(),
            topic: record.topic().to_owned(),
            tags: props.get(keys::TAGS).cloned(),
            keys: props.get(keys::KEYS).cloned(),
            queue_id: record.queue_id(),
            queue_offset: record.queue_offset(),
            commit_log_offset: record.physical_offset(),
            reconsume_times: record.reconsume_times(),
            born_timestamp: record.born_timestamp(),
            store_timestamp: record.store_timestamp(),
            born_host: record.born_host().to_string(),
            store_host: record.store_host().to_string(),
            sys_flag: record.sys_flag(),
            properties: props,
            body_length: record.body().len(),
            body_compressed: compressed,
            body,
        }
    }

    /// Whether `key` is one of the message's keys (KEYS is space-separated).
    pub fn has_key(&self, key: &str) -> bool {
        self.keys
            .as_deref()
            .is_some_and(|keys| keys.split(' ').any(|k| k == key))
    }
}

/// Every message of a body of concatenated records (QUERY_MESSAGE, VIEW_MESSAGE_BY_ID).
pub fn decode_messages(body: &[u8]) -> Result<Vec<MessageView>, DecodeRecordError> {
    decode_all(body)
        .map(|record| record.map(|record| MessageView::from_record(&record)))
        .collect()
}

/// `Label:` and value lines, as mqadmin's `queryMsgById` prints a message.
pub fn render_message(message: &MessageView) -> String {
    let body = match (&message.body, message.body_compressed) {
        (Some(text), _) => text.clone(),
        (None, true) => format!("<{} bytes, compressed>", message.body_length),
        (None, false) => format!("<{} bytes, not UTF-8>", message.body_length),
    };
    let properties = message
        .properties
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let lines: [(&str, String); 17] = [
        ("OffsetID:", message.offset_msg_id.clone()),
        (
            "Msg ID:",
            message.msg_id.clone().unwrap_or_else(|| "-".into()),
        ),
        ("Topic:", message.topic.clone()),
        (
            "Tags:",
            format!("[{}]", message.tags.as_deref().unwrap_or("")),
        ),
        (
            "Keys:",
            format!("[{}]", message.keys.as_deref().unwrap_or("")),
        ),
        ("Queue ID:", message.queue_id.to_string()),
        ("Queue Offset:", message.queue_offset.to_string()),
        ("CommitLog Offset:", message.commit_log_offset.to_string()),
        ("Reconsume Times:", message.reconsume_times.to_string()),
        ("Born Timestamp:", format_millis(message.born_timestamp)),
        ("Store Timestamp:", format_millis(message.store_timestamp)),
        ("Born Host:", message.born_host.clone()),
        ("Store Host:", message.store_host.clone()),
        ("System Flag:", message.sys_flag.to_string()),
        ("Properties:", properties),
        ("Body Length:", message.body_length.to_string()),
        ("Body:", body),
    ];
    lines
        .iter()
        .map(|(label, value)| format!("{label:<20} {value}").trim_end().to_owned() + "\n")
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use rmq_protocol::message::record::{RecordFields, encode};

    use super::*;

    /// A record as a broker at 10.0.0.1:10911 would store it.
    pub fn record(body: &[u8], sys_flag: i32, props: &[(&str, &str)]) -> Vec<u8> {
        let properties = properties::encode(props.iter().copied());
        encode(&RecordFields {
            queue_id: 1,
            flag: 0,
            queue_offset: 5,
            physical_offset: 1024,
            sys_flag,
            born_timestamp: 1_700_000_000_000,
            born_host: "192.168.0.10:54321".parse().unwrap(),
            store_timestamp: 1_700_000_000_123,
            store_host: "10.0.0.1:10911".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body,
            topic: "TopicTest",
            properties: &properties,
        })
        .unwrap()
    }

    fn view(bytes: &[u8]) -> MessageView {
        MessageView::from_record(&RecordView::decode(bytes).unwrap())
    }

    #[test]
    fn a_text_message_prints_every_field_and_its_body() {
        let bytes = record(
            b"Hello RocketMQ",
            0,
            &[
                ("TAGS", "TagA"),
                ("KEYS", "order-1 order-2"),
                ("UNIQ_KEY", "7F00000100002A9F0000000000000001"),
            ],
        );
        assert_eq!(
            render_message(&view(&bytes)),
            "\
OffsetID:            0A00000100002A9F0000000000000400
Msg ID:              7F00000100002A9F0000000000000001
Topic:               TopicTest
Tags:                [TagA]
Keys:                [order-1 order-2]
Queue ID:            1
Queue Offset:        5
CommitLog Offset:    1024
Reconsume Times:     0
Born Timestamp:      2023-11-14T22:13:20.000Z
Store Timestamp:     2023-11-14T22:13:20.123Z
Born Host:           192.168.0.10:54321
Store Host:          10.0.0.1:10911
System Flag:         0
Properties:          KEYS=order-1 order-2, TAGS=TagA, UNIQ_KEY=7F00000100002A9F0000000000000001
Body Length:         14
Body:                Hello RocketMQ
"
        );
    }

    #[test]
    fn binary_and_compressed_bodies_are_shown_by_length() {
        let binary = view(&record(&[0xff, 0xfe, 0x00], 0, &[]));
        assert!(render_message(&binary).ends_with("Body:                <3 bytes, not UTF-8>\n"));
        assert_eq!(binary.body, None);
        assert_eq!(binary.msg_id, None);
        assert!(render_message(&binary).contains("Tags:                []\n"));
        let compressed = view(&record(b"xyz", sysflag::COMPRESSED, &[]));
        assert!(
            render_message(&compressed).ends_with("Body:                <3 bytes, compressed>\n")
        );
        assert!(compressed.body_compressed);
    }

    #[test]
    fn concatenated_records_decode_in_order_and_a_torn_one_is_an_error() {
        let mut body = record(b"one", 0, &[]);
        body.extend(record(b"two", 0, &[]));
        let messages = decode_messages(&body).unwrap();
        let bodies: Vec<_> = messages.iter().map(|m| m.body.as_deref()).collect();
        assert_eq!(bodies, [Some("one"), Some("two")]);
        assert!(decode_messages(&[]).unwrap().is_empty());
        body.truncate(body.len() - 1);
        assert!(decode_messages(&body).is_err());
    }

    #[test]
    fn keys_match_whole_space_separated_words_only() {
        let message = view(&record(b"", 0, &[("KEYS", "order-1 order-22")]));
        assert!(message.has_key("order-1"));
        assert!(message.has_key("order-22"));
        assert!(!message.has_key("order-2"));
        assert!(!view(&record(b"", 0, &[])).has_key("order-1"));
    }

    #[test]
    fn json_has_raw_numbers_and_the_properties_as_an_object() {
        let message = view(&record(b"hi", 0, &[("TAGS", "A")]));
        assert_eq!(
            serde_json::to_string(&message).unwrap(),
            r#"{"offsetMsgId":"0A00000100002A9F0000000000000400","msgId":null,"topic":"TopicTest","tags":"A","keys":null,"queueId":1,"queueOffset":5,"commitLogOffset":1024,"reconsumeTimes":0,"bornTimestamp":1700000000000,"storeTimestamp":1700000000123,"bornHost":"192.168.0.10:54321","storeHost":"10.0.0.1:10911","sysFlag":0,"properties":{"TAGS":"A"},"bodyLength":2,"bodyCompressed":false,"body":"hi"}"#
        );
    }
}
