//! Getting a file's pages ready ahead of its writer, off the append path.
//!
//! - [`MappedFile::prefault`] maps pages in without writing them (MADV_POPULATE_READ), so the
//!   writer does not take the first-touch faults.
//! - [`MappedFile::zero_fill`] writes real zeroes over preallocated blocks ahead of the writer.
//!   A block preallocated with `posix_fallocate` is *unwritten*: the first fdatasync after data
//!   lands in it must convert the extent, which commits the filesystem journal (a second disk
//!   write the syncing thread waits for, done by a kernel thread that competes for the CPU). Under
//!   SYNC_FLUSH every group commit would pay that; with the blocks already written, an fdatasync
//!   writes only the data pages.
//!
//! Zero filling must never write over the writer's bytes. The protocol: `[0, zeroed)` is owned
//! by the writer or already filled; the filler writes only at and past `zeroed`, holding `lock`,
//! and publishes the new `zeroed` after its write returned; a writer about to write past
//! `zeroed` first takes `lock` (waiting out a fill in progress) and raises `zeroed` past its end.
//! So the writer's bytes and the filler's zeroes never overlap.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::MappedFile;

/// How much one locked fill step writes: short enough that a writer catching up with the filler
/// waits little, long enough to take few syscalls.
const FILL_STEP: usize = 1 << 20;

/// How far past its write a writer claims when it takes the lock.
const CLAIM_AHEAD: usize = 64 * 1024;

/// Zeroes for `pwritev`: one buffer repeated.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The writer/filler boundary of one file (see the module docs).
#[derive(Debug)]
pub(super) struct ZeroFill {
    lock: Mutex<()>,
    zeroed: AtomicUsize,
}

impl ZeroFill {
    /// `owned`: bytes the writer may already have written (nothing below it is ever filled).
    pub(super) fn new(owned: usize) -> ZeroFill {
        ZeroFill {
            lock: Mutex::new(()),
            zeroed: AtomicUsize::new(owned),
        }
    }

    /// Called by the writer before it writes below `end`: afterwards no fill touches `[0, end)`.
    #[inline]
    pub(super) fn claim(&self, end: usize) {
        if end > self.zeroed.load(Ordering::Acquire) {
            self.claim_slow(end);
        }
    }

    #[cold]
    fn claim_slow(&self, end: usize) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // Claims a little ahead, so a writer with no filler in front of it (ASYNC_FLUSH, or a
        // filler fallen behind) takes the lock once per `CLAIM_AHEAD` bytes, not per append.
        self.zeroed
            .fetch_max(end.saturating_add(CLAIM_AHEAD), Ordering::AcqRel);
    }

    /// After recovery moved the write position back to `pos`: what lies past it may be filled.
    pub(super) fn reset(&self, pos: usize) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.zeroed.store(pos, Ordering::Release);
    }
}

/// Zero filling a range failed; the writer is unaffected (it writes into preallocated blocks
/// either way), only the next syncs may be slower.
#[derive(Debug, thiserror::Error)]
pub enum ZeroFillError {
    #[error("opening {path} for zero filling failed")]
    Open {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("writing zeroes to {path} failed")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl MappedFile {
    /// Brings `[pos, pos + len)` into the page cache and the page tables without writing it, so
    /// the writer does not pay for the first-touch page faults (for a preallocated file, the kernel
    /// zero-fills every page on first touch: a large share of an append's cost). Best effort:
    /// errors are ignored, the writer then faults the pages in itself.
    pub fn prefault(&self, pos: usize, len: usize) {
        const PAGE: usize = 4096;
        let start = pos / PAGE * PAGE;
        let end = pos.saturating_add(len).min(self.size);
        if start >= end {
            return;
        }
        // SAFETY: `[start, end)` lies inside the mapping, whose base is page aligned, so the
        // range starts on a page boundary. MADV_POPULATE_READ only reads: it cannot race with
        // the writer's bytes, and it leaves the pages clean (no extra write-back).
        let rc = unsafe {
            libc::madvise(
                self.map.as_mut_ptr().add(start).cast(),
                end - start,
                libc::MADV_POPULATE_READ,
            )
        };
        if rc != 0 {
            // Kernels before 5.14: read one byte per page instead.
            for page in (start..end).step_by(PAGE) {
                // SAFETY: inside the mapping; a volatile read of a byte that may be written
                // concurrently only observes an old or new value of a u8.
                unsafe {
                    std::ptr::read_volatile(self.map.as_ptr().add(page));
                }
            }
        }
    }

    /// Writes zeroes over `[zeroed, to)` (see the module docs) and writes them back, so that the
    /// blocks are written ones by the time the writer's data reaches them. Runs on a helper
    /// thread; the writer only waits if it catches up with a step in progress.
    pub fn zero_fill(&self, to: usize) -> Result<(), ZeroFillError> {
        let to = to.min(self.size);
        if self.zero.zeroed.load(Ordering::Acquire) >= to {
            return Ok(());
        }
        // IMPORTANT: a descriptor of its own. Write-back errors are reported once per open file
        // description; syncing through the writer's descriptor here could take an error that
        // the group commit's fdatasync must see before it acknowledges anything.
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|source| ZeroFillError::Open {
                path: self.path.clone(),
                source,
            })?;
        let write_err = |source| ZeroFillError::Write {
            path: self.path.clone(),
            source,
        };
        let first = self.zero.zeroed.load(Ordering::Acquire);
        loop {
            let guard = self
                .zero
                .lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let from = self.zero.zeroed.load(Ordering::Acquire);
            if from >= to {
                break;
            }
            let end = (from + FILL_STEP).min(to);
            write_zeroes(&file, from, end).map_err(write_err)?;
            // Published only after the zeroes are in the page cache: a writer that sees it
            // writes over them, never under them.
            self.zero.zeroed.store(end, Ordering::Release);
            drop(guard);
            // Start their write-back now, so a group commit's fdatasync does not find a
            // mebibyte of dirty zeroes to write first.
            start_writeback(&file, from, end);
        }
        // Commit the extent conversions (unwritten -> written) here rather than in the next
        // group commit; only zeroes are covered, so errors matter to no acknowledgement.
        file.sync_data().map_err(write_err)?;
        // A writer may have claimed past `to` since `first` was read.
        self.prefault(first, to.saturating_sub(first));
        Ok(())
    }
}

fn write_zeroes(file: &File, mut from: usize, to: usize) -> std::io::Result<()> {
    while from < to {
        let want = to - from;
        let iov: Vec<libc::iovec> = (0..want.div_ceil(ZEROS.len()).min(64))
            .map(|i| libc::iovec {
                iov_base: ZEROS.as_ptr().cast_mut().cast(),
                iov_len: (want - i * ZEROS.len()).min(ZEROS.len()),
            })
            .collect();
        // SAFETY: every iovec points into the static zero buffer (only read by the kernel) and
        // is at most its length; the descriptor is open for writing.
        let n = unsafe {
            libc::pwritev(
                file.as_raw_fd(),
                iov.as_ptr(),
                iov.len() as libc::c_int,
                from as libc::off_t,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero));
        }
        from += n as usize;
    }
    Ok(())
}

fn start_writeback(file: &File, from: usize, to: usize) {
    // SAFETY: plain syscall on an open descriptor. SYNC_FILE_RANGE_WRITE only starts write-back
    // (no wait, no error state consumed that matters: these pages hold zeroes).
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            from as libc::off64_t,
            (to - from) as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn record(i: u32) -> Vec<u8> {
        let mut r = vec![0xA5; 200 + (i as usize % 700)];
        r[..4].copy_from_slice(&i.to_be_bytes());
        r
    }

    #[test]
    fn zero_filling_while_the_writer_appends_never_overwrites_an_appended_byte() {
        let dir = tempfile::tempdir().unwrap();
        let file = Arc::new(MappedFile::create(dir.path(), 0, 8 << 20).unwrap());
        let filler = {
            let file = Arc::clone(&file);
            std::thread::spawn(move || {
                // Chase the writer in small steps, as the commit log's prefault thread does.
                let mut fills = 0;
                while !file.is_full() && file.wrote() < (8 << 20) - (64 << 10) {
                    file.zero_fill(file.wrote() + (256 << 10)).unwrap();
                    fills += 1;
                }
                fills
            })
        };
        let mut appended = Vec::new();
        for i in 0.. {
            let r = record(i);
            match file.append(&r) {
                Some(at) => appended.push((at, r)),
                None => break,
            }
        }
        assert!(
            filler.join().unwrap() > 0,
            "the filler ran alongside the writer"
        );
        for (at, r) in &appended {
            assert_eq!(file.read(*at, r.len()).unwrap(), &r[..], "record at {at}");
        }
    }

    #[test]
    fn a_zero_fill_writes_zeroes_only_past_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let file = MappedFile::create(dir.path(), 0, 4 << 20).unwrap();
        file.append(&[7u8; 5000]).unwrap();
        file.zero_fill(3 << 20).unwrap();
        assert_eq!(
            file.wrote(),
            5000,
            "filling does not move the write position"
        );
        assert!(file.read(0, 5000).unwrap().iter().all(|&b| b == 7));
        let at = file.append(&[9u8; 100]).unwrap();
        assert_eq!(at, 5000);
        assert_eq!(file.read(5000, 100).unwrap(), &[9u8; 100][..]);
        // Past the filled range the file still reads as zeroes through the mapping.
        assert!(
            file.read_raw(5100, (4 << 20) - 5100)
                .unwrap()
                .iter()
                .all(|&b| b == 0)
        );
    }

    #[test]
    fn zero_filled_blocks_are_data_to_the_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        let file = MappedFile::create(dir.path(), 0, 4 << 20).unwrap();
        file.zero_fill(2 << 20).unwrap();
        let fd = file.file.as_raw_fd();
        // SAFETY: plain syscalls on the test's own open descriptor.
        let (data, hole) = unsafe {
            (
                libc::lseek(fd, 0, libc::SEEK_DATA),
                libc::lseek(fd, 0, libc::SEEK_HOLE),
            )
        };
        assert_eq!(data, 0, "the filled range starts with data");
        // Filesystems that report preallocated-unwritten ranges as holes (ext4, xfs) put the
        // first hole at the end of the fill; others report the whole file as data.
        assert!(hole == 2 << 20 || hole == 4 << 20, "first hole at {hole}");
    }
}
