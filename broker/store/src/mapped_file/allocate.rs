//! Disk blocks for mapped files: all up front for the commit log and index files, page by page
//! ahead of the writer for sparse consume queue files. A write through a mapping into a hole of
//! a full filesystem is a SIGBUS; allocating first turns it into an ENOSPC the writer can handle.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

use super::MappedFile;
use crate::error::FileError;

impl MappedFile {
    /// Makes sure the disk blocks under `[0, end)` exist before a write through the mapping
    /// touches them. A write into a hole of a full filesystem is a SIGBUS that kills the
    /// process; `fallocate` answers ENOSPC instead ([`FileError::is_out_of_space`]), which the
    /// writer can wait out. Allocates whole pages, so a writer of small entries makes one call
    /// per 4 KiB; below what is allocated already it is one atomic load.
    pub fn ensure_allocated(&self, end: usize) -> Result<(), FileError> {
        const PAGE: usize = 4096;
        let done = self.allocated.load(Ordering::Acquire);
        if end <= done {
            return Ok(());
        }
        let from = done / PAGE * PAGE;
        let to = (end.div_ceil(PAGE) * PAGE).min(self.size);
        // SAFETY: plain syscall on our open descriptor; the range lies inside the file's length,
        // so it allocates blocks without changing the length.
        let rc = unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                0,
                from as libc::off_t,
                (to - from) as libc::off_t,
            )
        };
        if rc != 0 {
            let source = std::io::Error::last_os_error();
            if matches!(source.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EINVAL)) {
                // A filesystem without fallocate: writes go to holes as before, guarded only by
                // the disk-usage check.
                self.allocated.store(self.size, Ordering::Release);
                return Ok(());
            }
            return Err(FileError::Allocate {
                path: self.path.clone(),
                source,
            });
        }
        self.allocated.fetch_max(to, Ordering::AcqRel);
        Ok(())
    }
}

/// Allocates every block of a new file (`posix_fallocate`).
pub(super) fn preallocate(file: &File, size: usize) -> std::io::Result<()> {
    let len = libc::off_t::try_from(size).map_err(|_| std::io::Error::other("file too large"))?;
    // SAFETY: plain syscall on a valid, open file descriptor.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    match rc {
        0 => Ok(()),
        // Filesystems without fallocate: fall back to a sparse length (writes may then hit ENOSPC
        // as SIGBUS, so the disk-usage guard must keep headroom).
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(size as u64),
        errno => Err(std::io::Error::from_raw_os_error(errno)),
    }
}
