//! `MessageStore::read_queue`: a queue's records in order from an offset, passing over what
//! retention removed, stopping at the queue's end or a bound, in batches or one by one.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use rmq_protocol::message::record::RecordView;
use rmq_store::MessageStore;

mod support;

use support::{TOPIC, put, small_config};

fn queue_offsets(records: impl Iterator<Item = bytes::Bytes>) -> Vec<i64> {
    records
        .map(|raw| RecordView::decode(&raw).unwrap().queue_offset())
        .collect()
}

#[test]
fn a_reader_yields_each_record_once_in_queue_order_whatever_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(small_config(dir.path())).unwrap();
    for i in 0..50_i32 {
        put(&store, i % 2, format!("m{i}").as_bytes(), "");
    }
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    let expected: Vec<i64> = (0..25).collect();
    for batch in [1, 7, 32, 1000] {
        let reader = store.read_queue(TOPIC, 0, 0).batch(batch);
        assert_eq!(queue_offsets(reader), expected, "batch {batch}");
    }
    let mut reader = store.read_queue(TOPIC, 1, 20);
    assert_eq!(queue_offsets(reader.by_ref()), [20, 21, 22, 23, 24]);
    assert_eq!(reader.position(), 25);
    assert_eq!(store.read_queue(TOPIC, 1, 25).count(), 0);
    assert_eq!(store.read_queue("missing", 0, 0).count(), 0);
}

#[test]
fn a_bound_holds_even_when_the_queue_grows_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(small_config(dir.path())).unwrap();
    for i in 0..10 {
        put(&store, 0, format!("m{i}").as_bytes(), "");
    }
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    let mut reader = store.read_queue(TOPIC, 0, 4).until(8).batch(3);
    let first = reader.next().unwrap();
    assert_eq!(RecordView::decode(&first).unwrap().queue_offset(), 4);
    put(&store, 0, b"late", "");
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    assert_eq!(queue_offsets(reader.by_ref()), [5, 6, 7]);
    assert_eq!(reader.position(), 8);
}

#[test]
fn entries_whose_commit_log_was_removed_are_passed_over_from_the_first_readable_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(support::retention_by_age_config(dir.path())).unwrap();
    for _ in 0..600 {
        put(&store, 0, &[7u8; 200], "");
    }
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    let mut files: Vec<_> = std::fs::read_dir(dir.path().join("commitlog"))
        .unwrap()
        .flatten()
        .map(|f| f.path())
        .collect();
    files.sort();
    let old = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&files[0])
        .unwrap()
        .set_modified(old)
        .unwrap();
    store.run_retention_once();
    let min = store.min_offset_in_queue(TOPIC, 0);
    assert!(min > 0);
    let offsets = queue_offsets(store.read_queue(TOPIC, 0, 0).batch(16));
    let expected: Vec<i64> = (min as i64..600).collect();
    assert_eq!(offsets, expected);
}
