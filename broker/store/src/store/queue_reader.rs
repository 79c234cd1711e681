//! Reading a consume queue in order from an offset, skipping what cannot be read:
//! [`MessageStore::read_queue`]. The broker's own readers of its system queues (the delay
//! scheduler, the transaction check) walk queues this way; consumers pull through
//! [`MessageStore::get_message`] with its statuses instead.

use std::collections::VecDeque;

use bytes::Bytes;

use super::MessageStore;
use super::read::{GetRequest, GetStatus};

/// The records of one queue from an offset on; see [`MessageStore::read_queue`].
#[derive(Debug)]
pub struct QueueReader<'a> {
    store: &'a MessageStore,
    topic: &'a str,
    queue_id: i32,
    /// The next queue offset to read from the store.
    next: u64,
    /// Reading stops here (exclusive) when set.
    end: Option<u64>,
    batch: usize,
    read_ahead: VecDeque<Bytes>,
}

impl MessageStore {
    /// The stored records of queue `topic`/`queue_id` from queue offset `offset` on, in queue
    /// order. Entries that cannot be read are passed over: blank entries, holes, entries whose
    /// commit-log file was already deleted, and an offset below the queue's first entry starts
    /// at that entry. The reader ends at the end of the queue as it is when it gets there (or at
    /// [`QueueReader::until`]). It reads one record per store call unless given a
    /// [`QueueReader::batch`].
    pub fn read_queue<'a>(&'a self, topic: &'a str, queue_id: i32, offset: u64) -> QueueReader<'a> {
        QueueReader {
            store: self,
            topic,
            queue_id,
            next: offset,
            end: None,
            batch: 1,
            read_ahead: VecDeque::new(),
        }
    }
}

impl QueueReader<'_> {
    /// Reads up to `records` per store call (at least one).
    pub fn batch(mut self, records: usize) -> Self {
        self.set_batch(records);
        self
    }

    /// Changes how many records later store calls read.
    pub fn set_batch(&mut self, records: usize) {
        self.batch = records.max(1);
    }

    /// Stops before queue offset `end`, even if the queue grows past it meanwhile.
    pub fn until(mut self, end: u64) -> Self {
        self.end = Some(end);
        self
    }

    /// The queue offset after the last entry read from the store, records read ahead and
    /// passed-over entries included. Once the reader has ended, everything before it was read
    /// or could not be.
    pub fn position(&self) -> u64 {
        self.next
    }
}

impl Iterator for QueueReader<'_> {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(raw) = self.read_ahead.pop_front() {
                return Some(raw);
            }
            let end = self
                .store
                .max_offset_in_queue(self.topic, self.queue_id)
                .min(self.end.unwrap_or(u64::MAX));
            if self.next >= end {
                return None;
            }
            let left = usize::try_from(end - self.next).unwrap_or(usize::MAX);
            let result = self.store.get_message(&GetRequest {
                topic: self.topic,
                queue_id: self.queue_id,
                offset: self.next,
                max_count: self.batch.min(left),
                max_bytes: usize::MAX,
                filter: None,
            });
            if result.status == GetStatus::Found {
                self.next = result.next_begin_offset.min(end);
                // Entries passed over inside the read can carry it past `end`.
                self.read_ahead.extend(
                    result
                        .messages
                        .into_iter()
                        .filter(|raw| queue_offset_of(raw).is_none_or(|at| at < end)),
                );
            } else if result.next_begin_offset > self.next {
                // A hole, a removed file or an offset below the queue's start: pass over it.
                self.next = result.next_begin_offset;
            } else {
                return None;
            }
        }
    }
}

/// The queue offset a stored record holds (bytes 20..28 of its layout).
fn queue_offset_of(raw: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = raw.get(20..28)?.try_into().ok()?;
    u64::try_from(i64::from_be_bytes(bytes)).ok()
}
