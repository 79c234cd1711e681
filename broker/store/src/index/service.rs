//! The directory of index files (Apache's `IndexService`): dispatch of records into the newest
//! file, rollover when it is full, queries across files, flush, and deletion.
//!
//! Locking: `writer` serialises puts, rollover and discards (one writer per file, as
//! [`IndexFile`] requires); `files` is held only long enough to copy or change the list, so a
//! query walks a snapshot of `Arc`s and never waits for the writer. A deleted file stays mapped
//! until the last query holding it finishes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rmq_protocol::message::hash::index_key_hash;
use tracing::{info, warn};

use super::file::{Found, IndexFile};
use super::{build_key, index_file_name, key_hash, parse_index_file_name};
use crate::dispatch::DispatchRequest;
use crate::error::{FileError, IndexError};
use crate::mapped_file::sync_dir;

/// Largest file the format can address: item positions are Java ints.
const MAX_FILE_SIZE: u64 = i32::MAX as u64;

/// The index files of a store, oldest first.
#[derive(Debug)]
pub struct IndexService {
    dir: PathBuf,
    slot_num: u32,
    max_index_num: u32,
    files: RwLock<Vec<Arc<IndexFile>>>,
    writer: Mutex<Writer>,
}

#[derive(Debug)]
struct Writer {
    /// Physical offset of the last record indexed; records at or below it are skipped.
    watermark: Option<i64>,
}

impl IndexService {
    /// Opens (creating if missing) the index directory `dir` and loads its files in name order.
    /// Files whose name is not a `yyyyMMddHHmmssSSS` time are ignored with a warning; a file of
    /// the wrong size (a different `maxHashSlotNum`/`maxIndexNum`) stops the open.
    pub fn open(
        dir: &Path,
        max_hash_slot_num: u32,
        max_index_num: u32,
    ) -> Result<Self, IndexError> {
        let invalid = |reason| IndexError::InvalidSize {
            max_hash_slot_num,
            max_index_num,
            reason,
        };
        if max_hash_slot_num == 0 {
            return Err(invalid("at least one hash slot is needed"));
        }
        if max_index_num < 2 {
            return Err(invalid("index 0 is unused, so at least 2 items are needed"));
        }
        if IndexFile::file_size(max_hash_slot_num, max_index_num) as u64 > MAX_FILE_SIZE {
            return Err(invalid(
                "the file would exceed 2 GiB, beyond Java int positions",
            ));
        }
        fs::create_dir_all(dir).map_err(|source| IndexError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let list_err = |source| FileError::ListDir {
            path: dir.to_path_buf(),
            source,
        };
        let mut named = Vec::new();
        for entry in fs::read_dir(dir).map_err(list_err)? {
            let entry = entry.map_err(list_err)?;
            match entry.file_name().to_str().and_then(parse_index_file_name) {
                Some(millis) => named.push((entry.file_name(), millis, entry.path())),
                None => {
                    warn!(path = %entry.path().display(), "ignoring a file that is not named by a time")
                }
            }
        }
        named.sort();
        let mut files = Vec::with_capacity(named.len());
        for (_, millis, path) in named {
            let file = IndexFile::open(&path, millis, max_hash_slot_num, max_index_num)?;
            info!(path = %path.display(), items = file.item_count(), "loaded index file");
            files.push(Arc::new(file));
        }
        let watermark = files.last().and_then(|f| watermark_of(f));
        Ok(IndexService {
            dir: dir.to_path_buf(),
            slot_num: max_hash_slot_num,
            max_index_num,
            files: RwLock::new(files),
            writer: Mutex::new(Writer { watermark }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Indexes one dispatched record under `topic#UNIQ_KEY` and `topic#k` for each
    /// space-separated key of `keys`. A record at or below the dispatch watermark (the last
    /// indexed physical offset) was indexed before and is skipped, so re-dispatching after
    /// recovery adds nothing twice. Returns whether the record was indexed. The caller leaves out
    /// rolled-back transaction records, as Apache does.
    pub fn dispatch(
        &self,
        topic: &str,
        keys: Option<&str>,
        uniq_key: Option<&str>,
        phys_offset: i64,
        store_timestamp: i64,
    ) -> Result<bool, IndexError> {
        let mut writer = self.lock_writer();
        if writer.watermark.is_some_and(|w| phys_offset <= w) {
            return Ok(false);
        }
        if let Some(uniq) = uniq_key {
            self.put_locked(
                &mut writer,
                key_hash(topic, uniq),
                phys_offset,
                store_timestamp,
            )?;
        }
        for key in keys.unwrap_or("").split(' ').filter(|k| !k.is_empty()) {
            self.put_locked(
                &mut writer,
                key_hash(topic, key),
                phys_offset,
                store_timestamp,
            )?;
        }
        writer.watermark = Some(writer.watermark.map_or(phys_offset, |w| w.max(phys_offset)));
        Ok(true)
    }

    /// Indexes the record `req` describes (Apache's `buildIndex`): [`Self::dispatch`] with its
    /// topic, keys, unique key, physical offset and store timestamp.
    pub fn build_index(&self, req: &DispatchRequest<'_>) -> Result<bool, IndexError> {
        self.dispatch(
            req.topic,
            req.keys,
            req.uniq_key,
            req.commit_log_offset,
            req.store_timestamp,
        )
    }

    /// Files one already built key (`topic#key`), rolling to a new file when the last is full.
    pub fn put(&self, key: &str, phys_offset: i64, store_timestamp: i64) -> Result<(), IndexError> {
        let mut writer = self.lock_writer();
        self.put_locked(
            &mut writer,
            index_key_hash(key),
            phys_offset,
            store_timestamp,
        )?;
        writer.watermark = Some(writer.watermark.map_or(phys_offset, |w| w.max(phys_offset)));
        Ok(())
    }

    /// Offsets of records filed under `topic#key` stored within `[begin_timestamp,
    /// end_timestamp]` (ms, seconds precision), newest first, each once, at most `max_num`.
    /// Candidates only: keys that share a hash are returned too, so check the record's keys.
    pub fn query(
        &self,
        topic: &str,
        key: &str,
        max_num: usize,
        begin_timestamp: i64,
        end_timestamp: i64,
    ) -> Vec<i64> {
        let key = build_key(topic, key);
        let mut found = Found::new(max_num);
        for file in self.files().iter().rev() {
            if found.is_full() {
                break;
            }
            if file.is_time_matched(begin_timestamp, end_timestamp) {
                file.select(&key, begin_timestamp, end_timestamp, &mut found);
            }
            // Older files end before this one begins.
            if file.header().begin_timestamp < begin_timestamp {
                break;
            }
        }
        found.into_offsets()
    }

    /// Fdatasyncs every file with items added since its last flush, and returns the store
    /// timestamp of the newest item now on disk (0 when there is none), for the checkpoint's
    /// index timestamp.
    pub fn flush(&self) -> Result<i64, IndexError> {
        let files = self.files();
        // IMPORTANT: read before the syncs, so the timestamp returned is covered by them even if
        // items are added meanwhile.
        let end_timestamp = files.last().map_or(0, |f| f.header().end_timestamp);
        for file in &files {
            file.flush()?;
        }
        Ok(end_timestamp)
    }

    /// Deletes whole files, oldest first, whose last indexed physical offset is below
    /// `min_phys_offset` (their records are gone from the commit log). The newest file is never
    /// deleted. Returns how many were deleted.
    pub fn delete_files_below(&self, min_phys_offset: i64) -> Result<usize, IndexError> {
        let mut files = write(&self.files);
        let mut deleted = 0;
        while files.len() > 1 && files[0].header().end_phy_offset < min_phys_offset {
            let file = files.remove(0);
            info!(path = %file.path().display(), min_phys_offset, "deleting index file below the commit log's minimum offset");
            fs::remove_file(file.path()).map_err(|source| FileError::Delete {
                path: file.path().to_path_buf(),
                source,
            })?;
            deleted += 1;
        }
        drop(files);
        if deleted > 0 {
            self.sync_dir()?;
        }
        Ok(deleted)
    }

    /// After a crash: deletes the files holding items stored after `index_timestamp` (the
    /// checkpoint's index timestamp; anything later may not have reached the disk whole), newest
    /// first, as Apache's `IndexService.load(lastExitOK = false)` does, and moves the dispatch
    /// watermark back to what the remaining files hold. Recovery then re-dispatches from the
    /// commit log. Returns how many files were deleted.
    pub fn discard_newer_than(&self, index_timestamp: i64) -> Result<usize, IndexError> {
        let mut writer = self.lock_writer();
        let mut files = write(&self.files);
        let mut deleted = 0;
        while files
            .last()
            .is_some_and(|f| f.header().end_timestamp > index_timestamp)
        {
            if let Some(file) = files.pop() {
                warn!(path = %file.path().display(), index_timestamp, "deleting index file newer than the checkpoint");
                fs::remove_file(file.path()).map_err(|source| FileError::Delete {
                    path: file.path().to_path_buf(),
                    source,
                })?;
                deleted += 1;
            }
        }
        writer.watermark = files.last().and_then(|f| watermark_of(f));
        drop(files);
        if deleted > 0 {
            self.sync_dir()?;
        }
        Ok(deleted)
    }

    /// Sets the dispatch watermark: records at physical offsets above `last_indexed` are indexed
    /// again (`None`: every record). For recovery when the commit log was truncated below what
    /// the index holds; items of the truncated records stay in the files, which is harmless
    /// because queries return candidates that the caller checks.
    pub fn reset_dispatch_watermark(&self, last_indexed: Option<i64>) {
        self.lock_writer().watermark = last_indexed;
    }

    /// The physical offset of the last record indexed, if any.
    pub fn dispatch_watermark(&self) -> Option<i64> {
        self.lock_writer().watermark
    }

    /// `(endTimestamp, endPhyOffset)` of the newest file, `(0, 0)` without files; Apache returns
    /// them with every query as `indexLastUpdateTimestamp`/`indexLastUpdatePhyoffset`.
    pub fn last_update(&self) -> (i64, i64) {
        read(&self.files).last().map_or((0, 0), |f| {
            let header = f.header();
            (header.end_timestamp, header.end_phy_offset)
        })
    }

    /// A snapshot of the files, oldest first.
    pub fn files(&self) -> Vec<Arc<IndexFile>> {
        read(&self.files).clone()
    }

    fn put_locked(
        &self,
        _writer: &mut MutexGuard<'_, Writer>,
        key_hash: i32,
        phys_offset: i64,
        store_timestamp: i64,
    ) -> Result<(), IndexError> {
        let last = read(&self.files).last().cloned();
        if let Some(file) = &last
            && file.put_hash(key_hash, phys_offset, store_timestamp)
        {
            return Ok(());
        }
        let file = self.roll(last.as_deref())?;
        if file.put_hash(key_hash, phys_offset, store_timestamp) {
            Ok(())
        } else {
            // Unreachable: a new file has room for max_index_num - 1 >= 1 items (checked at open).
            Err(IndexError::InvalidSize {
                max_hash_slot_num: self.slot_num,
                max_index_num: self.max_index_num,
                reason: "a new file has no room for an item",
            })
        }
    }

    /// Creates the file after `full` (the writer lock is held by the caller).
    fn roll(&self, full: Option<&IndexFile>) -> Result<Arc<IndexFile>, IndexError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        // Names must increase even when files fill up within one millisecond.
        let millis = full.map_or(now, |f| now.max(f.created_millis() + 1));
        let carry = full.map(|f| {
            let header = f.header();
            (header.end_timestamp, header.end_phy_offset)
        });
        if let Some(full) = full {
            info!(path = %full.path().display(), "index file is full, rolling to a new one");
        }
        let file = Arc::new(IndexFile::create(
            &self.dir,
            &index_file_name(millis),
            millis,
            self.slot_num,
            self.max_index_num,
            carry,
        )?);
        write(&self.files).push(Arc::clone(&file));
        Ok(file)
    }

    fn sync_dir(&self) -> Result<(), IndexError> {
        // IMPORTANT: deletions must be durable before the checkpoint or commit log moves on, or a
        // crash could bring back files that point at deleted records.
        sync_dir(&self.dir).map_err(|source| {
            IndexError::File(FileError::Sync {
                path: self.dir.clone(),
                source,
            })
        })
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The dispatch watermark a file implies: its last physical offset, once it holds an item or
/// carries the end of a full predecessor. The last record of a full file may have filed only some
/// of its keys there, the rest going to a next file that a crash (or recovery's discard) left
/// out; and a file that only carries its predecessor's end may not yet hold the rest of that
/// record's keys. Both leave the watermark just below that record, so it is indexed again (the
/// keys it already has are filed twice, which queries return once).
fn watermark_of(file: &IndexFile) -> Option<i64> {
    let header = file.header();
    let straddles = file.is_full() || header.index_count <= 1;
    (header.index_count > 1 || header.end_phy_offset > 0).then(|| {
        if straddles {
            header.end_phy_offset - 1
        } else {
            header.end_phy_offset
        }
    })
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
