//! Dispatch ("reput"): what the consume queues and the index need from a commit log record.
//!
//! Consume queues and index files hold nothing that is not in the commit log, so they are always
//! rebuilt from it: at run time by the dispatch thread, after a crash by recovery.

use rmq_protocol::message::hash::tags_code;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use rmq_protocol::message::sysflag;

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
        DispatchRequest {
            topic: view.topic(),
            queue_id: view.queue_id(),
            queue_offset: view.queue_offset(),
            commit_log_offset: view.physical_offset(),
            size: view.total_size() as i32,
            tags_code: tags_code(properties::find(props, keys::TAGS)),
            store_timestamp: view.store_timestamp(),
            sys_flag: view.sys_flag(),
            keys: properties::find(props, keys::KEYS),
            uniq_key: properties::find(props, keys::UNIQ_KEY),
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
