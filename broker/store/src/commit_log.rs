//! The commit log: every message of every topic, appended in arrival order as Apache's records.
//!
//! Appends are serialized by one lock held only for the copy into the mapped file: encoding
//! happens before it, and durability waits (see [`crate::flush`]) after it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use rmq_protocol::message::record::{
    self, BLANK_HEADER_LEN, DecodeRecordError, RecordFields, RecordHead, RecordView,
};
use rmq_protocol::message::sysflag;
use tracing::debug;

use crate::error::{FileError, PutError};
use crate::file_queue::FileQueue;
use crate::mapped_file::{self, MappedFile};

mod prefault;
mod replica;
pub use prefault::WarmUp;
use prefault::{PREFAULT_AHEAD, PREFAULT_LOW_WATER, Prefaulter};
pub use replica::ReplicaCursor;

/// One message to append.
#[derive(Debug, Clone)]
pub struct PutMessage<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub flag: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: &'a [u8],
    pub properties: &'a [u8],
}

impl<'a> PutMessage<'a> {
    /// A plain message: no flag, no sys flag, no properties, never reconsumed, not the commit of
    /// a half message, and born at timestamp 0. Callers that know more set those fields with
    /// struct-update syntax (`PutMessage { properties, ..PutMessage::new(..) }`).
    pub fn new(topic: &'a str, queue_id: i32, body: &'a [u8], born_host: SocketAddr) -> Self {
        Self {
            topic,
            queue_id,
            flag: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body,
            properties: b"",
        }
    }
}

/// One message of a batch: what differs between the messages of a batch.
#[derive(Debug, Clone)]
pub struct BatchItem<'a> {
    pub flag: i32,
    pub body: &'a [u8],
    pub properties: &'a [u8],
}

/// Messages sent together to one queue: they get consecutive queue offsets.
#[derive(Debug, Clone)]
pub struct PutBatch<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub reconsume_times: i32,
    pub items: &'a [BatchItem<'a>],
}

/// Where appended records landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Commit log offset of each record, in order.
    pub record_offsets: Vec<u64>,
    /// Offset one past the last record: what a durability wait waits for.
    pub end_offset: u64,
    /// Bytes appended (records only).
    pub wrote_bytes: usize,
    /// Consume-queue offset of the first message.
    pub queue_offset: i64,
    pub store_timestamp: i64,
}

/// A valid record met by a scan.
#[derive(Debug)]
pub struct Scanned<'a> {
    pub offset: u64,
    pub view: RecordView<'a>,
}

/// Why a scan stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEnd {
    /// Zeroes: the data ends here.
    Clean,
    /// The last file ended (with a blank record or exactly full).
    EndOfFiles,
    /// A record failed validation: the tail from here is torn or corrupt.
    Invalid(DecodeRecordError),
    /// A record claims a physical offset other than where it lies.
    WrongPhysicalOffset { stored: i64 },
}

#[derive(Debug, Default)]
struct AppendState {
    /// Next consume-queue offset per `topic-queueId` (Apache's `topicQueueTable`).
    queue_offsets: HashMap<String, i64>,
    buf: Vec<u8>,
    /// Reused key buffer, so looking up a queue's offset allocates nothing.
    key: String,
    /// Reused record sizes of the batch being appended.
    sizes: Vec<usize>,
    /// `(file start, position)`: the prefaulter was asked to populate that file up to there.
    prefaulted: (u64, usize),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets its atomic to 0 when dropped.
struct ClearOnDrop<'a>(&'a AtomicI64);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// The commit log.
#[derive(Debug)]
pub struct CommitLog {
    files: FileQueue,
    state: Mutex<AppendState>,
    store_host: SocketAddr,
    /// Store timestamp of the last appended record.
    last_store_timestamp: AtomicI64,
    /// Store timestamp of the append holding the lock now, 0 when none does: how long it has
    /// held it is Apache's `pageCacheLockTimeMills` (a stalled page cache shows here first).
    append_began_ms: AtomicI64,
    prefaulter: Prefaulter,
    /// How appended bytes reach the file: with `pwrite` when the blocks are zero filled ahead
    /// (SYNC_FLUSH), by a copy through the mapping otherwise (see [`WarmUp`]).
    by_write: bool,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn queue_key(topic: &str, queue_id: i32) -> String {
    let mut key = String::new();
    push_queue_key(&mut key, topic, queue_id);
    key
}

fn push_queue_key(key: &mut String, topic: &str, queue_id: i32) {
    use std::fmt::Write;
    key.push_str(topic);
    key.push('-');
    let _ = write!(key, "{queue_id}");
}

impl CommitLog {
    pub fn new(files: FileQueue, store_host: SocketAddr, warm_up: WarmUp) -> Self {
        CommitLog {
            files,
            state: Mutex::new(AppendState::default()),
            store_host,
            last_store_timestamp: AtomicI64::new(0),
            append_began_ms: AtomicI64::new(0),
            prefaulter: Prefaulter::start(warm_up),
            by_write: warm_up == WarmUp::ZeroFill,
        }
    }

    /// Appends `data` to `file` the way this log writes (see [`MappedFile::append_by_write`]).
    /// `Ok(None)`: it does not fit.
    fn put_bytes(&self, file: &MappedFile, data: &[u8]) -> Result<Option<usize>, FileError> {
        if self.by_write {
            file.append_by_write(data)
        } else {
            Ok(file.append(data))
        }
    }

    pub fn files(&self) -> &FileQueue {
        &self.files
    }
    pub fn store_host(&self) -> SocketAddr {
        self.store_host
    }
    /// Offset one past the last written byte.
    pub fn max_offset(&self) -> u64 {
        self.files.max_offset()
    }
    /// Offset of the oldest byte still held.
    pub fn min_offset(&self) -> u64 {
        self.files.min_offset()
    }
    pub fn flushed_offset(&self) -> u64 {
        self.files.flushed_offset()
    }
    pub fn last_store_timestamp(&self) -> i64 {
        self.last_store_timestamp.load(Ordering::Acquire)
    }

    /// How long the append in progress has held the append lock at `now_ms`; 0 when none runs.
    pub fn append_lock_held_ms(&self, now_ms: i64) -> i64 {
        match self.append_began_ms.load(Ordering::Relaxed) {
            0 => 0,
            began => (now_ms - began).max(0),
        }
    }

    /// Sets the next queue offsets (after recovery, from the consume queues).
    pub fn set_queue_offsets(&self, offsets: HashMap<String, i64>) {
        lock(&self.state).queue_offsets = offsets;
    }

    /// Forgets a queue's next offset (topic deleted).
    pub fn remove_queue_offset(&self, topic: &str, queue_id: i32) {
        lock(&self.state)
            .queue_offsets
            .remove(&queue_key(topic, queue_id));
    }

    /// Appends one message.
    pub fn append(&self, msg: &PutMessage<'_>) -> Result<Appended, PutError> {
        let item = BatchItem {
            flag: msg.flag,
            body: msg.body,
            properties: msg.properties,
        };
        let batch = PutBatch {
            topic: msg.topic,
            queue_id: msg.queue_id,
            sys_flag: msg.sys_flag,
            born_timestamp: msg.born_timestamp,
            born_host: msg.born_host,
            reconsume_times: msg.reconsume_times,
            items: std::slice::from_ref(&item),
        };
        self.append_records(&batch, msg.prepared_transaction_offset)
    }

    /// Appends a batch: all records land in one file, with consecutive queue offsets.
    pub fn append_batch(&self, batch: &PutBatch<'_>) -> Result<Appended, PutError> {
        if batch.items.is_empty() {
            return Err(PutError::EmptyBatch);
        }
        self.append_records(batch, 0)
    }

    /// Asks the prefault thread to prepare the pages ahead of `file`'s write position once the
    /// writer comes within [`PREFAULT_LOW_WATER`] of what was prepared. Called under the append
    /// lock after every append, replicated ones included: a page the writer reaches unprepared
    /// is faulted in (and zeroed) on the appending thread, inside some request's latency.
    fn warm_ahead(&self, state: &mut AppendState, file: &Arc<MappedFile>) {
        let written = file.wrote();
        if state.prefaulted.0 == file.start() && written + PREFAULT_LOW_WATER <= state.prefaulted.1
        {
            return;
        }
        let from = if state.prefaulted.0 == file.start() {
            state.prefaulted.1.max(written)
        } else {
            written
        };
        let to = (written + PREFAULT_AHEAD).min(file.size());
        if from < to {
            self.prefaulter.request(file, from, to);
        }
        state.prefaulted = (file.start(), to);
    }

    /// `(file start, position)` up to which the prefault thread was asked to prepare pages.
    #[cfg(test)]
    fn warmed_to(&self) -> (u64, usize) {
        lock(&self.state).prefaulted
    }

    fn append_records(&self, batch: &PutBatch<'_>, prepared_tx: i64) -> Result<Appended, PutError> {
        let tx = sysflag::transaction_type(batch.sys_flag);
        // Half and rolled-back transaction records take no consume-queue slot.
        let takes_queue_slot =
            tx != sysflag::TRANSACTION_PREPARED_TYPE && tx != sysflag::TRANSACTION_ROLLBACK_TYPE;
        let mut state = lock(&self.state);
        let state = &mut *state;
        state.buf.clear();
        state.sizes.clear();
        for item in batch.items {
            let before = state.buf.len();
            record::encode_into(
                &RecordFields {
                    queue_id: batch.queue_id,
                    flag: item.flag,
                    queue_offset: 0,
                    physical_offset: 0,
                    sys_flag: batch.sys_flag,
                    born_timestamp: batch.born_timestamp,
                    born_host: batch.born_host,
                    store_timestamp: 0,
                    store_host: self.store_host,
                    reconsume_times: batch.reconsume_times,
                    prepared_transaction_offset: prepared_tx,
                    body: item.body,
                    topic: batch.topic,
                    properties: item.properties,
                },
                &mut state.buf,
            )?;
            state.sizes.push(state.buf.len() - before);
        }
        let total = state.buf.len();
        let file_size = self.files.file_size();
        if total + BLANK_HEADER_LEN > file_size {
            return Err(PutError::RecordTooLarge {
                size: total,
                file_size,
            });
        }
        let mut file = self.files.last_or_create(0).map_err(PutError::Roll)?;
        if total + BLANK_HEADER_LEN > file.remaining() {
            // The file cannot hold the records and still end with a blank record: mark its end.
            let remaining = file.remaining();
            let blank = record::blank_header(remaining as i32);
            self.put_bytes(&file, &blank).map_err(PutError::Write)?;
            file.mark_full();
            file = self.files.create_next(0).map_err(PutError::Roll)?;
        }
        let start = file.start() + file.wrote() as u64;
        state.key.clear();
        push_queue_key(&mut state.key, batch.topic, batch.queue_id);
        let first_queue_offset = if takes_queue_slot {
            state.queue_offsets.get(&state.key).copied().unwrap_or(0)
        } else {
            0
        };
        let store_timestamp = now_ms();
        // Written under the append lock only; cleared when this append ends, however it ends.
        self.append_began_ms
            .store(store_timestamp, Ordering::Relaxed);
        let _in_lock = ClearOnDrop(&self.append_began_ms);
        let ts_pos = record::store_timestamp_pos(
            batch.sys_flag
                | if batch.born_host.is_ipv6() {
                    sysflag::BORNHOST_V6
                } else {
                    0
                },
        );
        let mut record_offsets = Vec::with_capacity(state.sizes.len());
        let mut at = 0usize;
        for (i, size) in state.sizes.iter().enumerate() {
            let rec = &mut state.buf[at..at + size];
            let phys = start + at as u64;
            let queue_offset = if takes_queue_slot {
                first_queue_offset + i as i64
            } else {
                0
            };
            rec[record::pos::QUEUE_OFFSET..record::pos::QUEUE_OFFSET + 8]
                .copy_from_slice(&queue_offset.to_be_bytes());
            rec[record::pos::PHYSICAL_OFFSET..record::pos::PHYSICAL_OFFSET + 8]
                .copy_from_slice(&(phys as i64).to_be_bytes());
            rec[ts_pos..ts_pos + 8].copy_from_slice(&store_timestamp.to_be_bytes());
            record_offsets.push(phys);
            at += size;
        }
        if self
            .put_bytes(&file, &state.buf)
            .map_err(PutError::Write)?
            .is_none()
        {
            // Cannot happen: room was checked above under the same lock.
            return Err(PutError::RecordTooLarge {
                size: total,
                file_size,
            });
        }
        let count = state.sizes.len() as i64;
        if takes_queue_slot {
            match state.queue_offsets.get_mut(&state.key) {
                Some(next) => *next = first_queue_offset + count,
                None => {
                    state
                        .queue_offsets
                        .insert(state.key.clone(), first_queue_offset + count);
                }
            }
        }
        self.warm_ahead(state, &file);
        self.last_store_timestamp
            .store(store_timestamp, Ordering::Release);
        Ok(Appended {
            record_offsets,
            end_offset: start + total as u64,
            wrote_bytes: total,
            queue_offset: first_queue_offset,
            store_timestamp,
        })
    }

    /// The record at `offset`, sharing the mapped bytes.
    pub fn read_record(&self, offset: u64) -> Option<Bytes> {
        let file = self.files.find(offset)?;
        let pos = (offset - file.start()) as usize;
        let head = file.read(pos, BLANK_HEADER_LEN)?;
        match record::peek_head(head).ok()?? {
            RecordHead::Message { total_size } => mapped_file::slice(&file, pos, total_size),
            RecordHead::Blank { .. } => None,
        }
    }

    /// Raw bytes from `offset`, at most `max_len`, within one file (for replication).
    pub fn read_raw(&self, offset: u64, max_len: usize) -> Option<Bytes> {
        let file = self.files.find(offset)?;
        let pos = (offset - file.start()) as usize;
        let len = file.wrote().saturating_sub(pos).min(max_len);
        if len == 0 {
            return None;
        }
        mapped_file::slice(&file, pos, len)
    }

    /// Flushes everything written; returns the flushed offset.
    pub fn flush(&self) -> Result<u64, FileError> {
        self.files.flush()
    }

    /// Walks valid records from `start` (a record boundary) to the end of the data, calling
    /// `on_record` for each, and returns the offset where valid data ends and why.
    pub fn scan(
        &self,
        start: u64,
        check_crc: bool,
        mut on_record: impl FnMut(Scanned<'_>),
    ) -> (u64, ScanEnd) {
        let files = self.files.files();
        let Some(mut idx) = files
            .iter()
            .position(|f| start >= f.start() && start < f.end())
        else {
            return (start, ScanEnd::EndOfFiles);
        };
        let mut pos = (start - files[idx].start()) as usize;
        loop {
            let file: &Arc<MappedFile> = &files[idx];
            let offset = file.start() + pos as u64;
            let remaining = file.size() - pos;
            let step = if remaining < BLANK_HEADER_LEN {
                // Too short even for a blank record: treat like one.
                Ok(RecordHead::Blank {
                    total_size: remaining,
                })
            } else {
                let head = file.read_raw(pos, BLANK_HEADER_LEN).unwrap_or(&[]);
                if head[..4] == [0, 0, 0, 0] {
                    return (offset, ScanEnd::Clean);
                }
                record::peek_head(head).map(|h| h.unwrap_or(RecordHead::Blank { total_size: 0 }))
            };
            match step {
                Err(e) => return (offset, ScanEnd::Invalid(e)),
                Ok(RecordHead::Blank { total_size }) => {
                    if total_size != remaining && remaining >= BLANK_HEADER_LEN {
                        return (
                            offset,
                            ScanEnd::Invalid(DecodeRecordError::BadTotalSize {
                                declared: total_size as i32,
                            }),
                        );
                    }
                    idx += 1;
                    if idx >= files.len() {
                        return (file.end(), ScanEnd::EndOfFiles);
                    }
                    pos = 0;
                }
                Ok(RecordHead::Message { total_size }) => {
                    if total_size > remaining {
                        return (
                            offset,
                            ScanEnd::Invalid(DecodeRecordError::Truncated {
                                needed: total_size,
                                available: remaining,
                            }),
                        );
                    }
                    let raw = file.read_raw(pos, total_size).unwrap_or(&[]);
                    let view = match RecordView::decode(raw) {
                        Ok(v) => v,
                        Err(e) => return (offset, ScanEnd::Invalid(e)),
                    };
                    if check_crc && let Err(e) = view.verify() {
                        return (offset, ScanEnd::Invalid(e));
                    }
                    if view.physical_offset() != offset as i64 {
                        return (
                            offset,
                            ScanEnd::WrongPhysicalOffset {
                                stored: view.physical_offset(),
                            },
                        );
                    }
                    on_record(Scanned { offset, view });
                    pos += total_size;
                    if pos == file.size() {
                        idx += 1;
                        if idx >= files.len() {
                            return (file.end(), ScanEnd::EndOfFiles);
                        }
                        pos = 0;
                    }
                }
            }
        }
    }

    /// Cuts the commit log at `offset` (recovery), logging what goes.
    pub fn truncate(&self, offset: u64) -> Result<(), FileError> {
        let max = self.files.files().last().map_or(0, |f| f.end());
        if offset < max {
            // The unwritten, preallocated tail is zeroed on every open; a torn record is reported by
            // recovery itself, so this is not a warning.
            debug!(
                offset,
                file_end = max,
                "commit log cut at the end of valid data"
            );
        }
        self.files.truncate(offset)
    }
}

#[cfg(test)]
mod tests;
