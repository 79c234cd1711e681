#![allow(clippy::unwrap_used)]
//! A failed fdatasync poisons the store: the waiting append learns it failed, every later append
//! is refused, and what was acknowledged before is still readable.
//!
//! The failures are real, not simulated inside the store: the tests swap the commit log file's
//! descriptor (`dup2`) for `/dev/null`, which takes writes but on which the kernel's `fdatasync`
//! fails with EINVAL, or for the read end of a pipe, on which a write fails.

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

/// A SYNC_FLUSH store holding one acknowledged (durable) message, `before`.
fn store_with_one_durable_message(dir: &Path) -> (MessageStore, u64) {
    let mut config = StoreConfig::new(dir);
    config.commit_log_file_size = 64 * 1024;
    config.flush_disk_type = FlushDiskType::SyncFlush;
    config.sync_flush_timeout = Duration::from_secs(5);
    let store = MessageStore::open(config).unwrap();
    let first = store.put_message(&message(0, b"before")).unwrap();
    assert_eq!(first.wait_durable(), FlushStatus::Flushed);
    assert!(!store.is_poisoned());
    (store, first.appended.record_offsets[0])
}

/// Points every descriptor of the commit log's first file at `target` instead.
fn swap_commit_log_fds(dir: &Path, target: &impl AsRawFd) {
    let file = dir.join("commitlog").join("00000000000000000000");
    let fds = fds_of(&file);
    assert!(!fds.is_empty(), "commit log file not open?");
    for fd in &fds {
        // SAFETY: dup2 onto a descriptor this process owns; the store keeps using the number.
        assert!(unsafe { libc::dup2(target.as_raw_fd(), *fd) } >= 0);
    }
}

/// What was acknowledged before the failure is still served (reads go through the mapping).
fn assert_still_served(store: &MessageStore, offset: u64) {
    let record = store.read_record(offset).unwrap();
    assert!(record.windows(6).any(|w| w == b"before"));
}

#[test]
fn a_failed_fdatasync_fails_the_waiting_append_and_refuses_every_later_one() {
    let dir = tempfile::tempdir().unwrap();
    let (store, offset) = store_with_one_durable_message(dir.path());
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    swap_commit_log_fds(dir.path(), &null);

    let second = store.put_message(&message(0, b"after")).unwrap();
    assert_eq!(second.wait_durable(), FlushStatus::Failed);
    assert!(store.is_poisoned());
    let third = store.put_message(&message(0, b"refused"));
    assert!(matches!(third, Err(PutError::Poisoned)), "{third:?}");
    assert_still_served(&store, offset);
}

#[test]
fn a_failed_commit_log_write_is_refused_and_refuses_every_later_append() {
    let dir = tempfile::tempdir().unwrap();
    let (store, offset) = store_with_one_durable_message(dir.path());
    let (reader, writer) = std::io::pipe().unwrap();
    swap_commit_log_fds(dir.path(), &reader);
    drop(writer);

    let second = store.put_message(&message(0, b"after"));
    assert!(matches!(second, Err(PutError::Write(_))), "{second:?}");
    assert!(store.is_poisoned());
    let third = store.put_message(&message(0, b"refused"));
    assert!(matches!(third, Err(PutError::Poisoned)), "{third:?}");
    assert_still_served(&store, offset);
}
