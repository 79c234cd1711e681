//! Recovery's view of a file's tail: which pages past the recovered end may hold stale bytes,
//! and zeroing only those (see [`MappedFile::truncate_to`]).

use std::os::fd::AsRawFd;

use super::MappedFile;

impl MappedFile {
    /// The parts of `[from, to)` that may hold a non-zero byte, in page-aligned runs (clipped to
    /// the range): what the filesystem reports as data (`lseek` `SEEK_DATA`/`SEEK_HOLE`), plus
    /// every page resident in the page cache (`mincore`), so that dirty pages a killed process
    /// left are covered even where a filesystem's `SEEK_DATA` misses unwritten-back data (ZFS
    /// had such a bug). What is neither is a hole or unwritten preallocation and reads as
    /// zeroes. Where either call fails, the whole range is returned (always safe: pages are only
    /// read, and zeroed where needed).
    pub(super) fn maybe_nonzero(&self, from: usize, to: usize) -> Vec<(usize, usize)> {
        const PAGE: usize = 4096;
        let first = from / PAGE;
        let pages = to.div_ceil(PAGE) - first;
        let mut marked = vec![0u8; pages];
        // SAFETY: the range starts on a page boundary of the mapping (its base is page aligned)
        // and ends inside it, rounded up to a page as mincore allows; `marked` has one byte per
        // page.
        let rc = unsafe {
            libc::mincore(
                self.map.as_mut_ptr().add(first * PAGE).cast(),
                to - first * PAGE,
                marked.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return vec![(from, to)];
        }
        let fd = self.file.as_raw_fd();
        let mut at = from;
        while at < to {
            // SAFETY: plain syscalls on our open descriptor; the file offset they move is not
            // used for I/O anywhere (all access goes through the mapping or positioned calls).
            let data = unsafe { libc::lseek(fd, at as libc::off_t, libc::SEEK_DATA) };
            if data < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                    // No data at or after `at`: the rest of the file is a hole.
                    break;
                }
                return vec![(from, to)];
            }
            let data = (data as usize).max(at);
            if data >= to {
                break;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(fd, data as libc::off_t, libc::SEEK_HOLE) };
            let hole = if hole < 0 {
                to
            } else {
                (hole as usize).clamp(data + 1, to)
            };
            for page in data / PAGE..hole.div_ceil(PAGE) {
                marked[page - first] = 1;
            }
            at = hole;
        }
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (i, m) in marked.iter().enumerate() {
            // mincore sets bit 0 for a resident page; the other bits are reserved.
            if m & 1 == 0 {
                continue;
            }
            let (a, b) = (
                ((first + i) * PAGE).max(from),
                ((first + i + 1) * PAGE).min(to),
            );
            match runs.last_mut() {
                Some(last) if last.1 == a => last.1 = b,
                _ => runs.push((a, b)),
            }
        }
        runs
    }

    /// Writes zeroes over the pages of `[from, to)` that are not all zero, leaving zero pages
    /// untouched (not dirtied, so not written back).
    pub(super) fn zero_nonzero_pages(&self, from: usize, to: usize) {
        const PAGE: usize = 4096;
        let mut at = from;
        while at < to {
            let end = ((at / PAGE + 1) * PAGE).min(to);
            // SAFETY: `[at, end)` is inside the mapping; recovery runs before readers start and
            // with the append lock held, so nothing else touches these bytes.
            unsafe {
                let ptr = self.map.as_mut_ptr().add(at);
                let bytes = std::slice::from_raw_parts(ptr.cast_const(), end - at);
                if bytes.iter().fold(0u8, |acc, &b| acc | b) != 0 {
                    std::ptr::write_bytes(ptr, 0, end - at);
                }
            }
            at = end;
        }
    }
}
