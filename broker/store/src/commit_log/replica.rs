//! Appending bytes replicated from a master: verbatim, at exactly the commit log's end, into files
//! that roll where the master's rolled.
//!
//! The master streams raw bytes in batches that split records anywhere, so the stream carries no
//! framing of its own. What keeps the two logs identical is checked here before any byte lands:
//! the bytes start at our end; they stay inside our current file; and, walking the record heads
//! as they arrive ([`ReplicaCursor`]), no record crosses our file end and every blank record ends
//! exactly at it. A master with a different `mappedFileSizeCommitLog` fails these checks at its
//! first file end at the latest, with an error that says so, before anything is written.

use rmq_protocol::message::record::{self, BLANK_HEADER_LEN, RecordHead, RecordView};

use super::{CommitLog, lock};
use crate::error::ReplicaAppendError;

/// Where the next record of the replicated stream starts. Created at a record boundary (the end
/// of a recovered commit log) and carried from one append to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaCursor {
    next_record: u64,
}

impl ReplicaCursor {
    /// Offset of the first record not yet complete.
    pub fn next_record(&self) -> u64 {
        self.next_record
    }
}

/// What the walk over new bytes found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Walked {
    next_record: u64,
    /// Start of the last message record these bytes complete.
    last_complete: Option<u64>,
}

impl CommitLog {
    /// A cursor at the commit log's end, which must be a record boundary: call right after
    /// recovery, before any replicated append.
    pub fn replica_cursor(&self) -> ReplicaCursor {
        ReplicaCursor {
            next_record: self.max_offset(),
        }
    }

    /// Appends `data`, the master's commit log bytes from `offset`; returns the new end.
    ///
    /// An empty commit log accepts a start at any file boundary (a new slave receives the
    /// master's last file from its start); otherwise `offset` must be the end.
    pub fn append_replicated(
        &self,
        cursor: &mut ReplicaCursor,
        offset: u64,
        data: &[u8],
    ) -> Result<u64, ReplicaAppendError> {
        // The append lock: nothing else may write while the replicated bytes go in.
        let mut state = lock(&self.state);
        let file_size = self.files.file_size();
        let max = self.max_offset();
        if max == 0 && offset != 0 {
            if !offset.is_multiple_of(file_size as u64) {
                return Err(ReplicaAppendError::NotAtFileStart { offset, file_size });
            }
            if !self.files.is_empty() {
                // Only an empty file at 0 can be here; the stream starts elsewhere.
                self.files.truncate(0).map_err(ReplicaAppendError::Roll)?;
            }
            *cursor = ReplicaCursor {
                next_record: offset,
            };
        } else if offset != max {
            return Err(ReplicaAppendError::OffsetMismatch {
                expected: max,
                got: offset,
            });
        }
        if data.is_empty() {
            return Ok(offset);
        }
        let last = self.files.last().filter(|f| !f.is_full());
        let file_end = last.as_ref().map_or(offset + file_size as u64, |f| f.end());
        let end = offset + data.len() as u64;
        if end > file_end {
            return Err(ReplicaAppendError::CrossesFileEnd {
                offset,
                end,
                file_end,
                file_size,
            });
        }
        // The head of the partial record before `offset`, if it started in an earlier append.
        let mut tail = [0u8; BLANK_HEADER_LEN];
        let tail_len =
            (offset - cursor.next_record.min(offset)).min(BLANK_HEADER_LEN as u64) as usize;
        if tail_len > 0 {
            let file = last.as_ref().filter(|f| f.start() <= cursor.next_record);
            let bytes =
                file.and_then(|f| f.read((cursor.next_record - f.start()) as usize, tail_len));
            match bytes {
                Some(bytes) => tail[..tail_len].copy_from_slice(bytes),
                // The cursor points into a file we no longer write: the stream is not ours.
                None => {
                    return Err(ReplicaAppendError::OffsetMismatch {
                        expected: cursor.next_record,
                        got: offset,
                    });
                }
            }
        }
        let walked = walk(
            cursor.next_record,
            offset,
            &tail[..tail_len],
            data,
            file_end,
            file_size,
        )?;
        let file = match last {
            Some(file) => file,
            // An empty log starts where the stream does; a full last file rolls to `offset`.
            None => self
                .files
                .create_next(offset)
                .map_err(ReplicaAppendError::Roll)?,
        };
        if self
            .put_bytes(&file, data)
            .map_err(ReplicaAppendError::Write)?
            .is_none()
        {
            // Cannot happen: the room was checked above under the append lock.
            return Err(ReplicaAppendError::CrossesFileEnd {
                offset,
                end,
                file_end: file.end(),
                file_size,
            });
        }
        *cursor = ReplicaCursor {
            next_record: walked.next_record,
        };
        self.warm_ahead(&mut state, &file);
        // The checkpoint vouches for flushed data by store timestamp; keep it moving on a slave.
        if let Some(start) = walked.last_complete
            && let Some(raw) = self.read_record(start)
            && let Ok(view) = RecordView::decode(&raw)
        {
            self.last_store_timestamp
                .store(view.store_timestamp(), std::sync::atomic::Ordering::Release);
        }
        Ok(end)
    }
}

/// Walks the record heads that `data` (at `offset`) completes, starting at `next_record`, whose
/// first bytes up to `offset` are `tail`. Pure, so every way of cutting a stream can be tested.
fn walk(
    mut next_record: u64,
    offset: u64,
    tail: &[u8],
    data: &[u8],
    file_end: u64,
    file_size: usize,
) -> Result<Walked, ReplicaAppendError> {
    let end = offset + data.len() as u64;
    let mut last_complete = None;
    while next_record + BLANK_HEADER_LEN as u64 <= end {
        let mut head = [0u8; BLANK_HEADER_LEN];
        for (i, byte) in head.iter_mut().enumerate() {
            let at = next_record + i as u64;
            *byte = if at < offset {
                tail[(at - next_record) as usize]
            } else {
                data[(at - offset) as usize]
            };
        }
        match record::peek_head(&head) {
            Ok(Some(RecordHead::Message { total_size })) => {
                let record_end = next_record + total_size as u64;
                if record_end > file_end {
                    return Err(ReplicaAppendError::RecordCrossesFileEnd {
                        record: next_record,
                        size: total_size,
                        file_end,
                        file_size,
                    });
                }
                if record_end <= end {
                    last_complete = Some(next_record);
                }
                next_record = record_end;
            }
            Ok(Some(RecordHead::Blank { total_size })) => {
                let blank_end = next_record + total_size as u64;
                if blank_end != file_end {
                    return Err(ReplicaAppendError::BlankMisaligned {
                        record: next_record,
                        blank_end,
                        file_end,
                        file_size,
                    });
                }
                next_record = blank_end;
            }
            Ok(None) => break,
            Err(source) => {
                return Err(ReplicaAppendError::BadRecord {
                    record: next_record,
                    source,
                });
            }
        }
    }
    Ok(Walked {
        next_record,
        last_complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_protocol::message::record::{RecordFields, blank_header, encode};

    fn rec(physical_offset: u64, body_len: usize) -> Vec<u8> {
        encode(&RecordFields {
            queue_id: 0,
            flag: 0,
            queue_offset: 0,
            physical_offset: physical_offset as i64,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 2,
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: &vec![b'x'; body_len],
            topic: "T",
            properties: b"",
        })
        .unwrap()
    }

    /// A master file of `file_size` bytes: records, then a blank to the end.
    fn master_file(start: u64, file_size: usize, bodies: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for b in bodies {
            out.extend(rec(start + out.len() as u64, *b));
        }
        let blank = file_size - out.len();
        out.extend_from_slice(&blank_header(blank as i32));
        out.resize(file_size, 0);
        out
    }

    /// Walks `stream` (starting at 0) cut into the given chunk sizes.
    fn walk_chunks(
        stream: &[u8],
        chunk: usize,
        file_size: usize,
    ) -> Result<u64, ReplicaAppendError> {
        let mut next = 0u64;
        let mut offset = 0usize;
        while offset < stream.len() {
            let file_end = (offset / file_size + 1) * file_size;
            let len = chunk.min(file_end - offset).min(stream.len() - offset);
            let tail_start = (next as usize).min(offset);
            let tail_end = (tail_start + BLANK_HEADER_LEN).min(offset);
            let walked = walk(
                next,
                offset as u64,
                &stream[tail_start..tail_end],
                &stream[offset..offset + len],
                file_end as u64,
                file_size,
            )?;
            next = walked.next_record;
            offset += len;
        }
        Ok(next)
    }

    #[test]
    fn the_walk_follows_records_across_any_cut_and_stops_at_each_file_end() {
        let file_size = 4096;
        let mut stream = master_file(0, file_size, &[100, 700, 10, 2000]);
        stream.extend(master_file(4096, file_size, &[3000]));
        for chunk in [1, 7, 8, 9, 100, 1000, 4096] {
            assert_eq!(
                walk_chunks(&stream, chunk, file_size).unwrap(),
                8192,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn a_master_with_smaller_files_is_caught_at_its_first_blank_record() {
        let stream = master_file(0, 4096, &[100, 200]);
        let err = walk_chunks(&stream, 1000, 8192).unwrap_err();
        assert!(
            matches!(
                err,
                ReplicaAppendError::BlankMisaligned { file_end: 8192, .. }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("mappedFileSizeCommitLog"), "{err}");
    }

    #[test]
    fn a_master_with_larger_files_is_caught_when_a_record_would_cross_our_file_end() {
        // The master's 8 KiB file holds a record across our 4 KiB boundary.
        let stream = master_file(0, 8192, &[3000, 3000]);
        let err = walk_chunks(&stream, 512, 4096).unwrap_err();
        assert!(
            matches!(
                err,
                ReplicaAppendError::RecordCrossesFileEnd { file_end: 4096, .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn garbage_where_a_record_head_belongs_is_refused() {
        let err = walk(0, 0, &[], &[0u8; 64], 4096, 4096).unwrap_err();
        assert!(matches!(
            err,
            ReplicaAppendError::BadRecord { record: 0, .. }
        ));
    }
}
