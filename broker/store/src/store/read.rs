//! Reads: pulls from a consume queue, lookups by offset, time and key.

use bytes::Bytes;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;

use super::MessageStore;

/// How many consume-queue entries one pull looks at, at most, while filtering.
const MAX_FILTER_SCAN: usize = 16_000;

/// A pull from one consume queue.
pub struct GetRequest<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub offset: u64,
    pub max_count: usize,
    pub max_bytes: usize,
    /// Tag-code filter on the consume-queue entry; `None` accepts everything.
    pub filter: Option<&'a dyn Fn(i64) -> bool>,
}

impl std::fmt::Debug for GetRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetRequest")
            .field("topic", &self.topic)
            .field("queue_id", &self.queue_id)
            .field("offset", &self.offset)
            .field("max_count", &self.max_count)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// Apache's `GetMessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetStatus {
    Found,
    NoMatchedMessage,
    MessageWasRemoving,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

/// The answer to a pull.
#[derive(Debug, Clone)]
pub struct GetResult {
    pub status: GetStatus,
    pub next_begin_offset: u64,
    pub min_offset: u64,
    pub max_offset: u64,
    /// Stored records, exactly as in the commit log (ready to send without re-encoding).
    pub messages: Vec<Bytes>,
    pub total_bytes: usize,
}

impl MessageStore {
    /// Pulls up to `max_count` messages (and about `max_bytes`) from a consume queue.
    pub fn get_message(&self, req: &GetRequest<'_>) -> GetResult {
        let inner = &self.inner;
        let mut result = GetResult {
            status: GetStatus::NoMatchedLogicQueue,
            next_begin_offset: 0,
            min_offset: 0,
            max_offset: 0,
            messages: Vec::new(),
            total_bytes: 0,
        };
        let Some(queue) = inner.queue(req.topic, req.queue_id) else {
            return result;
        };
        let (min, max) = (queue.min_offset(), queue.max_offset());
        result.min_offset = min;
        result.max_offset = max;
        let offset = req.offset;
        if max == 0 {
            result.status = GetStatus::NoMessageInQueue;
            return result;
        }
        if offset < min {
            result.status = GetStatus::OffsetTooSmall;
            result.next_begin_offset = min;
            return result;
        }
        if offset == max {
            result.status = GetStatus::OffsetOverflowOne;
            result.next_begin_offset = offset;
            return result;
        }
        if offset > max {
            result.status = GetStatus::OffsetOverflowBadly;
            result.next_begin_offset = if min == 0 { min } else { max };
            return result;
        }
        let log_min = inner.commit_log.min_offset();
        let mut next = offset;
        let mut scanned = 0usize;
        let mut filtered_out = false;
        let mut removing = false;
        'outer: while next < max && scanned < MAX_FILTER_SCAN {
            let entries = queue.range(next, (MAX_FILTER_SCAN - scanned).min(1024));
            if entries.is_empty() {
                break;
            }
            for (n, e) in entries {
                if e.is_blank() {
                    next = n + 1;
                    scanned += 1;
                    continue;
                }
                let size = e.size as usize;
                if !result.messages.is_empty()
                    && (result.messages.len() >= req.max_count
                        || result.total_bytes + size > req.max_bytes)
                {
                    break 'outer;
                }
                scanned += 1;
                if let Some(filter) = req.filter
                    && !filter(e.tags_code)
                {
                    filtered_out = true;
                    next = n + 1;
                    continue;
                }
                if (e.commit_log_offset as u64) < log_min {
                    removing = true;
                    next = n + 1;
                    continue;
                }
                match inner.commit_log.read_record(e.commit_log_offset as u64) {
                    Some(raw) => {
                        result.total_bytes += raw.len();
                        result.messages.push(raw);
                    }
                    None => removing = true,
                }
                next = n + 1;
                if result.messages.len() >= req.max_count {
                    break 'outer;
                }
            }
        }
        result.next_begin_offset = next;
        result.status = if !result.messages.is_empty() {
            GetStatus::Found
        } else if removing {
            GetStatus::MessageWasRemoving
        } else if filtered_out || next > offset {
            GetStatus::NoMatchedMessage
        } else {
            // Offset inside the queue but its entry is not readable: a hole.
            result.next_begin_offset = offset + 1;
            GetStatus::OffsetFoundNull
        };
        result
    }

    /// Next offset to be written in a queue (0 if the queue does not exist).
    /// Up to `count` raw entries of a consume queue from logical offset `from`, with the
    /// queue's min and max offsets (`mqadmin queryCq`); `None` when the queue does not exist.
    pub fn queue_entries(
        &self,
        topic: &str,
        queue_id: i32,
        from: u64,
        count: usize,
    ) -> Option<(u64, u64, Vec<crate::consume_queue::CqEntry>)> {
        let q = self.inner.queue(topic, queue_id)?;
        let (min, max) = (q.min_offset(), q.max_offset());
        let entries = (from.max(min)..max)
            .take(count)
            .map_while(|n| q.get(n))
            .collect();
        Some((min, max, entries))
    }

    pub fn max_offset_in_queue(&self, topic: &str, queue_id: i32) -> u64 {
        self.inner
            .queue(topic, queue_id)
            .map_or(0, |q| q.max_offset())
    }

    /// Smallest offset still readable in a queue (0 if the queue does not exist).
    pub fn min_offset_in_queue(&self, topic: &str, queue_id: i32) -> u64 {
        self.inner
            .queue(topic, queue_id)
            .map_or(0, |q| q.min_offset())
    }

    /// The record at a commit log offset, as stored.
    pub fn read_record(&self, commit_log_offset: u64) -> Option<Bytes> {
        self.inner.commit_log.read_record(commit_log_offset)
    }

    /// Raw commit log bytes from `offset` within one file (replication).
    pub fn read_commit_log(&self, offset: u64, max_len: usize) -> Option<Bytes> {
        self.inner.commit_log.read_raw(offset, max_len)
    }

    fn store_time_at(&self, commit_log_offset: i64) -> Option<i64> {
        let raw = self
            .inner
            .commit_log
            .read_record(commit_log_offset as u64)?;
        RecordView::decode(&raw).ok().map(|v| v.store_timestamp())
    }

    /// Store time of the message at a queue offset.
    pub fn store_time(&self, topic: &str, queue_id: i32, offset: u64) -> Option<i64> {
        let e = self.inner.queue(topic, queue_id)?.get(offset)?;
        if e.is_blank() {
            return None;
        }
        self.store_time_at(e.commit_log_offset)
    }

    /// Store time of the oldest message still in a queue.
    pub fn earliest_message_time(&self, topic: &str, queue_id: i32) -> Option<i64> {
        let min = self.min_offset_in_queue(topic, queue_id);
        self.store_time(topic, queue_id, min)
    }

    /// Store time of the oldest message in the commit log.
    pub fn earliest_store_time(&self) -> Option<i64> {
        let min = self.inner.commit_log.min_offset();
        let raw = self.inner.commit_log.read_record(min)?;
        RecordView::decode(&raw).ok().map(|v| v.store_timestamp())
    }

    /// Queue offset of the first message stored at or after `timestamp` (binary search).
    pub fn offset_by_time(&self, topic: &str, queue_id: i32, timestamp: i64) -> u64 {
        let Some(q) = self.inner.queue(topic, queue_id) else {
            return 0;
        };
        q.offset_by_time(timestamp, |off, _| self.store_time_at(off))
    }

    /// Messages of `topic` whose `KEYS` contain `key` or whose `UNIQ_KEY` is `key`, stored within
    /// `[begin_ms, end_ms]`, newest first, at most `max`. Every hit is re-checked against the
    /// record, so stale index entries (e.g. past a truncated tail) never leak.
    pub fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin_ms: i64,
        end_ms: i64,
    ) -> Vec<Bytes> {
        let Some(index) = &self.inner.index else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let max_offset = self.inner.commit_log.max_offset();
        for phys in index.query(topic, key, max.saturating_mul(2).max(max), begin_ms, end_ms) {
            if phys < 0 || phys as u64 >= max_offset {
                continue;
            }
            let Some(raw) = self.inner.commit_log.read_record(phys as u64) else {
                continue;
            };
            let Ok(view) = RecordView::decode(&raw) else {
                continue;
            };
            let props = view.properties();
            let matches = view.topic() == topic
                && (properties::find(props, keys::UNIQ_KEY) == Some(key)
                    || properties::find(props, keys::KEYS)
                        .is_some_and(|ks| ks.split(' ').any(|k| k == key)));
            if matches && view.physical_offset() == phys {
                out.push(raw);
                if out.len() >= max {
                    break;
                }
            }
        }
        out
    }

    /// Topic and queue ids with a consume queue.
    pub fn queues(&self) -> Vec<(String, i32)> {
        self.inner
            .queues
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
    }
}
