//! A directory of equally sized mapped files that together form one logical byte sequence.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tracing::{info, warn};

use crate::error::FileError;
use crate::mapped_file::{self, Allocation, MappedFile, parse_file_name};

/// The files of one queue (the commit log, or one consume queue).
#[derive(Debug)]
pub struct FileQueue {
    dir: PathBuf,
    file_size: usize,
    allocation: Allocation,
    files: RwLock<Vec<Arc<MappedFile>>>,
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FileQueue {
    /// Opens every file in `dir` (created if missing). Files of the wrong size are a sign of a
    /// foreign or damaged directory and stop the open; non-contiguous names too.
    pub fn open(dir: &Path, file_size: usize) -> Result<Self, FileError> {
        fs::create_dir_all(dir).map_err(|source| FileError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut starts = Vec::new();
        let entries = fs::read_dir(dir).map_err(|source| FileError::ListDir {
            path: dir.to_path_buf(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| FileError::ListDir {
                path: dir.to_path_buf(),
                source,
            })?;
            let name = entry.file_name();
            match name.to_str().and_then(parse_file_name) {
                Some(start) => starts.push((start, entry.path())),
                None => {
                    warn!(path = %entry.path().display(), "ignoring a file that is not named by an offset")
                }
            }
        }
        starts.sort();
        // A crash while a new file was being created (named, not yet preallocated and synced)
        // leaves a short last file. Nothing in it can have been acknowledged, because appends
        // into a file wait for its creation to be durable, so it is removed.
        if let Some((_, path)) = starts.last()
            && fs::metadata(path)
                .map(|m| m.len() != file_size as u64)
                .unwrap_or(false)
        {
            warn!(path = %path.display(), "removing a half-created last file left by a crash");
            fs::remove_file(path).map_err(|source| FileError::Delete {
                path: path.clone(),
                source,
            })?;
            starts.pop();
        }
        let mut files = Vec::with_capacity(starts.len());
        let mut expected: Option<u64> = None;
        for (start, path) in starts {
            if let Some(expected) = expected
                && start != expected
            {
                return Err(FileError::Gap {
                    dir: dir.to_path_buf(),
                    path,
                    start,
                    expected,
                });
            }
            let file = MappedFile::open(&path, start, file_size)?;
            expected = Some(file.end());
            files.push(Arc::new(file));
        }
        Ok(FileQueue {
            dir: dir.to_path_buf(),
            file_size,
            allocation: Allocation::Preallocated,
            files: RwLock::new(files),
        })
    }

    /// [`FileQueue::open`] for a queue whose new files are sparse ([`Allocation::Sparse`]).
    pub fn open_sparse(dir: &Path, file_size: usize) -> Result<Self, FileError> {
        let mut queue = Self::open(dir, file_size)?;
        queue.allocation = Allocation::Sparse;
        for file in read_lock(&queue.files).iter() {
            file.advise_random();
        }
        Ok(queue)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn file_size(&self) -> usize {
        self.file_size
    }

    /// A snapshot of the files, oldest first.
    pub fn files(&self) -> Vec<Arc<MappedFile>> {
        read_lock(&self.files).clone()
    }

    pub fn is_empty(&self) -> bool {
        read_lock(&self.files).is_empty()
    }

    pub fn first(&self) -> Option<Arc<MappedFile>> {
        read_lock(&self.files).first().cloned()
    }

    pub fn last(&self) -> Option<Arc<MappedFile>> {
        read_lock(&self.files).last().cloned()
    }

    /// Smallest offset still held (start of the oldest file), or 0 when empty.
    pub fn min_offset(&self) -> u64 {
        self.first().map_or(0, |f| f.start())
    }

    /// Offset one past the last written byte.
    pub fn max_offset(&self) -> u64 {
        self.last().map_or(0, |f| f.start() + f.wrote() as u64)
    }

    /// Offset one past the last flushed byte.
    pub fn flushed_offset(&self) -> u64 {
        self.last().map_or(0, |f| f.start() + f.flushed() as u64)
    }

    /// The file holding `offset`.
    pub fn find(&self, offset: u64) -> Option<Arc<MappedFile>> {
        let files = read_lock(&self.files);
        let first = files.first()?.start();
        if offset < first {
            return None;
        }
        let idx = ((offset - first) / self.file_size as u64) as usize;
        files.get(idx).filter(|f| offset < f.end()).cloned()
    }

    /// The last file if it has room, else a new file after it (or at `start_if_empty`).
    pub fn last_or_create(&self, start_if_empty: u64) -> Result<Arc<MappedFile>, FileError> {
        if let Some(last) = self.last()
            && !last.is_full()
        {
            return Ok(last);
        }
        self.create_next(start_if_empty)
    }

    /// Creates the file after the last one (or at `start_if_empty`).
    pub fn create_next(&self, start_if_empty: u64) -> Result<Arc<MappedFile>, FileError> {
        let mut files = write_lock(&self.files);
        let start = files.last().map_or(start_if_empty, |f| f.end());
        let file = Arc::new(match self.allocation {
            Allocation::Preallocated => MappedFile::create(&self.dir, start, self.file_size)?,
            Allocation::Sparse => MappedFile::create_sparse(&self.dir, start, self.file_size)?,
        });
        files.push(Arc::clone(&file));
        Ok(file)
    }

    /// Flushes every file with unflushed bytes, oldest first; returns the flushed end offset.
    pub fn flush(&self) -> Result<u64, FileError> {
        let files = self.files();
        for f in &files {
            if f.flushed() < f.wrote() {
                f.flush()?;
            }
        }
        Ok(files.last().map_or(0, |f| f.start() + f.flushed() as u64))
    }

    /// Bytes written but not yet flushed.
    pub fn unflushed_bytes(&self) -> u64 {
        self.max_offset().saturating_sub(self.flushed_offset())
    }

    /// Drops everything at and after `offset`: later files are deleted, the file holding it is
    /// cut there. Used by recovery.
    pub fn truncate(&self, offset: u64) -> Result<(), FileError> {
        let mut files = write_lock(&self.files);
        while files.last().is_some_and(|f| f.start() >= offset) {
            if let Some(last) = files.pop() {
                info!(path = %last.path().display(), "deleting a file past the recovered end");
                fs::remove_file(last.path()).map_err(|source| FileError::Delete {
                    path: last.path().to_path_buf(),
                    source,
                })?;
            }
        }
        if let Some(last) = files.last()
            && offset < last.end()
        {
            last.truncate_to((offset - last.start()) as usize);
        }
        drop(files);
        // IMPORTANT: the deletions must be durable before new files reuse these names.
        mapped_file::sync_dir(&self.dir).map_err(|source| FileError::Sync {
            path: self.dir.clone(),
            source,
        })?;
        Ok(())
    }

    /// Removes the oldest file from the queue and deletes it from disk. Readers holding slices of
    /// it keep the mapping alive until they drop them.
    pub fn delete_first(&self) -> Result<Option<Arc<MappedFile>>, FileError> {
        let mut files = write_lock(&self.files);
        if files.is_empty() {
            return Ok(None);
        }
        let first = files.remove(0);
        fs::remove_file(first.path()).map_err(|source| FileError::Delete {
            path: first.path().to_path_buf(),
            source,
        })?;
        drop(files);
        mapped_file::sync_dir(&self.dir).map_err(|source| FileError::Sync {
            path: self.dir.clone(),
            source,
        })?;
        Ok(Some(first))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        read_lock(&self.files).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_locates_the_file_holding_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let q = FileQueue::open(dir.path(), 100).unwrap();
        let a = q.last_or_create(0).unwrap();
        a.append(&[1u8; 100]).unwrap();
        let b = q.last_or_create(0).unwrap();
        assert_eq!(b.start(), 100);
        b.append(&[2u8; 10]).unwrap();
        assert_eq!(q.find(99).unwrap().start(), 0);
        assert_eq!(q.find(100).unwrap().start(), 100);
        assert!(q.find(200).is_none());
        assert_eq!(q.max_offset(), 110);
    }

    #[test]
    fn reopening_finds_files_in_offset_order_and_rejects_gaps() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = FileQueue::open(dir.path(), 100).unwrap();
            q.create_next(0).unwrap();
            q.create_next(0).unwrap();
        }
        let q = FileQueue::open(dir.path(), 100).unwrap();
        let starts: Vec<u64> = q.files().iter().map(|f| f.start()).collect();
        assert_eq!(starts, vec![0, 100]);
        drop(q);
        std::fs::remove_file(dir.path().join(mapped_file::file_name(0))).unwrap();
        MappedFile::create(dir.path(), 300, 100).unwrap();
        assert!(matches!(
            FileQueue::open(dir.path(), 100),
            Err(FileError::Gap {
                start: 300,
                expected: 200,
                ..
            })
        ));
    }

    #[test]
    fn a_half_created_last_file_is_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = FileQueue::open(dir.path(), 100).unwrap();
            q.create_next(0).unwrap().append(&[1u8; 100]).unwrap();
        }
        std::fs::File::create(dir.path().join(mapped_file::file_name(100))).unwrap();
        let q = FileQueue::open(dir.path(), 100).unwrap();
        assert_eq!(q.len(), 1);
        assert!(!dir.path().join(mapped_file::file_name(100)).exists());
    }

    #[test]
    fn truncate_deletes_later_files_and_cuts_the_holding_file() {
        let dir = tempfile::tempdir().unwrap();
        let q = FileQueue::open(dir.path(), 100).unwrap();
        q.create_next(0).unwrap().append(&[1u8; 100]).unwrap();
        q.create_next(0).unwrap().append(&[1u8; 100]).unwrap();
        q.create_next(0).unwrap().append(&[1u8; 50]).unwrap();
        q.truncate(150).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q.max_offset(), 150);
        assert!(!dir.path().join(mapped_file::file_name(200)).exists());
    }
}
