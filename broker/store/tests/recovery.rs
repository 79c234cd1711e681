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

/// Every commit log file's name and bytes.
fn commit_log_bytes(root: &Path) -> Vec<(String, Vec<u8>)> {
    support::commit_log_bytes(&config(root).commit_log_dir())
}

/// Opening the store is refused as corrupt at commit log offset `offset`, and the commit log is
/// left byte for byte as it was.
fn assert_open_refused_at(root: &Path, offset: u64) {
    let before = commit_log_bytes(root);
    let err = MessageStore::open_with_report(config(root)).unwrap_err();
    assert!(
        matches!(&err, rmq_store::error::OpenStoreError::CorruptCommitLog { offset: at, .. } if *at == offset),
        "{err:?}"
    );
    assert_eq!(commit_log_bytes(root), before);
}

/// Zeroes `len` bytes of the commit log at `offset` (within one file).
fn zero_commit_log(root: &Path, offset: u64, len: usize) {
    let path = config(root)
        .commit_log_dir()
        .join(format!("{:020}", offset / FILE_SIZE * FILE_SIZE));
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&vec![0u8; len], offset % FILE_SIZE)
        .unwrap();
}

/// The record of 600 that [`crashed_with_a_corrupt_record`] damages.
const BAD: usize = 550;

/// 600 records, a crash, and a flipped body byte in record `bad`; returns the records' offsets
/// and the commit log as it then is.
fn crashed_with_a_corrupt_record(root: &Path, bad: usize) -> (Vec<u64>, Vec<(String, Vec<u8>)>) {
    let offsets = fill(root, 600);
    put_abort_marker_back(root);
    corrupt_commit_log(root, body_offset(offsets[bad]) + 2);
    let before = commit_log_bytes(root);
    (offsets, before)
}

#[test]
fn a_corrupt_record_with_written_data_after_it_stops_the_open_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (offsets, before) = crashed_with_a_corrupt_record(dir.path(), BAD);
    let bad = BAD;

    let err = MessageStore::open_with_report(config(dir.path())).unwrap_err();
    let rmq_store::error::OpenStoreError::CorruptCommitLog {
        path,
        offset,
        reason,
        bytes_following,
        ..
    } = &err
    else {
        panic!("expected CorruptCommitLog, got {err:?}");
    };
    assert_eq!(*offset, offsets[bad]);
    assert!(path.ends_with(format!("{:020}", offsets[bad] / FILE_SIZE * FILE_SIZE)));
    assert!(reason.contains("crc"), "{reason}");
    let last_record_end = offsets[599] + (offsets[599] - offsets[598]);
    assert!(*bytes_following > 0 && *bytes_following <= last_record_end - offsets[bad]);
    let text = err.to_string();
    assert!(text.contains("recoverCorruptCommitLog=truncate"), "{text}");
    assert_eq!(
        commit_log_bytes(dir.path()),
        before,
        "nothing was cut or deleted"
    );
    assert!(!config(dir.path()).quarantine_dir().exists());
}

#[test]
fn with_truncate_chosen_the_bytes_after_a_corrupt_record_are_set_aside_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (offsets, before) = crashed_with_a_corrupt_record(dir.path(), BAD);
    let bad = BAD;

    let mut c = config(dir.path());
    c.recover_corrupt_commit_log = rmq_store::config::CorruptTailPolicy::Quarantine;
    let (store, report) = MessageStore::open_with_report(c).unwrap();
    assert!(report.abnormal && report.torn_tail, "{report:?}");
    assert_eq!(report.end_offset, offsets[bad]);
    assert_eq!(served(&store), offsets[..bad].to_vec());
    assert!(
        store
            .query_by_key("T", "key551", 10, 0, i64::MAX)
            .is_empty()
    );
    store.shutdown();

    let q = report.quarantined.expect("bytes set aside");
    assert_eq!(q.offset, offsets[bad]);
    assert_eq!(
        q.messages_at_least, 50,
        "the corrupt record and the 49 after it"
    );
    // The pieces, concatenated in offset order, are the original bytes from the corrupt record on.
    let mut pieces: Vec<_> = std::fs::read_dir(&q.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "REASON")
        .collect();
    pieces.sort();
    let mut set_aside = Vec::new();
    for p in &pieces {
        set_aside.extend(std::fs::read(p).unwrap());
    }
    assert_eq!(set_aside.len() as u64, q.bytes);
    let original: Vec<u8> = before.iter().flat_map(|(_, b)| b.clone()).collect();
    let from = offsets[bad] as usize;
    assert_eq!(set_aside[..], original[from..from + set_aside.len()]);
    let reason = std::fs::read_to_string(q.dir.join("REASON")).unwrap();
    assert!(reason.contains(&offsets[bad].to_string()), "{reason}");
}

#[test]
fn a_torn_last_record_followed_only_by_zeroes_is_cut_and_every_earlier_record_kept() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 600);
    put_abort_marker_back(dir.path());
    // The last record's second half never reached the disk.
    let last = offsets[599];
    let len = (offsets[599] - offsets[598]) as usize;
    zero_commit_log(dir.path(), last + len as u64 / 2, len - len / 2);

    let (store, report) = MessageStore::open_with_report(config(dir.path())).unwrap();
    assert!(
        report.torn_tail && report.quarantined.is_none(),
        "{report:?}"
    );
    assert_eq!(report.end_offset, last);
    assert_eq!(served(&store), offsets[..599].to_vec());
    store.shutdown();
}

#[test]
fn a_damaged_size_field_that_swallows_the_next_record_stops_the_open_instead_of_cutting_it() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 600);
    put_abort_marker_back(dir.path());
    // Record 598 declares its own size plus record 599's: its fields end where 599 begins.
    let size = (offsets[599] - offsets[598]) + (offsets[599] - offsets[598]);
    let path = config(dir.path())
        .commit_log_dir()
        .join(format!("{:020}", offsets[598] / FILE_SIZE * FILE_SIZE));
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&(size as i32).to_be_bytes(), offsets[598] % FILE_SIZE)
        .unwrap();
    assert_open_refused_at(dir.path(), offsets[598]);
}

#[test]
fn a_negative_body_length_with_records_after_it_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 600);
    put_abort_marker_back(dir.path());
    // BODYLEN (just before the body) of record 550 reads -1 (a fuzz finding: an overflow).
    let at = body_offset(offsets[550]) - 4;
    let path = config(dir.path())
        .commit_log_dir()
        .join(format!("{:020}", at / FILE_SIZE * FILE_SIZE));
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&[0xff; 4], at % FILE_SIZE).unwrap();
    assert_open_refused_at(dir.path(), offsets[550]);
}

#[test]
fn written_records_after_a_zeroed_gap_are_not_mistaken_for_the_end_of_data() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = fill(dir.path(), 600);
    put_abort_marker_back(dir.path());
    // Record 550's first 64 bytes lost, later records intact: zeroes where a record should start
    // are not the end of data when written records follow.
    zero_commit_log(dir.path(), offsets[550], 64);
    assert_open_refused_at(dir.path(), offsets[550]);
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
