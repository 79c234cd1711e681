//! Abnormal recovery on real temp directories: what the validating scan cuts, what it rebuilds,
//! and what it trusts. A crash is simulated by a clean shutdown followed by putting the abort
//! marker back (and, where a test needs it, damaging a file or rewinding the checkpoint), so the
//! state the next open meets is exact.
#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use rmq_protocol::message::record::RecordView;
use rmq_store::{GetStatus, MessageStore, StoreConfig};

mod support;

const FILE_SIZE: u64 = support::COMMIT_LOG_FILE_SIZE as u64;

/// The small test config with room in one index file for every key a test here writes.
fn config(root: &Path) -> StoreConfig {
    let mut c = support::small_config(root);
    c.max_index_num = 5000;
    c
}

/// Writes `n` records to queue 0 of topic `T`, each with key `key{i}`, and shuts down cleanly.
/// Returns the records' offsets.
fn fill(root: &Path, n: usize) -> Vec<u64> {
    let store = MessageStore::open(config(root)).unwrap();
    let offsets = (0..n)
        .map(|i| {
            let body = format!("body-{i}-").repeat(1 + i % 7);
            support::put(&store, 0, body.as_bytes(), &format!("KEYS\u{1}key{i}\u{2}"))
        })
        .collect();
    assert!(store.wait_dispatched(Duration::from_secs(10)));
    store.shutdown();
    offsets
}

/// Makes the next open see a crash.
fn put_abort_marker_back(root: &Path) {
    std::fs::File::create(config(root).abort_path()).unwrap();
}

/// Overwrites the checkpoint's three timestamps (physic, logics, index).
fn set_checkpoint(root: &Path, ts: i64) {
    let file = OpenOptions::new()
        .write(true)
        .open(config(root).checkpoint_path())
        .unwrap();
    for at in [0, 8, 16] {
        file.write_all_at(&ts.to_be_bytes(), at).unwrap();
    }
}

/// Flips one byte at commit log offset `offset`.
fn corrupt_commit_log(root: &Path, offset: u64) {
    let path = config(root)
        .commit_log_dir()
        .join(format!("{:020}", offset / FILE_SIZE * FILE_SIZE));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8; 1];
    file.read_exact_at(&mut b, offset % FILE_SIZE).unwrap();
    file.write_all_at(&[b[0] ^ 0x55], offset % FILE_SIZE)
        .unwrap();
}

/// Offset of the body's first byte in a record stored with topic `T` and an IPv4 host.
fn body_offset(record_offset: u64) -> u64 {
    // Fixed prefix with IPv4 hosts (84 bytes), then BODYLEN.
    record_offset + 84 + 4
}

/// The commit log offsets queue 0 serves, in order.
fn served(store: &MessageStore) -> Vec<u64> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < store.max_offset_in_queue("T", 0) {
        let r = support::get(store, 0, offset, None);
        assert_eq!(r.status, GetStatus::Found, "at queue offset {offset}");
        for raw in &r.messages {
            let view = RecordView::decode(raw).unwrap();
            view.verify().unwrap();
            assert_eq!(view.queue_offset() as usize, out.len());
            out.push(view.physical_offset() as u64);
        }
        offset = r.next_begin_offset;
    }
    out
}

#[test]
fn a_corrupt_record_after_the_checkpoint_is_cut_with_everything_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 600);
    put_abort_marker_back(dir.path());
    let bad = 550;
    corrupt_commit_log(dir.path(), body_offset(offsets[bad]) + 2);

    let (store, report) = MessageStore::open_with_report(config(dir.path())).unwrap();
    assert!(report.abnormal && report.torn_tail, "{report:?}");
    assert!(report.scan_start <= offsets[bad]);
    assert_eq!(report.end_offset, offsets[bad]);
    assert_eq!(store.commit_log_max_offset(), offsets[bad]);
    assert_eq!(served(&store), offsets[..bad].to_vec());
    assert_eq!(store.query_by_key("T", "key549", 10, 0, i64::MAX).len(), 1);
    assert!(
        store
            .query_by_key("T", "key551", 10, 0, i64::MAX)
            .is_empty()
    );
    store.shutdown();
}

#[test]
fn consume_queue_entries_lost_with_the_crash_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 300);
    put_abort_marker_back(dir.path());
    // The queue's last file (entries 256..300) as if its pages never reached the disk.
    let cq = config(dir.path())
        .consume_queue_dir()
        .join("T/0")
        .join(format!("{:020}", 256 * 20));
    let file = OpenOptions::new().write(true).open(cq).unwrap();
    file.write_all_at(&[0u8; 64 * 20], 0).unwrap();

    let (store, report) = MessageStore::open_with_report(config(dir.path())).unwrap();
    assert!(report.abnormal && !report.torn_tail, "{report:?}");
    assert_eq!(store.max_offset_in_queue("T", 0), 300);
    assert_eq!(served(&store), offsets);
    store.shutdown();
}

#[test]
fn a_consume_queue_entry_that_disagrees_with_its_record_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 100);
    put_abort_marker_back(dir.path());
    // Entry 40 pointing at record 41, as a torn page of entries could leave it: a valid-looking
    // entry below the queue's end, which re-dispatch used to skip.
    let cq = config(dir.path())
        .consume_queue_dir()
        .join("T/0")
        .join(format!("{:020}", 0));
    let file = OpenOptions::new().read(true).write(true).open(cq).unwrap();
    let mut entry = [0u8; 20];
    file.read_exact_at(&mut entry, 41 * 20).unwrap();
    file.write_all_at(&entry, 40 * 20).unwrap();

    let store = MessageStore::open(config(dir.path())).unwrap();
    assert_eq!(served(&store), offsets);
    store.shutdown();
}

#[test]
fn the_index_is_rebuilt_for_every_record_the_scan_revalidates() {
    let dir = tempfile::tempdir().unwrap();
    // Enough records for several batches of the index builder thread.
    let offsets = fill(dir.path(), 2000);
    put_abort_marker_back(dir.path());
    // A checkpoint that vouches for nothing: the index file is discarded and everything is
    // validated and re-dispatched from the first file.
    set_checkpoint(dir.path(), 0);

    let (store, report) = MessageStore::open_with_report(config(dir.path())).unwrap();
    assert!(report.abnormal && !report.torn_tail, "{report:?}");
    assert_eq!(report.scan_start, 0);
    assert_eq!(served(&store), offsets);
    for (i, offset) in offsets.iter().enumerate() {
        let found = store.query_by_key("T", &format!("key{i}"), 10, 0, i64::MAX);
        assert_eq!(found.len(), 1, "key{i}");
        assert_eq!(
            RecordView::decode(&found[0]).unwrap().physical_offset() as u64,
            *offset
        );
    }
    store.shutdown();
}

/// The documented choice, as in Apache: recovery validates only from the file the checkpoint
/// points at (the newest file whose first record is older than the checkpoint minus 3 s).
/// Records before it were flushed and vouched for; a record damaged there afterwards (a media
/// error) is not looked for at start, and is not a reason to cut the log and lose everything
/// acknowledged after it. Its CRC still tells a reader it is bad.
#[test]
fn a_corrupt_record_before_the_scan_start_is_left_as_apache_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 1500);
    assert!(*offsets.last().unwrap() > 2 * FILE_SIZE, "several files");
    put_abort_marker_back(dir.path());
    // A checkpoint newer than every record by more than the 3 s margin.
    set_checkpoint(dir.path(), i64::MAX / 2);
    corrupt_commit_log(dir.path(), body_offset(offsets[10]));

    let (store, report) = MessageStore::open_with_report(config(dir.path())).unwrap();
    let end = *offsets.last().unwrap();
    assert!(report.abnormal && !report.torn_tail, "{report:?}");
    assert_eq!(report.scan_start, end / FILE_SIZE * FILE_SIZE);
    assert!(report.end_offset > end);
    assert_eq!(store.max_offset_in_queue("T", 0), 1500);
    let raw = store.read_record(offsets[10]).unwrap();
    assert!(RecordView::decode(&raw).unwrap().verify().is_err());
    store.shutdown();
}
