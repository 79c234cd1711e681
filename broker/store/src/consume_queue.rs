//! A consume queue: the index of one (topic, queue id) into the commit log.
//!
//! ```text
//! entry n at byte n*20 of the file series (file name = byte offset of its first entry)
//! +----------------------+-------------+------------------+
//! | commit log offset i64| size i32    | tags code i64    |
//! +----------------------+-------------+------------------+
//! ```
//! Delay-topic entries carry the delivery time in the tags code. A queue whose first file starts
//! after 0 keeps blank entries `(0, i32::MAX, 0)` before its first real entry.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tracing::{error, warn};

use crate::config::CQ_ENTRY_SIZE;
use crate::error::FileError;
use crate::file_queue::FileQueue;

/// One entry of a consume queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    pub commit_log_offset: i64,
    pub size: i32,
    pub tags_code: i64,
}

impl CqEntry {
    fn encode(&self) -> [u8; CQ_ENTRY_SIZE] {
        let mut out = [0u8; CQ_ENTRY_SIZE];
        out[..8].copy_from_slice(&self.commit_log_offset.to_be_bytes());
        out[8..12].copy_from_slice(&self.size.to_be_bytes());
        out[12..].copy_from_slice(&self.tags_code.to_be_bytes());
        out
    }

    fn decode(b: &[u8]) -> CqEntry {
        let mut o = [0u8; 8];
        o.copy_from_slice(&b[..8]);
        let mut s = [0u8; 4];
        s.copy_from_slice(&b[8..12]);
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[12..20]);
        CqEntry {
            commit_log_offset: i64::from_be_bytes(o),
            size: i32::from_be_bytes(s),
            tags_code: i64::from_be_bytes(t),
        }
    }

    /// A blank filler entry.
    pub fn is_blank(&self) -> bool {
        self.commit_log_offset == 0 && self.size == i32::MAX && self.tags_code == 0
    }

    fn is_valid(&self) -> bool {
        self.commit_log_offset >= 0 && self.size > 0
    }
}

/// A consume queue.
#[derive(Debug)]
pub struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    files: FileQueue,
    /// Commit log offset one past the last dispatched record (idempotent re-dispatch).
    max_physical_end: AtomicU64,
    /// Smallest logical offset still served.
    min_logical: AtomicU64,
    /// The last write could not allocate the page after its entry.
    short_of_room: AtomicBool,
}

/// Bytes of consume queue file allocated beyond the entry being written.
const ALLOCATE_AHEAD: usize = 4096;

impl ConsumeQueue {
    pub fn new(topic: &str, queue_id: i32, files: FileQueue) -> Self {
        ConsumeQueue {
            topic: topic.to_owned(),
            queue_id,
            files,
            max_physical_end: AtomicU64::new(0),
            min_logical: AtomicU64::new(0),
            short_of_room: AtomicBool::new(false),
        }
    }

    /// The disk had no room for the page after the last entry written. The entries of the
    /// appends already acknowledged still fit in the page in hand (~200), so the store refuses
    /// new sends while this holds rather than acknowledge a message it could not index.
    pub fn short_of_room_ahead(&self) -> bool {
        self.short_of_room.load(Ordering::Acquire)
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }
    pub fn queue_id(&self) -> i32 {
        self.queue_id
    }
    pub fn files(&self) -> &FileQueue {
        &self.files
    }

    /// Next logical offset to be written (= number of entries, counting from 0).
    pub fn max_offset(&self) -> u64 {
        self.files.max_offset() / CQ_ENTRY_SIZE as u64
    }

    /// Smallest logical offset that still points at commit log data.
    pub fn min_offset(&self) -> u64 {
        self.min_logical
            .load(Ordering::Acquire)
            .max(self.files.min_offset() / CQ_ENTRY_SIZE as u64)
    }

    pub fn max_physical_end(&self) -> u64 {
        self.max_physical_end.load(Ordering::Acquire)
    }

    /// Finds where the entries end after a restart (first invalid entry), sets the write
    /// position there and returns the commit log offset one past the last record referenced.
    pub fn recover(&self) -> u64 {
        let files = self.files.files();
        let mut end_phys = 0u64;
        // Scan from the third-last file, as Apache does: earlier files are complete.
        let from = files.len().saturating_sub(3);
        for (i, file) in files.iter().enumerate().skip(from) {
            let mut pos = 0;
            let mut cut = None;
            while pos + CQ_ENTRY_SIZE <= file.size() {
                let raw = file
                    .read_raw(pos, CQ_ENTRY_SIZE)
                    .unwrap_or(&[0; CQ_ENTRY_SIZE]);
                let e = CqEntry::decode(raw);
                if !e.is_valid() {
                    cut = Some(pos);
                    break;
                }
                if !e.is_blank() {
                    end_phys = end_phys.max(e.commit_log_offset as u64 + e.size as u64);
                }
                pos += CQ_ENTRY_SIZE;
            }
            if let Some(pos) = cut {
                file.truncate_to(pos);
                file.set_flushed(pos);
                // Files after a short one are stale: recovery deletes them via truncate.
                if i + 1 < files.len() {
                    let _ = self.files.truncate(file.start() + pos as u64);
                }
                break;
            }
        }
        self.max_physical_end.store(end_phys, Ordering::Release);
        end_phys
    }

    /// Appends the entry for logical offset `logical`. Entries for records already dispatched
    /// (at or below the max physical end) are skipped, so a re-dispatch after recovery is safe.
    pub fn put(&self, logical: u64, entry: CqEntry) -> Result<(), FileError> {
        let end = entry.commit_log_offset as u64 + entry.size as u64;
        if end <= self.max_physical_end() {
            return Ok(());
        }
        let expected = self.max_offset();
        // A queue offset this far from the queue's end is damage (the field is not covered by
        // the body CRC), not a gap to fill: filling it wrote blanks until the disk was full.
        // The record stays in the commit log; only its entry is not written.
        let entries_per_file = (self.files.file_size() / CQ_ENTRY_SIZE) as u64;
        let plausible = logical < i64::MAX as u64 / CQ_ENTRY_SIZE as u64
            && (self.files.is_empty() || logical <= expected + entries_per_file);
        if !plausible {
            error!(topic = %self.topic, queue_id = self.queue_id, logical, expected, commit_log_offset = entry.commit_log_offset, "queue offset of a record is implausible; its consume queue entry is not written");
            return Ok(());
        }
        if self.files.is_empty() && logical > 0 {
            // First entry of a queue whose earlier files are gone: start at the file holding it
            // and fill the slots before it with blanks.
            let file_size = self.files.file_size() as u64;
            let byte = logical * CQ_ENTRY_SIZE as u64;
            let file = self.files.last_or_create(byte - byte % file_size)?;
            let blank = CqEntry {
                commit_log_offset: 0,
                size: i32::MAX,
                tags_code: 0,
            }
            .encode();
            file.ensure_allocated((byte - file.start()) as usize)?;
            let mut at = file.start();
            while at < byte {
                file.append(&blank);
                at += CQ_ENTRY_SIZE as u64;
            }
            self.min_logical.store(logical, Ordering::Release);
        } else if logical < expected {
            warn!(topic = %self.topic, queue_id = self.queue_id, logical, expected, "duplicate consume queue entry skipped");
            return Ok(());
        } else if logical > expected {
            warn!(topic = %self.topic, queue_id = self.queue_id, logical, expected, "gap in consume queue filled with blanks");
            let blank = CqEntry {
                commit_log_offset: 0,
                size: i32::MAX,
                tags_code: 0,
            };
            for _ in expected..logical {
                let file = self.files.last_or_create(0)?;
                file.ensure_allocated(file.wrote() + CQ_ENTRY_SIZE)?;
                file.append(&blank.encode());
            }
        }
        let file = self.files.last_or_create(0)?;
        // IMPORTANT: consume queue files are sparse; the entry's page must have its block before
        // the write through the mapping, or a full disk kills the broker with SIGBUS. A page
        // beyond it is taken too, so that a disk filled by someone else leaves each queue room
        // for ~200 more entries: messages acknowledged before the disk-usage guard refuses
        // sends still get their entries and stay readable.
        let entry_end = file.wrote() + CQ_ENTRY_SIZE;
        file.ensure_allocated(entry_end)?;
        // Without room ahead the entry still goes in; the store learns of it (see
        // [`ConsumeQueue::short_of_room_ahead`]) and refuses sends while the page in hand lasts.
        let short = file.ensure_allocated(entry_end + ALLOCATE_AHEAD).is_err();
        self.short_of_room.store(short, Ordering::Release);
        file.append(&entry.encode());
        self.max_physical_end.fetch_max(end, Ordering::AcqRel);
        Ok(())
    }

    /// For recovery's re-dispatch: [`ConsumeQueue::put`], except that an entry already held for
    /// a record (at or below the max physical end) is compared with what the record says and
    /// rewritten when it differs, so the queue ends consistent with the commit log even where a
    /// power loss left a page of entries half old. Returns whether an entry was rewritten.
    /// Recovery runs before any reader is given an entry, so rewriting one in place is safe.
    pub fn recover_put(&self, logical: u64, entry: CqEntry) -> Result<bool, FileError> {
        let end = entry.commit_log_offset as u64 + entry.size as u64;
        if end > self.max_physical_end() {
            return self.put(logical, entry).map(|()| false);
        }
        if logical < self.min_offset() || logical >= self.max_offset() {
            // Not held (retention removed it, or recovery cut the queue shorter): nothing to
            // compare, and `put` would skip it too.
            return Ok(false);
        }
        match self.get(logical) {
            Some(held) if held == entry => Ok(false),
            Some(held) => {
                let byte = logical * CQ_ENTRY_SIZE as u64;
                let Some(file) = self.files.find(byte) else {
                    return Ok(false);
                };
                warn!(topic = %self.topic, queue_id = self.queue_id, logical, ?held, ?entry, "consume queue entry differs from its commit log record; rewritten");
                let pos = (byte - file.start()) as usize;
                file.ensure_allocated(pos + CQ_ENTRY_SIZE)?;
                file.write_at((byte - file.start()) as usize, &entry.encode());
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The entry at logical offset `n`.
    pub fn get(&self, n: u64) -> Option<CqEntry> {
        let byte = n * CQ_ENTRY_SIZE as u64;
        let file = self.files.find(byte)?;
        let raw = file.read((byte - file.start()) as usize, CQ_ENTRY_SIZE)?;
        Some(CqEntry::decode(raw))
    }

    /// Up to `max` entries from logical offset `from`, stopping at the end of the file holding it.
    pub fn range(&self, from: u64, max: usize) -> Vec<(u64, CqEntry)> {
        let byte = from * CQ_ENTRY_SIZE as u64;
        let Some(file) = self.files.find(byte) else {
            return Vec::new();
        };
        let pos = (byte - file.start()) as usize;
        let avail = file.wrote().saturating_sub(pos) / CQ_ENTRY_SIZE;
        let n = avail.min(max);
        let Some(raw) = file.read(pos, n * CQ_ENTRY_SIZE) else {
            return Vec::new();
        };
        raw.chunks_exact(CQ_ENTRY_SIZE)
            .enumerate()
            .map(|(i, c)| (from + i as u64, CqEntry::decode(c)))
            .collect()
    }

    /// Drops entries pointing at or past `phys_end` (the recovered end of the commit log).
    pub fn truncate_dirty(&self, phys_end: u64) -> Result<(), FileError> {
        let mut n = self.max_offset();
        while n > self.min_offset() {
            match self.get(n - 1) {
                Some(e)
                    if !e.is_blank() && e.commit_log_offset as u64 + e.size as u64 > phys_end =>
                {
                    n -= 1
                }
                _ => break,
            }
        }
        if n < self.max_offset() {
            warn!(topic = %self.topic, queue_id = self.queue_id, from = n, to = self.max_offset(), "consume queue entries past the commit log end removed");
            self.files.truncate(n * CQ_ENTRY_SIZE as u64)?;
        }
        let mut end = 0;
        if n > 0
            && let Some(e) = self.get(n - 1)
            && !e.is_blank()
        {
            end = e.commit_log_offset as u64 + e.size as u64;
        }
        self.max_physical_end
            .store(end.min(phys_end), Ordering::Release);
        Ok(())
    }

    /// Moves the minimum logical offset past entries that point below `min_phys` (retention).
    pub fn correct_min_offset(&self, min_phys: u64) {
        let mut n = self.min_offset();
        while n < self.max_offset() {
            match self.get(n) {
                Some(e) if e.is_blank() || (e.commit_log_offset as u64) < min_phys => n += 1,
                _ => break,
            }
        }
        self.min_logical.fetch_max(n, Ordering::AcqRel);
    }

    /// Deletes whole files whose entries all point below `min_phys`; never the last file.
    pub fn delete_expired(&self, min_phys: u64) -> Result<usize, FileError> {
        let mut deleted = 0;
        while self.files.len() > 1 {
            let Some(first) = self.files.first() else {
                break;
            };
            let last_pos = first.wrote().saturating_sub(CQ_ENTRY_SIZE);
            let Some(raw) = first.read(last_pos, CQ_ENTRY_SIZE) else {
                break;
            };
            let last = CqEntry::decode(raw);
            if last.is_blank() || (last.commit_log_offset as u64 + last.size as u64) <= min_phys {
                self.files.delete_first()?;
                deleted += 1;
            } else {
                break;
            }
        }
        self.correct_min_offset(min_phys);
        Ok(deleted)
    }

    /// Logical offset of the first message stored at or after `timestamp`, or the nearest one;
    /// `store_time` reads a record's store time by its commit log offset.
    pub fn offset_by_time(
        &self,
        timestamp: i64,
        store_time: impl Fn(i64, i32) -> Option<i64>,
    ) -> u64 {
        let (mut lo, mut hi) = (self.min_offset(), self.max_offset());
        if lo >= hi {
            return lo;
        }
        // Find the first entry whose store time is >= timestamp.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let t = self
                .get(mid)
                .and_then(|e| store_time(e.commit_log_offset, e.size));
            match t {
                Some(t) if t < timestamp => lo = mid + 1,
                Some(_) => hi = mid,
                None => lo = mid + 1,
            }
        }
        lo.min(self.max_offset().saturating_sub(1))
            .max(self.min_offset())
    }

    /// Flushes the queue's files.
    pub fn flush(&self) -> Result<(), FileError> {
        self.files.flush().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(dir: &std::path::Path, entries_per_file: usize) -> ConsumeQueue {
        ConsumeQueue::new(
            "T",
            0,
            FileQueue::open(dir, entries_per_file * CQ_ENTRY_SIZE).unwrap(),
        )
    }

    fn entry(offset: i64) -> CqEntry {
        CqEntry {
            commit_log_offset: offset,
            size: 100,
            tags_code: offset * 7,
        }
    }

    #[test]
    fn entries_are_twenty_bytes_big_endian() {
        let e = CqEntry {
            commit_log_offset: 0x0102,
            size: 0x03,
            tags_code: -1,
        };
        assert_eq!(
            e.encode(),
            [
                0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 255, 255, 255, 255, 255, 255, 255, 255
            ]
        );
        assert_eq!(CqEntry::decode(&e.encode()), e);
    }

    #[test]
    fn put_and_range_span_files_and_redispatch_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(dir.path(), 4);
        for i in 0..10 {
            q.put(i, entry(i as i64 * 100)).unwrap();
        }
        q.put(3, entry(300)).unwrap();
        assert_eq!(q.max_offset(), 10);
        assert_eq!(q.files().len(), 3);
        let got = q.range(2, 10);
        assert_eq!(got.len(), 2, "range stops at the end of the file");
        assert_eq!(got[0], (2, entry(200)));
        assert_eq!(q.get(9), Some(entry(900)));
        assert_eq!(q.get(10), None);
    }

    #[test]
    fn recover_finds_the_end_and_truncate_dirty_drops_entries_past_the_log_end() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = queue(dir.path(), 4);
            for i in 0..6 {
                q.put(i, entry(i as i64 * 100)).unwrap();
            }
            q.flush().unwrap();
        }
        let q = queue(dir.path(), 4);
        assert_eq!(q.recover(), 600);
        assert_eq!(q.max_offset(), 6);
        q.truncate_dirty(350).unwrap();
        assert_eq!(q.max_offset(), 3);
        assert_eq!(q.max_physical_end(), 300);
        q.put(3, entry(300)).unwrap();
        assert_eq!(q.get(3), Some(entry(300)));
    }

    #[test]
    fn an_implausible_queue_offset_writes_no_entry_and_fills_no_gap() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(dir.path(), 4);
        q.put(0, entry(0)).unwrap();
        // A negative offset (as u64) and one far past the end, as a damaged record carries.
        q.put(-1i64 as u64, entry(100)).unwrap();
        q.put(1_000_000_000, entry(200)).unwrap();
        assert_eq!(q.max_offset(), 1);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no file made for them"
        );
        q.put(1, entry(300)).unwrap();
        assert_eq!(q.get(1), Some(entry(300)));
    }

    #[test]
    fn a_queue_starting_late_is_prefilled_with_blanks() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(dir.path(), 4);
        q.put(5, entry(500)).unwrap();
        assert_eq!(q.max_offset(), 6);
        assert_eq!(q.min_offset(), 5);
        assert!(q.get(4).unwrap().is_blank());
    }

    #[test]
    fn offset_by_time_binary_searches_store_times() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(dir.path(), 100);
        for i in 0..50 {
            q.put(i, entry(i as i64 * 100)).unwrap();
        }
        // Store time of the record at offset o is 1000 + o.
        let store_time = |o: i64, _| Some(1000 + o);
        assert_eq!(q.offset_by_time(1000 + 1250, store_time), 13);
        assert_eq!(q.offset_by_time(0, store_time), 0);
        assert_eq!(q.offset_by_time(i64::MAX, store_time), 49);
    }

    #[test]
    fn deleting_expired_files_moves_the_min_offset() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(dir.path(), 4);
        for i in 0..10 {
            q.put(i, entry(i as i64 * 100)).unwrap();
        }
        assert_eq!(q.delete_expired(450).unwrap(), 1);
        assert_eq!(q.min_offset(), 5);
        assert_eq!(q.files().len(), 2);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn an_entry_decodes_to_what_was_encoded(
                offset in any::<i64>(), size in any::<i32>(), tags in any::<i64>(),
            ) {
                let e = CqEntry { commit_log_offset: offset, size, tags_code: tags };
                prop_assert_eq!(CqEntry::decode(&e.encode()), e);
            }

            /// Entries put across several small files read back in order, each at its logical
            /// offset, and survive a reopen.
            #[test]
            fn entries_put_across_files_read_back_and_recover(
                sizes in proptest::collection::vec(1i32..5000, 1..40),
                tags in any::<i64>(),
            ) {
                let dir = tempfile::tempdir().unwrap();
                let mut phys = 0i64;
                let mut put = Vec::new();
                {
                    let q = queue(dir.path(), 4);
                    for (n, size) in sizes.iter().enumerate() {
                        let e = CqEntry { commit_log_offset: phys, size: *size, tags_code: tags ^ n as i64 };
                        q.put(n as u64, e).unwrap();
                        put.push(e);
                        phys += i64::from(*size);
                    }
                    prop_assert_eq!(q.max_offset(), sizes.len() as u64);
                    // `range` stops at a file's end: read on as the pull path does.
                    let mut read = Vec::new();
                    while (read.len() as u64) < q.max_offset() {
                        let chunk = q.range(read.len() as u64, usize::MAX);
                        prop_assert!(!chunk.is_empty());
                        for (n, e) in chunk {
                            prop_assert_eq!(n, read.len() as u64);
                            read.push(e);
                        }
                    }
                    prop_assert_eq!(&read, &put);
                    q.flush().unwrap();
                }
                let reopened = queue(dir.path(), 4);
                reopened.recover();
                prop_assert_eq!(reopened.max_offset(), sizes.len() as u64);
                for (n, e) in put.iter().enumerate() {
                    prop_assert_eq!(reopened.get(n as u64), Some(*e));
                }
            }
        }
    }
}
