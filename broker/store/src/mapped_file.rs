//! One preallocated, memory-mapped file of a file queue, named by the offset of its first byte.
//!
//! Concurrency contract: exactly one writer at a time (the owner of the queue's append lock) copies
//! bytes at and beyond `wrote`, then publishes the new `wrote` with a release store. Readers only look
//! at `[0, wrote)` after an acquire load, so they never see a byte while it is being written.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use bytes::Bytes;
use memmap2::MmapRaw;

use crate::error::FileError;

mod allocate;
mod scan;
mod warm;

use warm::ZeroFill;
pub use warm::ZeroFillError;

/// Width of a file name: the zero-padded decimal offset of the file's first byte.
pub const FILE_NAME_LEN: usize = 20;

/// The file name for a file starting at `offset`, e.g. `00000000001073741824`.
pub fn file_name(offset: u64) -> String {
    format!("{offset:020}")
}

/// The start offset a file name encodes, if it is one of ours.
pub fn parse_file_name(name: &str) -> Option<u64> {
    if name.len() == FILE_NAME_LEN && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// A mapped file.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    file: File,
    map: MmapRaw,
    start: u64,
    size: usize,
    wrote: AtomicUsize,
    flushed: AtomicUsize,
    /// Where zero filling ahead of the writer may write (see [`MappedFile::zero_fill`]).
    zero: ZeroFill,
    /// Bytes known to have disk blocks (see [`MappedFile::ensure_allocated`]).
    allocated: AtomicUsize,
}

impl MappedFile {
    /// Creates a new file of `size` bytes, allocating its blocks up front so that writes through
    /// the mapping can never fail for lack of space, then syncs it and its directory.
    pub fn create(dir: &Path, start: u64, size: usize) -> Result<Self, FileError> {
        Self::create_named(dir, &file_name(start), start, size)
    }

    /// Like [`MappedFile::create`] with the blocks allocated as they are first written (a sparse
    /// file, as Apache creates every mapped file). For consume queues: a broker with thousands of
    /// queues would otherwise hold ~5.7 MiB of disk per queue up front. A write into a hole can
    /// then meet a full disk (SIGBUS); the store's disk-usage guard refuses writes well before.
    pub fn create_sparse(dir: &Path, start: u64, size: usize) -> Result<Self, FileError> {
        let file = Self::create_with(dir, &file_name(start), start, size, Allocation::Sparse)?;
        file.advise_random();
        Ok(file)
    }

    /// Turns kernel readahead off for this mapping. A consume queue is written 20 bytes at a
    /// time, and with thousands of queues each first touch of a hole made the kernel zero-fill a
    /// whole readahead window (more than half the broker's CPU with 4,000 queues); without
    /// readahead a fault fills one page.
    pub fn advise_random(&self) {
        // SAFETY: the whole mapping, page aligned; MADV_RANDOM changes only a paging hint.
        unsafe {
            libc::madvise(self.map.as_mut_ptr().cast(), self.size, libc::MADV_RANDOM);
        }
    }

    /// [`MappedFile::create`] under a name of the caller's choosing (index files are named by
    /// their creation time, not by an offset).
    pub fn create_named(
        dir: &Path,
        name: &str,
        start: u64,
        size: usize,
    ) -> Result<Self, FileError> {
        Self::create_with(dir, name, start, size, Allocation::Preallocated)
    }

    fn create_with(
        dir: &Path,
        name: &str,
        start: u64,
        size: usize,
        allocation: Allocation,
    ) -> Result<Self, FileError> {
        let path = dir.join(name);
        let err = |source| FileError::Create {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(err)?;
        let sized = match allocation {
            Allocation::Preallocated => allocate::preallocate(&file, size),
            Allocation::Sparse => file.set_len(size as u64),
        };
        let prepared = sized
            // IMPORTANT: the file's length and blocks must be durable before any record in it
            // can be acknowledged, and its name must be durable in the directory; otherwise a
            // crash could lose a whole file of flushed records.
            .and_then(|()| file.sync_all())
            .and_then(|()| sync_dir(dir));
        if let Err(source) = prepared {
            // Leave no half-made file behind to block the next attempt (e.g. after ENOSPC).
            let _ = std::fs::remove_file(&path);
            return Err(err(source));
        }
        let mapped = Self::map(path, file, start, size, 0)?;
        if allocation == Allocation::Preallocated {
            mapped.allocated.store(size, Ordering::Release);
        }
        Ok(mapped)
    }

    /// Opens an existing file. Its write position is unknown until recovery sets it, so it starts
    /// at the full size (nothing may be appended until recovery says where the data ends).
    pub fn open(path: &Path, start: u64, expected_size: usize) -> Result<Self, FileError> {
        let err = |source| FileError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        if len != expected_size as u64 {
            return Err(FileError::WrongSize {
                path: path.to_path_buf(),
                expected: expected_size as u64,
                actual: len,
            });
        }
        Self::map(
            path.to_path_buf(),
            file,
            start,
            expected_size,
            expected_size,
        )
    }

    fn map(
        path: PathBuf,
        file: File,
        start: u64,
        size: usize,
        wrote: usize,
    ) -> Result<Self, FileError> {
        let map = MmapRaw::map_raw(&file).map_err(|source| FileError::Map {
            path: path.clone(),
            source,
        })?;
        Ok(MappedFile {
            path,
            file,
            map,
            start,
            size,
            wrote: AtomicUsize::new(wrote),
            flushed: AtomicUsize::new(wrote),
            zero: ZeroFill::new(wrote),
            allocated: AtomicUsize::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Offset of the file's first byte in the queue.
    pub fn start(&self) -> u64 {
        self.start
    }
    pub fn size(&self) -> usize {
        self.size
    }
    /// Offset one past the file's last byte.
    pub fn end(&self) -> u64 {
        self.start + self.size as u64
    }
    /// Bytes written (visible to readers).
    pub fn wrote(&self) -> usize {
        self.wrote.load(Ordering::Acquire)
    }
    /// Bytes known to be on disk.
    pub fn flushed(&self) -> usize {
        self.flushed.load(Ordering::Acquire)
    }
    pub fn remaining(&self) -> usize {
        self.size - self.wrote()
    }
    pub fn is_full(&self) -> bool {
        self.wrote() >= self.size
    }

    /// Copies `data` at the write position and publishes it. Only the queue's single writer calls
    /// this. Returns the position the data was written at.
    pub fn append(&self, data: &[u8]) -> Option<usize> {
        let copied = self.append_with(data.len(), |at| {
            // SAFETY: `at + data.len() <= size`, so the destination lies inside the mapping.
            // Bytes at and beyond `wrote` are touched only by the single writer (see the module
            // contract), and readers never look past `wrote`, so no reference to this range
            // exists while we copy.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    self.map.as_mut_ptr().add(at),
                    data.len(),
                );
            }
            Ok::<(), std::convert::Infallible>(())
        });
        match copied {
            Ok(at) => at,
            Err(never) => match never {},
        }
    }

    /// Like [`MappedFile::append`], but the bytes go in with `pwrite` rather than a copy through
    /// the mapping; readers still read them through the mapping (one page cache: they are visible
    /// there once `pwrite` returns, before `wrote` publishes them). For a file synced many times
    /// a second whose blocks are already written (zero filled ahead): each fdatasync of a page
    /// dirtied through a writable mapping write-protects it again (`folio_mkclean`, a TLB
    /// shoot-down on the other cores) and the next append to that page takes a write fault,
    /// where a `pwrite` only copies into the page cache. Returns `Ok(None)` if `data` does not
    /// fit.
    pub fn append_by_write(&self, data: &[u8]) -> Result<Option<usize>, FileError> {
        use std::os::unix::fs::FileExt;
        self.append_with(data.len(), |at| {
            self.file
                .write_all_at(data, at as u64)
                .map_err(|source| FileError::Write {
                    path: self.path.clone(),
                    source,
                })
        })
    }

    /// The single writer's append: `write` puts `len` bytes at the write position, which is then
    /// published. `Ok(None)` if they do not fit. A failed write leaves `wrote` where it was:
    /// whatever part reached the page cache lies past the write position, unseen by readers,
    /// and the next append covers it.
    fn append_with<E>(
        &self,
        len: usize,
        write: impl FnOnce(usize) -> Result<(), E>,
    ) -> Result<Option<usize>, E> {
        let at = self.wrote.load(Ordering::Relaxed);
        if len > self.size - at {
            return Ok(None);
        }
        self.zero.claim(at + len);
        write(at)?;
        self.wrote.store(at + len, Ordering::Release);
        Ok(Some(at))
    }

    /// Overwrites bytes that are already written; for the consume queue's dispatcher, which is the
    /// single writer of its queue, when it repairs a position. Does not move `wrote`.
    pub fn write_at(&self, at: usize, data: &[u8]) -> bool {
        if at + data.len() > self.size {
            return false;
        }
        self.zero.claim(at + data.len());
        // SAFETY: inside the mapping (checked above); the caller is the only writer.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.map.as_mut_ptr().add(at), data.len());
        }
        true
    }

    /// Marks the rest of the file as used, without writing (after a blank record or when full).
    pub fn mark_full(&self) {
        self.wrote.store(self.size, Ordering::Release);
    }

    /// Sets the write position after recovery; bytes past it are zeroed so a later scan cannot
    /// mistake old bytes for records.
    ///
    /// Only pages that may hold a non-zero byte are looked at, and only those that do are
    /// written. A file opened by recovery claims to be written to its end, but past the data it
    /// is mostly unwritten preallocation (or a hole): zeroing all of it made the kernel zero-fill
    /// every page on the fault, then dirtied it, and the flush after recovery wrote it back
    /// (1 s and 0.5 GiB of writes for half a commit log file; every block of a sparse consume
    /// queue file allocated).
    pub fn truncate_to(&self, pos: usize) {
        let pos = pos.min(self.size);
        let old = self.wrote.load(Ordering::Acquire);
        if old > pos {
            for (from, to) in self.maybe_nonzero(pos, old) {
                self.zero_nonzero_pages(from, to);
            }
        }
        self.wrote.store(pos, Ordering::Release);
        self.flushed
            .store(pos.min(self.flushed()), Ordering::Release);
        self.zero.reset(pos);
    }

    /// Records that the data is on disk up to `pos` (for files opened by recovery).
    pub fn set_flushed(&self, pos: usize) {
        self.flushed.store(pos, Ordering::Release);
    }

    /// Borrows written bytes `[pos, pos + len)`, or `None` if they are not all written yet.
    pub fn read(&self, pos: usize, len: usize) -> Option<&[u8]> {
        let end = pos.checked_add(len)?;
        if end > self.wrote() {
            return None;
        }
        // SAFETY: `[pos, end)` lies below `wrote`, which was published with release ordering after
        // the bytes were copied, and written bytes are never changed while readers exist (the
        // consume queue's `write_at` repairs only slots no reader has been given yet).
        Some(unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(pos), len) })
    }

    /// Borrows `[pos, pos + len)` regardless of the write position (recovery scans).
    pub fn read_raw(&self, pos: usize, len: usize) -> Option<&[u8]> {
        let end = pos.checked_add(len)?;
        if end > self.size {
            return None;
        }
        // SAFETY: inside the mapping; used only while no writer runs (recovery).
        Some(unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(pos), len) })
    }

    /// Atomically loads the big-endian i32 at `pos`, which must be 4-aligned. For tables that a
    /// writer updates in place while readers look (the index file's hash slots).
    pub fn load_i32(&self, pos: usize, order: Ordering) -> Option<i32> {
        let ptr = self.aligned_i32(pos)?;
        // SAFETY: `aligned_i32` checked bounds and alignment; the mapping lives as long as `self`,
        // and every concurrent access to this position goes through these atomic methods.
        let raw = unsafe { AtomicI32::from_ptr(ptr) }.load(order);
        Some(i32::from_be(raw))
    }

    /// Atomically stores `value` big-endian at `pos`, which must be 4-aligned. Returns false if
    /// the position is out of range or unaligned.
    pub fn store_i32(&self, pos: usize, value: i32, order: Ordering) -> bool {
        let Some(ptr) = self.aligned_i32(pos) else {
            return false;
        };
        self.zero.claim(pos + 4);
        // SAFETY: as in `load_i32`.
        unsafe { AtomicI32::from_ptr(ptr) }.store(value.to_be(), order);
        true
    }

    fn aligned_i32(&self, pos: usize) -> Option<*mut i32> {
        if !pos.is_multiple_of(4) || pos.checked_add(4)? > self.size {
            return None;
        }
        // The mapping starts on a page boundary, so a 4-aligned offset is a 4-aligned address.
        Some(self.map.as_mut_ptr().wrapping_add(pos).cast::<i32>())
    }

    /// Fdatasyncs the file whatever the write position says; for files written in place (index
    /// files), whose owner tracks what is flushed itself.
    pub fn sync_data(&self) -> Result<(), FileError> {
        // IMPORTANT: writes through the shared mapping are in the page cache; fdatasync writes
        // them back before the caller records them as durable.
        self.file.sync_data().map_err(|source| FileError::Sync {
            path: self.path.clone(),
            source,
        })
    }

    /// Flushes written bytes to disk with fdatasync and returns the new flushed position.
    pub fn flush(&self) -> Result<usize, FileError> {
        let wrote = self.wrote();
        if wrote > self.flushed() {
            // IMPORTANT: fdatasync writes back the pages dirtied through the shared mapping and the
            // metadata needed to read them (extent conversion of the preallocated blocks); only
            // after it returns may `flushed` advance and acknowledgements be sent.
            self.file.sync_data().map_err(|source| FileError::Sync {
                path: self.path.clone(),
                source,
            })?;
            self.flushed.fetch_max(wrote, Ordering::AcqRel);
        }
        Ok(self.flushed())
    }

    /// fdatasyncs the file whatever the flushed position says (after recovery, when pages written
    /// by a killed process may still be only in the page cache).
    pub fn force_sync(&self) -> Result<(), FileError> {
        self.sync_data()?;
        self.flushed.store(self.wrote(), Ordering::Release);
        Ok(())
    }

    /// Last-modified time of the file.
    pub fn modified(&self) -> Option<std::time::SystemTime> {
        self.file.metadata().and_then(|m| m.modified()).ok()
    }
}

/// A zero-copy slice of a mapped file that keeps the mapping alive.
struct MappedSlice {
    file: Arc<MappedFile>,
    pos: usize,
    len: usize,
}

impl AsRef<[u8]> for MappedSlice {
    fn as_ref(&self) -> &[u8] {
        self.file.read(self.pos, self.len).unwrap_or(&[])
    }
}

/// Written bytes `[pos, pos + len)` of `file` as `Bytes` that share the mapping (no copy). The
/// mapping outlives the file's deletion from the directory while any slice is held.
pub fn slice(file: &Arc<MappedFile>, pos: usize, len: usize) -> Option<Bytes> {
    file.read(pos, len)?;
    Some(Bytes::from_owner(MappedSlice {
        file: Arc::clone(file),
        pos,
        len,
    }))
}

/// How a new file gets its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// All blocks up front (`posix_fallocate`): writes through the mapping cannot fail for lack
    /// of space. The commit log and index files.
    Preallocated,
    /// Blocks on first write. Consume queues.
    Sparse,
}

/// Fsyncs a directory so that entries created or removed in it survive a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_twenty_digit_offsets() {
        assert_eq!(file_name(1_073_741_824), "00000000001073741824");
        assert_eq!(parse_file_name("00000000001073741824"), Some(1_073_741_824));
        assert_eq!(parse_file_name("abc"), None);
        assert_eq!(parse_file_name("0000000000107374182x"), None);
    }

    #[test]
    fn create_preallocates_the_full_size_and_refuses_an_existing_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = MappedFile::create(dir.path(), 4096, 8192).unwrap();
        assert_eq!(f.path().metadata().unwrap().len(), 8192);
        assert_eq!(f.wrote(), 0);
        assert!(MappedFile::create(dir.path(), 4096, 8192).is_err());
    }

    #[test]
    fn appended_bytes_are_readable_and_survive_reopen_after_flush() {
        let dir = tempfile::tempdir().unwrap();
        let f = Arc::new(MappedFile::create(dir.path(), 0, 64).unwrap());
        assert_eq!(f.append(b"hello"), Some(0));
        assert_eq!(f.append(b"world"), Some(5));
        assert_eq!(f.read(0, 10).unwrap(), b"helloworld");
        assert!(f.read(5, 6).is_none(), "reading past the write position");
        assert_eq!(slice(&f, 5, 5).unwrap().as_ref(), b"world");
        assert_eq!(f.flush().unwrap(), 10);
        assert!(f.append(&[0u8; 55]).is_none(), "does not fit");
        drop(f);
        let reopened = MappedFile::open(&dir.path().join(file_name(0)), 0, 64).unwrap();
        assert_eq!(reopened.read_raw(0, 10).unwrap(), b"helloworld");
    }

    #[test]
    fn bytes_appended_by_write_are_read_through_the_mapping_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let f = Arc::new(MappedFile::create(dir.path(), 0, 64).unwrap());
        assert_eq!(f.append_by_write(b"hello").unwrap(), Some(0));
        assert_eq!(f.append(b"-").unwrap(), 5, "the two ways mix");
        assert_eq!(f.append_by_write(b"world").unwrap(), Some(6));
        assert_eq!(f.read(0, 11).unwrap(), b"hello-world");
        assert_eq!(slice(&f, 6, 5).unwrap().as_ref(), b"world");
        assert!(f.read(6, 6).is_none(), "reading past the write position");
        assert_eq!(f.append_by_write(&[0u8; 54]).unwrap(), None, "does not fit");
        assert_eq!(f.wrote(), 11, "a refused append moves nothing");
        assert_eq!(f.flush().unwrap(), 11);
        drop(f);
        let reopened = MappedFile::open(&dir.path().join(file_name(0)), 0, 64).unwrap();
        assert_eq!(reopened.read_raw(0, 12).unwrap(), b"hello-world\0");
    }

    #[test]
    fn truncate_zeroes_the_bytes_past_the_new_end() {
        let dir = tempfile::tempdir().unwrap();
        let f = MappedFile::create(dir.path(), 0, 16).unwrap();
        f.append(b"abcdefgh").unwrap();
        f.truncate_to(3);
        assert_eq!(f.wrote(), 3);
        assert_eq!(f.read_raw(0, 8).unwrap(), b"abc\0\0\0\0\0");
    }

    #[test]
    fn truncate_after_reopen_zeroes_stale_bytes_far_past_the_new_end() {
        let dir = tempfile::tempdir().unwrap();
        let size = 1 << 20;
        let f = MappedFile::create(dir.path(), 0, size).unwrap();
        f.append(b"keep").unwrap();
        f.write_at(4096 * 3 + 10, b"stale");
        f.write_at(size - 5, b"stale");
        f.flush().unwrap();
        drop(f);
        // Reopened, the file claims to be written to its end, as after a crash.
        let f = MappedFile::open(&dir.path().join(file_name(0)), 0, size).unwrap();
        f.truncate_to(2);
        assert_eq!(f.read_raw(0, 4).unwrap(), b"ke\0\0");
        assert!(
            f.read_raw(0, size)
                .unwrap()
                .iter()
                .all(|&b| b == 0 || b == b'k' || b == b'e')
        );
        drop(f);
        let bytes = std::fs::read(dir.path().join(file_name(0))).unwrap();
        assert_eq!(&bytes[..2], b"ke");
        assert!(
            bytes[2..].iter().all(|&b| b == 0),
            "stale bytes survive on disk"
        );
    }

    #[test]
    fn truncate_leaves_the_holes_of_a_sparse_file_unallocated() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let size = 4 << 20;
        let f = MappedFile::create_sparse(dir.path(), 0, size).unwrap();
        f.append(&[7u8; 100]).unwrap();
        f.flush().unwrap();
        let path = dir.path().join(file_name(0));
        let before = path.metadata().unwrap().blocks();
        drop(f);
        let f = MappedFile::open(&path, 0, size).unwrap();
        f.truncate_to(50);
        f.force_sync().unwrap();
        let after = path.metadata().unwrap().blocks();
        // 512-byte blocks: zeroing the whole tail would have allocated 8,192 of them.
        assert!(after <= before + 64, "blocks {before} -> {after}");
        assert_eq!(f.read_raw(49, 2).unwrap(), &[7, 0]);
    }

    #[test]
    fn open_rejects_a_file_of_the_wrong_size() {
        let dir = tempfile::tempdir().unwrap();
        MappedFile::create(dir.path(), 0, 16).unwrap();
        let err = MappedFile::open(&dir.path().join(file_name(0)), 0, 32).unwrap_err();
        assert!(matches!(err, FileError::WrongSize { actual: 16, .. }));
    }
}
