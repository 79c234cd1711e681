//! The checkpoint file: store timestamps up to which the commit log, the consume queues and the
//! index are known to be on disk. Abnormal recovery starts from the oldest of them.
//!
//! ```text
//! offset width field
//!      0     8 physicMsgTimestamp   store time of the last flushed commit log record
//!      8     8 logicsMsgTimestamp   store time of the last flushed consume queue entry
//!     16     8 indexMsgTimestamp    store time of the last flushed index item
//!     24  4072 zero                 (the file is one 4 KiB page)
//! ```

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};

use crate::error::FileError;

const FILE_SIZE: u64 = 4096;

/// The checkpoint, kept in memory and written with `flush`.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    file: File,
    physic: AtomicI64,
    logics: AtomicI64,
    index: AtomicI64,
}

impl Checkpoint {
    /// Opens or creates the checkpoint file and reads its timestamps (zero when new).
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let err = |source| FileError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(err)?;
        if file.metadata().map_err(err)?.len() < FILE_SIZE {
            file.set_len(FILE_SIZE).map_err(err)?;
        }
        let mut buf = [0u8; 24];
        file.read_exact_at(&mut buf, 0).map_err(err)?;
        let at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[i..i + 8]);
            i64::from_be_bytes(b)
        };
        Ok(Checkpoint {
            path: path.to_path_buf(),
            file,
            physic: AtomicI64::new(at(0)),
            logics: AtomicI64::new(at(8)),
            index: AtomicI64::new(at(16)),
        })
    }

    pub fn physic_msg_timestamp(&self) -> i64 {
        self.physic.load(Ordering::Acquire)
    }
    pub fn logics_msg_timestamp(&self) -> i64 {
        self.logics.load(Ordering::Acquire)
    }
    pub fn index_msg_timestamp(&self) -> i64 {
        self.index.load(Ordering::Acquire)
    }
    pub fn set_physic_msg_timestamp(&self, ts: i64) {
        self.physic.fetch_max(ts, Ordering::AcqRel);
    }
    pub fn set_logics_msg_timestamp(&self, ts: i64) {
        self.logics.fetch_max(ts, Ordering::AcqRel);
    }
    pub fn set_index_msg_timestamp(&self, ts: i64) {
        self.index.fetch_max(ts, Ordering::AcqRel);
    }

    /// The store time before which everything is on disk everywhere: the older of the commit log
    /// and consume queue timestamps (and the index's when `index_safe`), minus 3 s of slack as
    /// Apache does, floored at 0.
    pub fn min_timestamp(&self, index_safe: bool) -> i64 {
        let mut min = self.physic_msg_timestamp().min(self.logics_msg_timestamp());
        if index_safe {
            min = min.min(self.index_msg_timestamp());
        }
        // Saturating: a damaged file can hold any number, down to i64::MIN.
        min.saturating_sub(3000).max(0)
    }

    /// Writes the three timestamps and fdatasyncs the file.
    pub fn flush(&self) -> Result<(), FileError> {
        let mut buf = [0u8; 24];
        buf[0..8].copy_from_slice(&self.physic_msg_timestamp().to_be_bytes());
        buf[8..16].copy_from_slice(&self.logics_msg_timestamp().to_be_bytes());
        buf[16..24].copy_from_slice(&self.index_msg_timestamp().to_be_bytes());
        let err = |source| FileError::Sync {
            path: self.path.clone(),
            source,
        };
        self.file.write_all_at(&buf, 0).map_err(err)?;
        // IMPORTANT: recovery trusts these timestamps to skip re-validating older data, so they
        // must reach the disk only after the data they describe (callers flush that first).
        self.file.sync_data().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_survive_a_reopen_after_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        let cp = Checkpoint::open(&path).unwrap();
        assert_eq!(cp.physic_msg_timestamp(), 0);
        cp.set_physic_msg_timestamp(1_700_000_010_000);
        cp.set_logics_msg_timestamp(1_700_000_005_000);
        cp.set_index_msg_timestamp(1_700_000_001_000);
        cp.flush().unwrap();
        drop(cp);
        let cp = Checkpoint::open(&path).unwrap();
        assert_eq!(cp.physic_msg_timestamp(), 1_700_000_010_000);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);
        assert_eq!(cp.min_timestamp(false), 1_700_000_002_000);
        assert_eq!(cp.min_timestamp(true), 1_699_999_998_000);
    }

    #[test]
    fn a_damaged_checkpoint_with_the_lowest_timestamps_starts_recovery_at_zero() {
        // Fuzz finding: `min - 3000` overflowed for a file holding i64::MIN.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        let mut page = vec![0u8; 4096];
        for field in 0..3 {
            page[field * 8..field * 8 + 8].copy_from_slice(&i64::MIN.to_be_bytes());
        }
        std::fs::write(&path, &page).unwrap();
        let cp = Checkpoint::open(&path).unwrap();
        assert_eq!(cp.physic_msg_timestamp(), i64::MIN);
        assert_eq!(cp.min_timestamp(true), 0);
        assert_eq!(cp.min_timestamp(false), 0);
    }

    #[test]
    fn timestamps_never_move_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint::open(&dir.path().join("checkpoint")).unwrap();
        cp.set_physic_msg_timestamp(10);
        cp.set_physic_msg_timestamp(5);
        assert_eq!(cp.physic_msg_timestamp(), 10);
        assert_eq!(cp.min_timestamp(false), 0);
    }
}
