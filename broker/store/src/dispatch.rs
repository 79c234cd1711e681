//! Dispatch ("reput"): what the consume queues and the index need from a commit log record.
//!
//! Consume queues and index files hold nothing that is not in the commit log, so they are always
//! rebuilt from it: at run time by the dispatch thread, after a crash by recovery.

use rmq_protocol::message::hash::tags_code;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use rmq_protocol::message::sysflag;

use crate::consume_queue::CqEntry;

/// The dispatchable facts of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRequest<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub size: i32,
    pub tags_code: i64,
    pub store_timestamp: i64,
    pub sys_flag: i32,
    pub keys: Option<&'a str>,
    pub uniq_key: Option<&'a str>,
    pub properties: &'a [u8],
}

impl<'a> DispatchRequest<'a> {
    pub fn from_record(view: &RecordView<'a>) -> Self {
        let props = view.properties();
        let found = DispatchProperties::find(props);
        DispatchRequest {
            topic: view.topic(),
            queue_id: view.queue_id(),
            queue_offset: view.queue_offset(),
            commit_log_offset: view.physical_offset(),
            size: view.total_size() as i32,
            tags_code: tags_code(found.tags),
            store_timestamp: view.store_timestamp(),
            sys_flag: view.sys_flag(),
            keys: found.keys,
            uniq_key: found.uniq_key,
            properties: props,
        }
    }

    /// For a delayed message waiting in `SCHEDULE_TOPIC_XXXX`: the tag code becomes its delivery
    /// time, as Apache's scheduler expects.
    pub fn with_delay_levels(mut self, levels: &crate::delay_level::DelayLevels) -> Self {
        self.tags_code = levels.schedule_tags_code(
            self.topic,
            self.properties,
            self.store_timestamp,
            self.tags_code,
        );
        self
    }

    /// The record's consume-queue entry.
    pub fn cq_entry(&self) -> CqEntry {
        CqEntry {
            commit_log_offset: self.commit_log_offset,
            size: self.size,
            tags_code: self.tags_code,
        }
    }

    /// Only plain and committed transactional messages are visible in consume queues.
    pub fn goes_to_consume_queue(&self) -> bool {
        matches!(
            sysflag::transaction_type(self.sys_flag),
            sysflag::TRANSACTION_NOT_TYPE | sysflag::TRANSACTION_COMMIT_TYPE
        )
    }

    /// Rolled-back transactional messages are not indexed.
    pub fn goes_to_index(&self) -> bool {
        sysflag::transaction_type(self.sys_flag) != sysflag::TRANSACTION_ROLLBACK_TYPE
    }
}

/// The three properties dispatch reads, found in one pass over the property string (three
/// [`properties::find`] calls were a sixth of a recovery's CPU). Same answers as `find`: the last
/// well-formed occurrence of a name wins, and a value that is not UTF-8 counts as absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DispatchProperties<'a> {
    tags: Option<&'a str>,
    keys: Option<&'a str>,
    uniq_key: Option<&'a str>,
}

impl<'a> DispatchProperties<'a> {
    fn find(raw: &'a [u8]) -> Self {
        let (mut tags, mut keys_value, mut uniq_key): (Option<&[u8]>, _, _) = (None, None, None);
        for segment in raw.split(|b| *b == properties::PROPERTY_SEPARATOR) {
            // The shape `properties::iter` accepts: a non-empty name, the separator, a non-empty
            // value.
            if segment.len() < 3 {
                continue;
            }
            let Some(sep) = segment
                .iter()
                .position(|b| *b == properties::NAME_VALUE_SEPARATOR)
            else {
                continue;
            };
            if sep == 0 || sep >= segment.len() - 1 {
                continue;
            }
            let (name, value) = (&segment[..sep], &segment[sep + 1..]);
            if name == keys::TAGS.as_bytes() {
                tags = Some(value);
            } else if name == keys::KEYS.as_bytes() {
                keys_value = Some(value);
            } else if name == keys::UNIQ_KEY.as_bytes() {
                uniq_key = Some(value);
            }
        }
        let utf8 = |v: Option<&'a [u8]>| v.and_then(|v| std::str::from_utf8(v).ok());
        DispatchProperties {
            tags: utf8(tags),
            keys: utf8(keys_value),
            uniq_key: utf8(uniq_key),
        }
    }
}

/// A message became visible in a consume queue (for long-polling pulls).
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    /// The queue's max offset after this message.
    pub max_offset: u64,
    pub tags_code: i64,
    pub store_timestamp: i64,
    pub properties: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_protocol::message::record::{RecordFields, encode};

    proptest::proptest! {
        #[test]
        fn one_pass_property_scan_agrees_with_find(
            parts in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["TAGS", "KEYS", "UNIQ_KEY", "X", "", "TAG"]),
                    proptest::sample::select(vec!["\u{1}", "\u{2}", "", "\u{1}\u{1}"]),
                    proptest::collection::vec(
                        proptest::sample::select(vec![b'a', b' ', 1u8, 2, 0xff, 0xc3, 0xa9]),
                        0..6,
                    ),
                    proptest::sample::select(vec!["\u{2}", "", "\u{1}"]),
                ),
                0..6,
            )
        ) {
            let mut raw = Vec::new();
            for (name, sep, value, end) in &parts {
                raw.extend_from_slice(name.as_bytes());
                raw.extend_from_slice(sep.as_bytes());
                raw.extend_from_slice(value);
                raw.extend_from_slice(end.as_bytes());
            }
            let found = DispatchProperties::find(&raw);
            proptest::prop_assert_eq!(found.tags, properties::find(&raw, keys::TAGS));
            proptest::prop_assert_eq!(found.keys, properties::find(&raw, keys::KEYS));
            proptest::prop_assert_eq!(found.uniq_key, properties::find(&raw, keys::UNIQ_KEY));
        }
    }

    #[test]
    fn dispatch_facts_come_from_the_record_properties() {
        let raw = encode(&RecordFields {
            queue_id: 2,
            flag: 0,
            queue_offset: 9,
            physical_offset: 4096,
            sys_flag: sysflag::TRANSACTION_PREPARED_TYPE,
            born_timestamp: 1,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 77,
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: b"b",
            topic: "T",
            properties: b"TAGS\x01TagA\x02KEYS\x01k1 k2\x02UNIQ_KEY\x01U1\x02",
        })
        .unwrap();
        let view = RecordView::decode(&raw).unwrap();
        let d = DispatchRequest::from_record(&view);
        assert_eq!(d.tags_code, 2_598_919);
        assert_eq!(d.keys, Some("k1 k2"));
        assert_eq!(d.uniq_key, Some("U1"));
        assert_eq!(d.size as usize, raw.len());
        assert!(!d.goes_to_consume_queue(), "half messages stay invisible");
        assert!(d.goes_to_index());
    }
}
