//! One index file (Apache's `IndexFile` + `IndexHeader`); the byte layout is in the [module
//! docs](super).
//!
//! Concurrency contract: one writer at a time (the [`IndexService`](super::IndexService) holds its
//! writer lock around [`IndexFile::put`]) and any number of concurrent [`IndexFile::select`]
//! callers. Items are written once and never changed. The writer copies an item's 20 bytes, then
//! publishes the new `indexCount` and finally the bucket's slot with release stores; a reader
//! loads the slot and then the count with acquire loads, so every item it can reach is complete.
//! Readers take the header from in-memory atomics, never from the mapping, which the writer
//! rewrites on each put.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};

use rmq_protocol::message::hash::index_key_hash;

use crate::error::FileError;
use crate::mapped_file::MappedFile;

/// Bytes of the header.
pub const HEADER_SIZE: usize = 40;
/// Bytes of one hash slot.
pub const SLOT_SIZE: usize = 4;
/// Bytes of one item.
pub const ITEM_SIZE: usize = 20;

/// The 40-byte header of an index file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexHeader {
    /// Store timestamp (ms) of the first item; for a file rolled from a full one, the previous
    /// file's end until the first item arrives.
    pub begin_timestamp: i64,
    /// Store timestamp (ms) of the last item.
    pub end_timestamp: i64,
    /// Physical (commit log) offset of the first item.
    pub begin_phy_offset: i64,
    /// Physical offset of the last item.
    pub end_phy_offset: i64,
    /// Number of buckets that are not empty.
    pub hash_slot_count: i32,
    /// Index of the next item; 1 when the file is empty.
    pub index_count: i32,
}

impl IndexHeader {
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[0..8].copy_from_slice(&self.begin_timestamp.to_be_bytes());
        out[8..16].copy_from_slice(&self.end_timestamp.to_be_bytes());
        out[16..24].copy_from_slice(&self.begin_phy_offset.to_be_bytes());
        out[24..32].copy_from_slice(&self.end_phy_offset.to_be_bytes());
        out[32..36].copy_from_slice(&self.hash_slot_count.to_be_bytes());
        out[36..40].copy_from_slice(&self.index_count.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8; HEADER_SIZE]) -> Self {
        IndexHeader {
            begin_timestamp: be_i64(bytes, 0),
            end_timestamp: be_i64(bytes, 8),
            begin_phy_offset: be_i64(bytes, 16),
            end_phy_offset: be_i64(bytes, 24),
            hash_slot_count: be_i32(bytes, 32),
            index_count: be_i32(bytes, 36),
        }
    }
}

/// One 20-byte item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexItem {
    pub key_hash: i32,
    pub phy_offset: i64,
    /// Seconds since the header's `begin_timestamp`.
    pub time_diff: i32,
    /// The previous (older) item of the same bucket, 0 = none.
    pub prev_index: i32,
}

impl IndexItem {
    pub fn encode(&self) -> [u8; ITEM_SIZE] {
        let mut out = [0u8; ITEM_SIZE];
        out[0..4].copy_from_slice(&self.key_hash.to_be_bytes());
        out[4..12].copy_from_slice(&self.phy_offset.to_be_bytes());
        out[12..16].copy_from_slice(&self.time_diff.to_be_bytes());
        out[16..20].copy_from_slice(&self.prev_index.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8; ITEM_SIZE]) -> Self {
        IndexItem {
            key_hash: be_i32(bytes, 0),
            phy_offset: be_i64(bytes, 4),
            time_diff: be_i32(bytes, 12),
            prev_index: be_i32(bytes, 16),
        }
    }
}

/// Offsets found by a query: newest first, each once, at most `max`.
#[derive(Debug)]
pub struct Found {
    max: usize,
    offsets: Vec<i64>,
    seen: HashSet<i64>,
}

impl Found {
    pub fn new(max: usize) -> Self {
        Found {
            max,
            offsets: Vec::new(),
            seen: HashSet::new(),
        }
    }
    pub fn is_full(&self) -> bool {
        self.offsets.len() >= self.max
    }
    fn push(&mut self, offset: i64) {
        if self.seen.insert(offset) {
            self.offsets.push(offset);
        }
    }
    pub fn into_offsets(self) -> Vec<i64> {
        self.offsets
    }
}

/// One memory-mapped index file.
#[derive(Debug)]
pub struct IndexFile {
    map: MappedFile,
    created_millis: i64,
    slot_num: u32,
    max_index_num: u32,
    begin_timestamp: AtomicI64,
    end_timestamp: AtomicI64,
    begin_phy_offset: AtomicI64,
    end_phy_offset: AtomicI64,
    hash_slot_count: AtomicI32,
    index_count: AtomicI32,
    /// `index_count` covered by the last fdatasync.
    flushed_count: AtomicI32,
}

impl IndexFile {
    /// Bytes of a file with `slot_num` slots and `max_index_num` items.
    pub fn file_size(slot_num: u32, max_index_num: u32) -> usize {
        HEADER_SIZE + slot_num as usize * SLOT_SIZE + max_index_num as usize * ITEM_SIZE
    }

    /// Creates the empty file `name` in `dir`. A file rolled from a full one starts with the
    /// previous file's `(end_timestamp, end_phy_offset)` as its begin and end, as Apache does, so
    /// that the time range and the dispatch watermark carry over until the first item.
    pub fn create(
        dir: &Path,
        name: &str,
        created_millis: i64,
        slot_num: u32,
        max_index_num: u32,
        carry: Option<(i64, i64)>,
    ) -> Result<Self, FileError> {
        let map = MappedFile::create_named(dir, name, 0, Self::file_size(slot_num, max_index_num))?;
        // Hash slots are written and read at random: with readahead, each first touch of the
        // unwritten preallocation zero-filled a whole window (a tenth of a recovery's time when
        // it rebuilt the index).
        map.advise_random();
        map.mark_full();
        let mut header = IndexHeader::default();
        if let Some((end_timestamp, end_phy_offset)) = carry {
            // Apache writes only the fields it sets here and leaves the counts at 0 until the
            // first put, so the bytes of a fresh file match its.
            if end_phy_offset > 0 {
                header.begin_phy_offset = end_phy_offset;
                header.end_phy_offset = end_phy_offset;
            }
            if end_timestamp > 0 {
                header.begin_timestamp = end_timestamp;
                header.end_timestamp = end_timestamp;
            }
            map.write_at(0, &header.encode());
        }
        header.index_count = 1;
        // Nothing is flushed: the carried header must reach the disk at the next flush.
        Ok(Self::with_header(
            map,
            created_millis,
            slot_num,
            max_index_num,
            header,
            0,
        ))
    }

    /// Opens an existing file and loads its header (a count of 0 or less means empty, as in
    /// Apache; a count beyond the capacity, from a damaged header, is treated as full).
    pub fn open(
        path: &Path,
        created_millis: i64,
        slot_num: u32,
        max_index_num: u32,
    ) -> Result<Self, FileError> {
        let map = MappedFile::open(path, 0, Self::file_size(slot_num, max_index_num))?;
        // See `create`.
        map.advise_random();
        map.mark_full();
        let mut header = map
            .read(0, HEADER_SIZE)
            .and_then(|b| <&[u8; HEADER_SIZE]>::try_from(b).ok())
            .map(IndexHeader::decode)
            .unwrap_or_default();
        let max = i32::try_from(max_index_num).unwrap_or(i32::MAX);
        header.index_count = header.index_count.clamp(1, max);
        let count = header.index_count;
        Ok(Self::with_header(
            map,
            created_millis,
            slot_num,
            max_index_num,
            header,
            count,
        ))
    }

    fn with_header(
        map: MappedFile,
        created_millis: i64,
        slot_num: u32,
        max_index_num: u32,
        header: IndexHeader,
        flushed_count: i32,
    ) -> Self {
        IndexFile {
            map,
            created_millis,
            slot_num,
            max_index_num,
            begin_timestamp: AtomicI64::new(header.begin_timestamp),
            end_timestamp: AtomicI64::new(header.end_timestamp),
            begin_phy_offset: AtomicI64::new(header.begin_phy_offset),
            end_phy_offset: AtomicI64::new(header.end_phy_offset),
            hash_slot_count: AtomicI32::new(header.hash_slot_count),
            index_count: AtomicI32::new(header.index_count),
            flushed_count: AtomicI32::new(flushed_count),
        }
    }

    pub fn path(&self) -> &Path {
        self.map.path()
    }

    /// Creation time the file name encodes (ms since the epoch).
    pub fn created_millis(&self) -> i64 {
        self.created_millis
    }

    /// The header as last published (not read from the mapping).
    pub fn header(&self) -> IndexHeader {
        IndexHeader {
            begin_timestamp: self.begin_timestamp.load(Ordering::Acquire),
            end_timestamp: self.end_timestamp.load(Ordering::Acquire),
            begin_phy_offset: self.begin_phy_offset.load(Ordering::Acquire),
            end_phy_offset: self.end_phy_offset.load(Ordering::Acquire),
            hash_slot_count: self.hash_slot_count.load(Ordering::Acquire),
            index_count: self.index_count.load(Ordering::Acquire),
        }
    }

    /// Number of items held.
    pub fn item_count(&self) -> usize {
        usize::try_from(self.index_count.load(Ordering::Acquire) - 1).unwrap_or(0)
    }

    /// True once the file holds `max_index_num - 1` items (Apache: `indexCount >= indexNum`).
    pub fn is_full(&self) -> bool {
        i64::from(self.index_count.load(Ordering::Acquire)) >= i64::from(self.max_index_num)
    }

    /// Files `key` for the record at `phy_offset` stored at `store_timestamp` (ms). Returns false
    /// when the file is full. Only one thread may call this at a time (see the module contract).
    pub fn put(&self, key: &str, phy_offset: i64, store_timestamp: i64) -> bool {
        self.put_hash(index_key_hash(key), phy_offset, store_timestamp)
    }

    /// [`IndexFile::put`] with the key's hash already computed (see [`super::key_hash`]).
    pub fn put_hash(&self, key_hash: i32, phy_offset: i64, store_timestamp: i64) -> bool {
        let count = self.index_count.load(Ordering::Relaxed);
        if self.is_full() || count < 1 {
            return false;
        }
        let slot_pos = self.slot_pos(key_hash);
        // The writer is the only one storing slots, so a relaxed load sees its own last store.
        let newest = self.map.load_i32(slot_pos, Ordering::Relaxed).unwrap_or(0);
        // A slot pointing at or past the next index is garbage from a torn crash: start afresh.
        let prev_index = if newest <= 0 || newest >= count {
            0
        } else {
            newest
        };

        let first = count <= 1;
        let begin_timestamp = if first {
            store_timestamp
        } else {
            self.begin_timestamp.load(Ordering::Relaxed)
        };
        // Apache computes the first item's diff against the carried-over begin of a rolled file
        // and only then moves begin to the item's time, which makes that item look later than it
        // is; measuring against the begin the header ends up with keeps the format and fixes that.
        let time_diff = if begin_timestamp <= 0 {
            0
        } else {
            ((store_timestamp - begin_timestamp) / 1000).clamp(0, i64::from(i32::MAX)) as i32
        };
        let item = IndexItem {
            key_hash,
            phy_offset,
            time_diff,
            prev_index,
        };
        self.map.write_at(self.item_pos(count), &item.encode());

        if first {
            self.begin_phy_offset.store(phy_offset, Ordering::Release);
            self.begin_timestamp
                .store(store_timestamp, Ordering::Release);
        }
        if prev_index == 0 {
            self.hash_slot_count.fetch_add(1, Ordering::AcqRel);
        }
        self.end_phy_offset.store(phy_offset, Ordering::Release);
        self.end_timestamp.store(store_timestamp, Ordering::Release);
        let mut header = self.header();
        header.index_count = count + 1;
        self.map.write_at(0, &header.encode());
        // IMPORTANT: publish order. The item bytes above, then the count, then the slot, each
        // with release semantics: a reader that acquires the new slot value also sees the new
        // count (so the item passes its bounds check) and the complete item.
        self.index_count.store(count + 1, Ordering::Release);
        self.map.store_i32(slot_pos, count, Ordering::Release);
        true
    }

    /// Apache's `isTimeMatched`: whether `[begin, end]` overlaps the file's time range.
    pub fn is_time_matched(&self, begin: i64, end: i64) -> bool {
        let (first, last) = (
            self.begin_timestamp.load(Ordering::Acquire),
            self.end_timestamp.load(Ordering::Acquire),
        );
        (begin < first && end > last)
            || (begin >= first && begin <= last)
            || (end >= first && end <= last)
    }

    /// Walks the bucket of `key` from its newest item and adds the offsets of items with the
    /// key's hash stored within `[begin, end]` (ms) to `found`, until it is full. The walk stops
    /// at the first item older than `begin` (items of a bucket are in dispatch order).
    pub fn select(&self, key: &str, begin: i64, end: i64, found: &mut Found) {
        let key_hash = index_key_hash(key);
        let newest = self
            .map
            .load_i32(self.slot_pos(key_hash), Ordering::Acquire)
            .unwrap_or(0);
        let count = self.index_count.load(Ordering::Acquire);
        let begin_timestamp = self.begin_timestamp.load(Ordering::Acquire);
        if newest <= 0 || newest >= count {
            return;
        }
        let mut index = newest;
        while !found.is_full() {
            let Some(item) = self.item(index) else {
                break;
            };
            if item.time_diff < 0 {
                break;
            }
            // Saturating: the header and items are read from disk and may be anything.
            let stored_at = begin_timestamp.saturating_add(i64::from(item.time_diff) * 1000);
            if item.key_hash == key_hash && stored_at >= begin && stored_at <= end {
                found.push(item.phy_offset);
            }
            // Chains only point backwards; anything else is damage, and stopping there also
            // guarantees the walk ends.
            if item.prev_index <= 0 || item.prev_index >= index || stored_at < begin {
                break;
            }
            index = item.prev_index;
        }
    }

    /// The item at `index`, if it lies inside the file.
    pub fn item(&self, index: i32) -> Option<IndexItem> {
        let index = usize::try_from(index).ok()?;
        if index == 0 || index >= self.max_index_num as usize {
            return None;
        }
        let bytes = self.map.read(self.item_pos_usize(index), ITEM_SIZE)?;
        Some(IndexItem::decode(bytes.try_into().ok()?))
    }

    /// The newest item index of a bucket (0 = empty).
    pub fn slot(&self, slot: u32) -> i32 {
        if slot >= self.slot_num {
            return 0;
        }
        self.map
            .load_i32(HEADER_SIZE + slot as usize * SLOT_SIZE, Ordering::Acquire)
            .unwrap_or(0)
    }

    /// Fdatasyncs the file if items were added since the last flush.
    pub fn flush(&self) -> Result<(), FileError> {
        let count = self.index_count.load(Ordering::Acquire);
        if count > self.flushed_count.load(Ordering::Acquire) {
            // IMPORTANT: `count` is read before the sync, so only items the sync covers are
            // recorded as flushed.
            self.map.sync_data()?;
            self.flushed_count.fetch_max(count, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Whether the file has items (or a carried header) that no flush has covered yet.
    pub fn has_unflushed(&self) -> bool {
        self.index_count.load(Ordering::Acquire) > self.flushed_count.load(Ordering::Acquire)
    }

    fn slot_pos(&self, key_hash: i32) -> usize {
        // key_hash is never negative (`index_key_hash`), so the modulo is Java's.
        HEADER_SIZE + (key_hash.unsigned_abs() % self.slot_num) as usize * SLOT_SIZE
    }

    fn item_pos(&self, index: i32) -> usize {
        self.item_pos_usize(usize::try_from(index).unwrap_or(0))
    }

    fn item_pos_usize(&self, index: usize) -> usize {
        HEADER_SIZE + self.slot_num as usize * SLOT_SIZE + index * ITEM_SIZE
    }
}

fn be_i64(bytes: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    i64::from_be_bytes(b)
}

fn be_i32(bytes: &[u8], at: usize) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    i32::from_be_bytes(b)
}

#[cfg(test)]
mod tests;
