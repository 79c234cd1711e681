//! Transactional messages (Apache 4.9 `TransactionalMessageBridge`, `TransactionalMessageServiceImpl`,
//! `EndTransactionProcessor`).
//!
//! | module | what |
//! |---|---|
//! | this file | half messages, op records, reading a half message back |
//! | [`check`] | the check-back pass: which half messages to ask their producer about, when to give up |
//!
//! ```text
//! producer ── SEND (TRAN_MSG=true) ──► RMQ_SYS_TRANS_HALF_TOPIC/0   props + REAL_TOPIC, REAL_QID;
//!                                                                    sysFlag tx bits reset to NOT
//! producer ── END_TRANSACTION COMMIT ──► real topic/queue (sysFlag COMMIT, preparedTransactionOffset)
//!                                     └► RMQ_SYS_TRANS_OP_HALF_TOPIC/0  tag "d", body = half queue offset
//! producer ── END_TRANSACTION ROLLBACK ─► op record only
//! broker  ── CHECK_TRANSACTION_STATE ──► a producer of PGROUP, for half messages without an op
//!            record older than transactionTimeOut, every transactionCheckInterval, at most
//!            transactionCheckMax times; then the half message moves to TRANS_CHECK_MAX_TIME_TOPIC
//! ```
//!
//! Everything lives in the commit log and consume queues, and the check progress is the consumer
//! offset of the system group `CID_RMQ_SYS_TRANS` on the half and op queues, so all of it
//! survives a restart.

pub mod check;

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

use rmq_protocol::body::perm;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use rmq_store::error::PutError;
use rmq_store::metadata::TopicConfig;
use rmq_store::{MessageStore, PutMessage, PutResult};
use tracing::warn;

use crate::topics::{TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC, Topics};

/// The system group whose offsets record the check progress.
pub const CHECK_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// Tag of op records ("remove").
pub const OP_TAG: &str = "d";
/// The half queue every half message goes to.
pub const HALF_QUEUE_ID: i32 = 0;

/// Creates a 1-queue system topic of the transaction machinery if missing.
pub fn ensure_topic(topics: &Topics, name: &str) {
    if topics.get(name).is_some() {
        return;
    }
    let config = TopicConfig {
        topic_name: name.to_owned(),
        read_queue_nums: 1,
        write_queue_nums: 1,
        perm: perm::READ | perm::WRITE,
        ..TopicConfig::default()
    };
    if let Err(error) = topics.upsert(config) {
        warn!(topic = %name, %error, "transaction system topic could not be persisted");
    }
}

/// The record at commit-log `offset` if it is a half message.
pub fn read_half(store: &MessageStore, offset: i64) -> Option<bytes::Bytes> {
    let raw = store.read_record(u64::try_from(offset).ok()?)?;
    let is_half = RecordView::decode(&raw).is_ok_and(|view| view.topic() == TRANS_HALF_TOPIC);
    is_half.then_some(raw)
}

/// Writes the op record marking the half message at `half_queue_offset` as resolved, born at
/// `now_ms`.
pub fn put_op(
    store: &MessageStore,
    topics: &Topics,
    born_host: std::net::SocketAddr,
    half_queue_id: i32,
    half_queue_offset: i64,
    now_ms: i64,
) -> Result<PutResult, PutError> {
    ensure_topic(topics, TRANS_OP_HALF_TOPIC);
    let body = half_queue_offset.to_string();
    let props = properties::encode([(keys::TAGS, OP_TAG), (keys::WAIT, "true")]);
    store.put_message(&PutMessage {
        born_timestamp: now_ms,
        properties: &props,
        ..PutMessage::new(
            TRANS_OP_HALF_TOPIC,
            half_queue_id,
            body.as_bytes(),
            born_host,
        )
    })
}

/// The half queue offset an op record resolves (4.x: one offset; 5.x: several, comma-separated).
pub fn op_offsets(body: &[u8]) -> Vec<i64> {
    String::from_utf8_lossy(body)
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Transactions already committed or rolled back in this run, by producer group and UNIQ_KEY,
/// so a repeated END_TRANSACTION (a late answer to a check of an older copy) does not store the
/// message a second time. Bounded: the oldest entries are forgotten first.
#[derive(Debug, Default)]
pub struct Resolved {
    inner: Mutex<(HashSet<GroupKey>, VecDeque<GroupKey>)>,
}

/// (producer group, UNIQ_KEY).
type GroupKey = (String, String);

const RESOLVED_CAPACITY: usize = 65_536;

impl Resolved {
    /// Records a resolution; `false` when it was already recorded.
    pub fn insert(&self, group: &str, uniq_key: &str) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (set, order) = &mut *guard;
        let key = (group.to_owned(), uniq_key.to_owned());
        if !set.insert(key.clone()) {
            return false;
        }
        order.push_back(key);
        if order.len() > RESOLVED_CAPACITY
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
        true
    }

    pub fn contains(&self, group: &str, uniq_key: &str) -> bool {
        let guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0.contains(&(group.to_owned(), uniq_key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_bodies_of_both_versions_are_read() {
        assert_eq!(op_offsets(b"12"), [12]);
        assert_eq!(op_offsets(b"1,2,x,3"), [1, 2, 3]);
        assert!(op_offsets(b"").is_empty());
    }

    #[test]
    fn a_resolution_is_recorded_once() {
        let resolved = Resolved::default();
        assert!(resolved.insert("pg", "U1"));
        assert!(!resolved.insert("pg", "U1"));
        assert!(resolved.insert("other", "U1"));
        assert!(resolved.contains("pg", "U1"));
    }
}
