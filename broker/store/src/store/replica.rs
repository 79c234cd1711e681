//! A slave's writes: the master's commit log bytes, appended verbatim; the dispatch thread then
//! builds consume queues and index from them exactly as it does for a master's own appends.
//!
//! What an append promises: the bytes are in the page cache, visible to the dispatch thread and
//! to readers. Under SYNC_FLUSH a group commit is requested at once (without waiting for it), so
//! they reach the disk within milliseconds; under ASYNC_FLUSH the periodic flush takes them. As
//! in Apache, the slave confirms to the master on append, not on flush: an acknowledged
//! SYNC_MASTER message is on the master's disk (SYNC_FLUSH) and in the slave's memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Inner, MessageStore};
use crate::commit_log::{Appended, ReplicaCursor};
use crate::error::ReplicaAppendError;

/// The single writer of a slave's commit log. Create it once, right after the store opened
/// (its cursor starts at the recovered end, a record boundary), and keep it for the store's life:
/// across reconnects to the master the stream may resume in the middle of a record.
pub struct ReplicaWriter {
    inner: Arc<Inner>,
    cursor: ReplicaCursor,
}

impl std::fmt::Debug for ReplicaWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaWriter")
            .field("root", &self.inner.config.root_dir)
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl MessageStore {
    /// The writer for replicated bytes; only a replica store (`StoreConfig::replica`) has one.
    pub fn replica_writer(&self) -> Result<ReplicaWriter, ReplicaAppendError> {
        if !self.inner.config.replica {
            return Err(ReplicaAppendError::NotAReplica);
        }
        Ok(ReplicaWriter {
            cursor: self.inner.commit_log.replica_cursor(),
            inner: Arc::clone(&self.inner),
        })
    }
}

impl ReplicaWriter {
    /// The commit log's end: what the slave reports to its master.
    pub fn max_offset(&self) -> u64 {
        self.inner.commit_log.max_offset()
    }

    /// Appends the master's bytes from `offset` (see [`crate::commit_log::CommitLog::append_replicated`]);
    /// returns the new end. An empty `data` only checks the offset (a heartbeat).
    pub fn append(&mut self, offset: u64, data: &[u8]) -> Result<u64, ReplicaAppendError> {
        let inner = &self.inner;
        inner
            .check_writable()
            .map_err(ReplicaAppendError::Refused)?;
        let end = inner
            .commit_log
            .append_replicated(&mut self.cursor, offset, data)
            .inspect_err(|e| {
                if let ReplicaAppendError::Write(err) = e {
                    inner.poison("commit log write", err);
                }
            })?;
        if !data.is_empty() {
            // A new slave's log starts at the master's last file, not at 0: dispatch starts
            // there too (Apache's reput moves up to the commit log's min offset the same way).
            inner
                .reput_offset
                .fetch_max(inner.commit_log.min_offset(), Ordering::AcqRel);
            // Wakes the dispatch thread and, under SYNC_FLUSH, asks for a group commit; the
            // handle is dropped: the confirmation to the master does not wait for the disk.
            let _ = inner.after_append(
                Appended {
                    record_offsets: Vec::new(),
                    end_offset: end,
                    wrote_bytes: data.len(),
                    queue_offset: 0,
                    store_timestamp: 0,
                },
                true,
            );
        }
        Ok(end)
    }
}
