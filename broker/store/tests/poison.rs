#![allow(clippy::unwrap_used)]
//! A failed fdatasync poisons the store: the waiting append learns it failed, every later append
//! is refused, and what was acknowledged before is still readable.
//!
//! The failure is real, not simulated inside the store: the test swaps the commit log file's
//! descriptor for a pipe (`dup2`), on which the kernel's `fdatasync` fails with EINVAL.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use rmq_store::error::PutError;
use rmq_store::{FlushDiskType, FlushStatus, MessageStore, StoreConfig};

mod support;
use support::message;

/// The descriptor numbers this process holds open on `path`.
fn fds_of(path: &Path) -> Vec<i32> {
    let want = std::fs::canonicalize(path).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|target| target == want))
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

#[test]
fn a_failed_fdatasync_fails_the_waiting_append_and_refuses_every_later_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(dir.path());
    config.commit_log_file_size = 64 * 1024;
    config.flush_disk_type = FlushDiskType::SyncFlush;
    config.sync_flush_timeout = Duration::from_secs(5);
    let store = MessageStore::open(config).unwrap();

    let first = store.put_message(&message(0, b"before")).unwrap();
    assert_eq!(first.wait_durable(), FlushStatus::Flushed);
    assert!(!store.is_poisoned());

    // Break the commit log's descriptor: fdatasync on a pipe fails (EINVAL).
    let file = dir.path().join("commitlog").join("00000000000000000000");
    let fds = fds_of(&file);
    assert!(!fds.is_empty(), "commit log file not open?");
    let (reader, writer) = std::io::pipe().unwrap();
    for fd in &fds {
        // SAFETY: dup2 onto a descriptor this process owns; the store keeps using the number.
        assert!(unsafe { libc::dup2(reader.as_raw_fd(), *fd) } >= 0);
    }
    drop(writer);

    let second = store.put_message(&message(0, b"after")).unwrap();
    assert_eq!(second.wait_durable(), FlushStatus::Failed);
    assert!(store.is_poisoned());
    let third = store.put_message(&message(0, b"refused"));
    assert!(matches!(third, Err(PutError::Poisoned)), "{third:?}");

    // What was acknowledged before the failure is still served.
    let offset = first.appended.record_offsets[0];
    let record = store.read_record(offset).unwrap();
    assert!(record.ends_with(b"before") || record.windows(6).any(|w| w == b"before"));
}
