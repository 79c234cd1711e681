//! What the producer sends: bodies stamped with their send time, properties as a Java producer
//! sets them, and the SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE requests.
//!
//! A body of at least [`STAMP_LEN`] bytes starts with a stamp; the rest is filler:
//!
//! ```text
//! +-----------+----------------------+----------------------+----------------+
//! | "RMQB"    | sent at, µs since    | sequence number      | filler 'x'...  |
//! | 4 bytes   | the epoch, u64 BE    | u64 BE               | size - 20      |
//! +-----------+----------------------+----------------------+----------------+
//! ```
//!
//! The stamp gives the consumer microsecond produce→consume latency; shorter bodies carry no
//! stamp and the consumer falls back to the stored `bornTimestamp` (milliseconds), which the
//! broker keeps from the send header.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use rmq_protocol::batch;
use rmq_protocol::code::RequestCode;
use rmq_protocol::command::send_message::SendMessageRequestHeaderV2;
use rmq_protocol::decimal::decimal;
use rmq_protocol::message::msg_id::write_hex;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::{RemotingCommand, SerializeType};

/// First bytes of a stamped body.
pub const STAMP_MAGIC: [u8; 4] = *b"RMQB";
/// Bytes of the stamp.
pub const STAMP_LEN: usize = 20;
/// Per-message bytes of a batch besides the body: the fixed fields plus generous room for the
/// properties this producer sets; used to refuse batches the broker would refuse.
pub const BATCH_OVERHEAD_ESTIMATE: usize = batch::MESSAGE_OVERHEAD + 128;
/// The topic whose config auto-created topics copy.
pub const AUTO_CREATE_TOPIC: &str = "TBW102";
/// The tag of `--tags`.
pub const TAG: &str = "TagA";

/// The stamp read back from a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sent_us: u64,
    pub seq: u64,
}

/// Microseconds since the epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
        })
}

/// A body of `size` bytes, stamped when it has room for the stamp.
pub fn body(size: usize, sent_us: u64, seq: u64) -> Bytes {
    let mut body = Vec::with_capacity(size);
    write_body(&mut body, size, sent_us, seq);
    Bytes::from(body)
}

/// Appends a body of `size` bytes to `out`, stamped when it has room for the stamp.
pub fn write_body(out: &mut Vec<u8>, size: usize, sent_us: u64, seq: u64) {
    let start = out.len();
    if size >= STAMP_LEN {
        out.extend_from_slice(&STAMP_MAGIC);
        out.extend_from_slice(&sent_us.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
    }
    out.resize(start + size, b'x');
}

/// The stamp of a body, if it has one.
pub fn read_stamp(body: &[u8]) -> Option<Stamp> {
    let stamp = body.get(..STAMP_LEN)?;
    if stamp[..4] != STAMP_MAGIC {
        return None;
    }
    let sent_us = u64::from_be_bytes(stamp[4..12].try_into().ok()?);
    let seq = u64::from_be_bytes(stamp[12..20].try_into().ok()?);
    Some(Stamp { sent_us, seq })
}

/// Builds messages: one per sequence number, the same for every sender of a run.
#[derive(Debug)]
pub struct MessageFactory {
    size: usize,
    keys: bool,
    tags: bool,
    group: String,
    serialize: SerializeType,
    /// Prefix of `UNIQ_KEY`s, written as hex: pid and start time, so runs do not collide.
    uniq_prefix: [u8; 8],
    next_seq: AtomicU64,
}

/// Where one send goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub topic: String,
    pub broker_name: String,
    pub addr: String,
    pub queue_id: i32,
    /// `defaultTopicQueueNums` of the header: queues of the topic if the broker auto-creates it.
    pub default_queue_nums: i32,
}

impl MessageFactory {
    pub fn new(size: usize, keys: bool, tags: bool, group: String) -> MessageFactory {
        let start = now_us() / 1000;
        MessageFactory {
            size,
            keys,
            tags,
            group,
            serialize: SerializeType::Json,
            uniq_prefix: ((u64::from(std::process::id()) << 32) | (start & 0xFFFF_FFFF))
                .to_be_bytes(),
            next_seq: AtomicU64::new(0),
        }
    }

    /// Serializes request headers as `serialize` (JSON by default).
    pub fn with_serialize(mut self, serialize: SerializeType) -> MessageFactory {
        self.serialize = serialize;
        self
    }

    /// Body bytes of one message.
    pub fn size(&self) -> usize {
        self.size
    }

    /// One SEND_MESSAGE_V2 request, stamped now.
    pub fn single(&self, target: &Target) -> RemotingCommand {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let now = now_us();
        let props = self.properties(seq);
        let header = self.header(target, now, Some(props), false);
        let mut request = RemotingCommand::request_with_header(RequestCode::SendMessageV2, &header)
            .with_body(body(self.size, now, seq));
        request.serialize_type = self.serialize;
        request
    }

    /// One SEND_BATCH_MESSAGE request of `count` messages, stamped now. Each message is
    /// written straight into the request body from two reused buffers.
    pub fn batch(&self, target: &Target, count: usize) -> RemotingCommand {
        let first = self.next_seq.fetch_add(count as u64, Ordering::Relaxed);
        let now = now_us();
        let mut bytes = BytesMut::with_capacity(count * (self.size + BATCH_OVERHEAD_ESTIMATE));
        let mut body = Vec::with_capacity(self.size);
        let mut props = Vec::with_capacity(PROPERTIES_CAPACITY);
        for (index, seq) in (first..first + count as u64).enumerate() {
            body.clear();
            write_body(&mut body, self.size, now, seq);
            props.clear();
            self.write_properties(&mut props, seq);
            // The sizes were checked against the broker's limit before the run (`ArgError`),
            // and the properties are far below i16::MAX; an error here is a bug, so send an
            // empty batch and let the broker's MESSAGE_ILLEGAL show it in the error counts.
            if batch::encode_one(index, 0, &body, &props, &mut bytes).is_err() {
                bytes.clear();
                break;
            }
        }
        // Java's `MessageBatch` carries the batch's own WAIT property in the header.
        let mut props = Vec::new();
        properties::push_property(&mut props, keys::WAIT, "true");
        let header = self.header(target, now, Some(ascii_string(props)), true);
        let mut request =
            RemotingCommand::request_with_header(RequestCode::SendBatchMessage, &header)
                .with_body(bytes.freeze());
        request.serialize_type = self.serialize;
        request
    }

    fn header(
        &self,
        target: &Target,
        now_us: u64,
        properties: Option<String>,
        batch: bool,
    ) -> SendMessageRequestHeaderV2 {
        SendMessageRequestHeaderV2 {
            producer_group: self.group.clone(),
            topic: target.topic.clone(),
            default_topic: AUTO_CREATE_TOPIC.to_owned(),
            default_topic_queue_nums: target.default_queue_nums,
            queue_id: target.queue_id,
            sys_flag: 0,
            born_timestamp: i64::try_from(now_us / 1000).unwrap_or(i64::MAX),
            flag: 0,
            properties,
            reconsume_times: Some(0),
            unit_mode: Some(false),
            max_reconsume_times: None,
            batch: Some(batch),
            broker_name: None,
        }
    }

    /// The properties a Java producer sets: `UNIQ_KEY` always (the client id), `WAIT=true`
    /// (wait for the store under SYNC_FLUSH), and `TAGS`/`KEYS` when asked for.
    pub fn properties(&self, seq: u64) -> String {
        let mut props = Vec::with_capacity(PROPERTIES_CAPACITY);
        self.write_properties(&mut props, seq);
        ascii_string(props)
    }

    /// Appends [`MessageFactory::properties`] to `out`, without formatting machinery: the
    /// load generator shares the broker's cores, so its cost per message is kept small.
    fn write_properties(&self, out: &mut Vec<u8>, seq: u64) {
        if self.tags {
            properties::push_property(out, keys::TAGS, TAG);
        }
        if self.keys {
            let mut digits = [0; 20];
            let seq = decimal(i64::try_from(seq).unwrap_or(i64::MAX), &mut digits);
            let mut key = [0u8; 26];
            key[..6].copy_from_slice(b"bench-");
            key[6..6 + seq.len()].copy_from_slice(seq.as_bytes());
            properties::push_property(out, keys::KEYS, ascii(&key[..6 + seq.len()]));
        }
        properties::push_property(out, keys::WAIT, "true");
        let mut uniq = [0u8; 32];
        write_hex(&self.uniq_prefix, &mut uniq[..16]);
        write_hex(&seq.to_be_bytes(), &mut uniq[16..]);
        properties::push_property(out, keys::UNIQ_KEY, ascii(&uniq));
    }
}

/// Room for the properties this producer sets, so building them does not reallocate.
const PROPERTIES_CAPACITY: usize = 96;

/// Bytes this module wrote from ASCII digits and letters.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// A property string this module built; every piece is ASCII or a separator byte.
fn ascii_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rmq_protocol::command::send_message::SendMessageRequestHeader;

    use super::*;

    fn target() -> Target {
        Target {
            topic: "T".into(),
            broker_name: "broker-a".into(),
            addr: "127.0.0.1:10911".into(),
            queue_id: 3,
            default_queue_nums: 8,
        }
    }

    #[test]
    fn a_stamped_body_reads_back_its_time_and_sequence() {
        let body = body(128, 1_700_000_000_123_456, 42);
        assert_eq!(body.len(), 128);
        assert_eq!(
            read_stamp(&body),
            Some(Stamp {
                sent_us: 1_700_000_000_123_456,
                seq: 42
            })
        );
        assert!(body[STAMP_LEN..].iter().all(|b| *b == b'x'));
    }

    #[test]
    fn bodies_too_short_for_a_stamp_are_filler_and_read_as_unstamped() {
        for size in [1, 8, STAMP_LEN - 1] {
            let body = body(size, 1, 2);
            assert_eq!(body.len(), size);
            assert_eq!(read_stamp(&body), None);
        }
        assert_eq!(read_stamp(&body(STAMP_LEN, 7, 8)).unwrap().seq, 8);
    }

    #[test]
    fn unique_keys_and_message_keys_are_spelled_as_format_would() {
        for v in [0, 9, 10, 0xABC, 1_234_567_890, u64::MAX] {
            let mut hex = [0u8; 16];
            write_hex(&u64::to_be_bytes(v), &mut hex);
            assert_eq!(hex, format!("{v:016X}").as_bytes());
        }
        let factory = MessageFactory::new(64, true, false, "pg".into());
        let props = factory.properties(1_234_567);
        assert_eq!(
            properties::find(props.as_bytes(), keys::KEYS),
            Some("bench-1234567")
        );
        let uniq = properties::find(props.as_bytes(), keys::UNIQ_KEY).unwrap();
        assert!(uniq.ends_with("000000000012D687"), "{uniq}");
        assert!(
            uniq.starts_with(&format!("{:08X}", std::process::id())),
            "{uniq}"
        );
    }

    #[test]
    fn foreign_bodies_are_not_mistaken_for_stamps() {
        assert_eq!(read_stamp(b"Hello RocketMQ, this is a body"), None);
    }

    #[test]
    fn a_single_send_is_a_v2_request_with_the_targets_queue_and_java_properties() {
        let factory = MessageFactory::new(64, true, true, "pg".into());
        let request = factory.single(&target());
        assert_eq!(request.code, RequestCode::SendMessageV2.code());
        assert_eq!(request.serialize_type, SerializeType::Json);
        let header =
            SendMessageRequestHeader::from_request(request.code, &request.ext_fields).unwrap();
        assert_eq!(header.topic, "T");
        assert_eq!(header.queue_id, 3);
        assert_eq!(header.default_topic, "TBW102");
        assert_eq!(header.default_topic_queue_nums, 8);
        let props = header.properties.unwrap();
        assert_eq!(properties::find(props.as_bytes(), keys::TAGS), Some("TagA"));
        assert_eq!(
            properties::find(props.as_bytes(), keys::KEYS),
            Some("bench-0")
        );
        assert_eq!(properties::find(props.as_bytes(), keys::WAIT), Some("true"));
        assert_eq!(
            properties::find(props.as_bytes(), keys::UNIQ_KEY)
                .unwrap()
                .len(),
            32
        );
        let stamp = read_stamp(&request.body).unwrap();
        assert_eq!(stamp.seq, 0);
        assert_eq!(header.born_timestamp, (stamp.sent_us / 1000) as i64);
        // The next message gets the next sequence number and its own unique key.
        let next = factory.single(&target());
        assert_eq!(read_stamp(&next.body).unwrap().seq, 1);
        assert_ne!(next.ext_fields.get("i"), request.ext_fields.get("i"));
    }

    #[test]
    fn the_binary_header_is_used_when_asked_for() {
        let factory = MessageFactory::new(64, false, false, "pg".into())
            .with_serialize(SerializeType::RocketMq);
        assert_eq!(
            factory.single(&target()).serialize_type,
            SerializeType::RocketMq
        );
        assert_eq!(
            factory.batch(&target(), 2).serialize_type,
            SerializeType::RocketMq
        );
    }

    #[test]
    fn keys_and_tags_are_left_out_unless_asked_for() {
        let factory = MessageFactory::new(64, false, false, "pg".into());
        let props = factory.properties(5);
        assert_eq!(properties::find(props.as_bytes(), keys::TAGS), None);
        assert_eq!(properties::find(props.as_bytes(), keys::KEYS), None);
    }

    #[test]
    fn a_batch_request_holds_count_stamped_messages_with_their_own_properties() {
        let factory = MessageFactory::new(128, true, false, "pg".into());
        let request = factory.batch(&target(), 32);
        assert_eq!(request.code, RequestCode::SendBatchMessage.code());
        let header =
            SendMessageRequestHeader::from_request(request.code, &request.ext_fields).unwrap();
        assert_eq!(header.batch, Some(true));
        let messages = batch::decode(&request.body).unwrap();
        assert_eq!(messages.len(), 32);
        for (i, message) in messages.iter().enumerate() {
            assert_eq!(message.body.len(), 128);
            assert_eq!(read_stamp(&message.body).unwrap().seq, i as u64);
            let key = format!("bench-{i}");
            assert_eq!(
                properties::find(&message.properties, keys::KEYS),
                Some(key.as_str())
            );
        }
        assert!(messages.len() * (128 + BATCH_OVERHEAD_ESTIMATE) >= request.body.len());
    }
}
