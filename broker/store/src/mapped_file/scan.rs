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

    /// Where the non-zero bytes of `[from, size)` lie: the offset of the first and one past the
    /// last, or `None` when all of it reads as zeroes. Only pages that may hold data are read
    /// (see [`MappedFile::maybe_nonzero`]), so a 1 GiB file of unwritten preallocation costs
    /// two `lseek`s and a `mincore`, not a read of every page.
    pub fn written_extent(&self, from: usize) -> Option<(usize, usize)> {
        let from = from.min(self.size);
        let mut found: Option<(usize, usize)> = None;
        for (a, b) in self.maybe_nonzero(from, self.size) {
            // SAFETY: `[a, b)` is inside the mapping; recovery reads before any writer starts.
            let bytes = unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(a), b - a) };
            let Some(first) = first_nonzero(bytes) else {
                continue;
            };
            let last = last_nonzero(bytes).unwrap_or(first);
            found = Some(match found {
                None => (a + first, a + last + 1),
                Some((start, _)) => (start, a + last + 1),
            });
        }
        found
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

/// Position of the first non-zero byte, comparing eight bytes at a time.
pub fn first_nonzero(bytes: &[u8]) -> Option<usize> {
    let words = bytes.chunks_exact(8);
    let tail_at = bytes.len() - words.remainder().len();
    for (i, word) in words.enumerate() {
        if u64::from_ne_bytes(word.try_into().unwrap_or([0; 8])) != 0 {
            return word.iter().position(|&b| b != 0).map(|p| i * 8 + p);
        }
    }
    bytes[tail_at..]
        .iter()
        .position(|&b| b != 0)
        .map(|p| tail_at + p)
}

/// Position of the last non-zero byte.
pub fn last_nonzero(bytes: &[u8]) -> Option<usize> {
    let words = bytes.rchunks_exact(8);
    let head_len = words.remainder().len();
    for (i, word) in words.enumerate() {
        if u64::from_ne_bytes(word.try_into().unwrap_or([0; 8])) != 0 {
            let word_at = bytes.len() - (i + 1) * 8;
            return word.iter().rposition(|&b| b != 0).map(|p| word_at + p);
        }
    }
    bytes[..head_len].iter().rposition(|&b| b != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_last_nonzero_find_the_bytes_at_every_position_and_length() {
        for len in 0..40 {
            assert_eq!(first_nonzero(&vec![0u8; len]), None);
            assert_eq!(last_nonzero(&vec![0u8; len]), None);
            for at in 0..len {
                let mut bytes = vec![0u8; len];
                bytes[at] = 0x80;
                assert_eq!(first_nonzero(&bytes), Some(at), "len {len} at {at}");
                assert_eq!(last_nonzero(&bytes), Some(at), "len {len} at {at}");
                if at + 1 < len {
                    bytes[len - 1] = 1;
                    assert_eq!(first_nonzero(&bytes), Some(at));
                    assert_eq!(last_nonzero(&bytes), Some(len - 1));
                }
            }
        }
    }

    #[test]
    fn written_extent_spans_the_first_to_the_last_written_byte_past_from() {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = MappedFile::create(dir.path(), 0, 3 * 4096).expect("file");
        assert_eq!(f.written_extent(0), None);
        assert!(f.write_at(10, b"ab"));
        assert!(f.write_at(5000, b"\x00c"));
        assert_eq!(f.written_extent(0), Some((10, 5002)));
        assert_eq!(f.written_extent(12), Some((5001, 5002)));
        assert_eq!(f.written_extent(5002), None);
        assert_eq!(f.written_extent(1 << 20), None);
    }
}
