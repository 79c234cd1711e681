//! A slave's store fed with a master's commit log bytes, as the HA stream delivers them: the two
//! logs end up byte-identical across file rolls, the slave builds its own consume queues and
//! index, refuses producers, resumes mid-record after a restart, and refuses a master whose
//! file size differs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use rmq_store::error::{PutError, ReplicaAppendError};
use rmq_store::{GetStatus, MessageStore, ReplicaWriter, StoreConfig};

mod support;

const FILE: usize = 64 * 1024;
const BATCH: usize = 32 * 1024;

fn config(root: &std::path::Path, replica: bool, file_size: usize) -> StoreConfig {
    let mut c = support::small_config(root);
    c.commit_log_file_size = file_size;
    c.consume_queue_file_size = 1000 * 20;
    c.max_index_num = 10_000;
    c.replica = replica;
    c
}

fn put(store: &MessageStore, i: usize) {
    let body = format!("message-{i}-{}", "x".repeat(i * 37 % 3000));
    let props = format!("KEYS\u{1}k{i}\u{2}TAGS\u{1}t{}\u{2}", i % 3);
    support::put(store, (i % 2) as i32, body.as_bytes(), &props);
}

/// Streams the master's bytes from the writer's end, in chunks of at most `batch`, as the HA
/// master does (never across one of its files).
fn replicate(master: &MessageStore, writer: &mut ReplicaWriter, batch: usize) {
    let mut at = writer.max_offset();
    if at == 0 {
        let max = master.commit_log_max_offset();
        at = max - max % master.config().commit_log_file_size as u64;
    }
    while let Some(bytes) = master.read_commit_log(at, batch) {
        at = writer.append(at, &bytes).unwrap();
    }
    assert_eq!(at, master.commit_log_max_offset());
}

fn commit_log_bytes(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    support::commit_log_bytes(&root.join("commitlog"))
}

fn count_in_queue(store: &MessageStore, queue_id: i32) -> usize {
    let mut offset = 0;
    let mut n = 0;
    loop {
        let got = support::get(store, queue_id, offset, None);
        if got.status != GetStatus::Found {
            return n;
        }
        n += got.messages.len();
        offset = got.next_begin_offset;
    }
}

#[test]
fn a_replica_fed_the_masters_bytes_is_byte_identical_and_serves_the_same_messages() {
    let dir = tempfile::tempdir().unwrap();
    let master = MessageStore::open(config(&dir.path().join("m"), false, FILE)).unwrap();
    let slave = MessageStore::open(config(&dir.path().join("s"), true, FILE)).unwrap();
    let mut writer = slave.replica_writer().unwrap();
    for i in 0..200 {
        put(&master, i);
        if i % 17 == 0 {
            // Odd batch sizes cut records at ever different places.
            replicate(&master, &mut writer, 1000 + i * 7);
        }
    }
    replicate(&master, &mut writer, BATCH);
    assert!(
        master.commit_log_max_offset() > 3 * FILE as u64,
        "rolled files"
    );
    assert_eq!(
        commit_log_bytes(&dir.path().join("m")),
        commit_log_bytes(&dir.path().join("s"))
    );
    assert!(slave.wait_dispatched(Duration::from_secs(10)));
    assert_eq!(count_in_queue(&slave, 0), 100);
    assert_eq!(count_in_queue(&slave, 1), 100);
    let found = slave.query_by_key("T", "k77", 10, 0, i64::MAX);
    assert_eq!(found.len(), 1, "the slave indexed the replicated records");
}

#[test]
fn a_new_replica_starts_at_the_masters_last_file() {
    let dir = tempfile::tempdir().unwrap();
    let master = MessageStore::open(config(&dir.path().join("m"), false, FILE)).unwrap();
    for i in 0..150 {
        put(&master, i);
    }
    let last_file = master.commit_log_max_offset() / FILE as u64 * FILE as u64;
    assert!(last_file > 0);
    let slave = MessageStore::open(config(&dir.path().join("s"), true, FILE)).unwrap();
    let mut writer = slave.replica_writer().unwrap();
    replicate(&master, &mut writer, BATCH);
    assert_eq!(slave.commit_log_min_offset(), last_file);
    assert_eq!(
        slave.commit_log_max_offset(),
        master.commit_log_max_offset()
    );
    assert!(slave.wait_dispatched(Duration::from_secs(10)));
}

#[test]
fn a_replica_refuses_producer_appends_and_a_master_store_refuses_replicated_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let slave = MessageStore::open(config(&dir.path().join("s"), true, FILE)).unwrap();
    let refused = slave.put_message(&support::message(0, b"b"));
    assert!(matches!(refused, Err(PutError::ReadOnly)));
    let master = MessageStore::open(config(&dir.path().join("m"), false, FILE)).unwrap();
    assert!(matches!(
        master.replica_writer(),
        Err(ReplicaAppendError::NotAReplica)
    ));
}

#[test]
fn bytes_not_at_the_replicas_end_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let master = MessageStore::open(config(&dir.path().join("m"), false, FILE)).unwrap();
    for i in 0..20 {
        put(&master, i);
    }
    let slave = MessageStore::open(config(&dir.path().join("s"), true, FILE)).unwrap();
    let mut writer = slave.replica_writer().unwrap();
    let first = master.read_commit_log(0, 5000).unwrap();
    writer.append(0, &first).unwrap();
    let next = master.read_commit_log(5000, 100).unwrap();
    let err = writer.append(4000, &next).unwrap_err();
    assert!(matches!(
        err,
        ReplicaAppendError::OffsetMismatch {
            expected: 5000,
            got: 4000
        }
    ));
    let err = writer.append(6000, &next).unwrap_err();
    assert!(matches!(err, ReplicaAppendError::OffsetMismatch { .. }));
    assert_eq!(writer.max_offset(), 5000);
    // An empty replica only starts at a file boundary.
    let other = MessageStore::open(config(&dir.path().join("o"), true, FILE)).unwrap();
    let err = other
        .replica_writer()
        .unwrap()
        .append(100, &next)
        .unwrap_err();
    assert!(matches!(err, ReplicaAppendError::NotAtFileStart { .. }));
}

#[test]
fn a_master_with_a_different_file_size_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let master = MessageStore::open(config(&dir.path().join("m"), false, FILE)).unwrap();
    for i in 0..100 {
        put(&master, i);
    }
    let slave = MessageStore::open(config(&dir.path().join("s"), true, 2 * FILE)).unwrap();
    let mut writer = slave.replica_writer().unwrap();
    let mut at = 0;
    let err = loop {
        let bytes = master.read_commit_log(at, BATCH).unwrap();
        match writer.append(at, &bytes) {
            Ok(end) => at = end,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, ReplicaAppendError::BlankMisaligned { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("mappedFileSizeCommitLog"), "{err}");
    assert!(
        at < FILE as u64,
        "the misaligned blank record was not written"
    );
}

#[test]
fn a_restarted_replica_resumes_from_its_recovered_end_even_after_a_partial_record() {
    let dir = tempfile::tempdir().unwrap();
    let master = MessageStore::open(config(&dir.path().join("m"), false, FILE)).unwrap();
    for i in 0..60 {
        put(&master, i);
    }
    let slave_dir = dir.path().join("s");
    let cut = {
        let slave = MessageStore::open(config(&slave_dir, true, FILE)).unwrap();
        let mut writer = slave.replica_writer().unwrap();
        // Stop in the middle of a record.
        let bytes = master.read_commit_log(0, 10_001).unwrap();
        writer.append(0, &bytes).unwrap()
    };
    assert_eq!(cut, 10_001);
    let slave = MessageStore::open(config(&slave_dir, true, FILE)).unwrap();
    let resumed = slave.commit_log_max_offset();
    assert!(resumed < cut, "recovery cut the partial record: {resumed}");
    let mut writer = slave.replica_writer().unwrap();
    replicate(&master, &mut writer, BATCH);
    assert_eq!(
        commit_log_bytes(&dir.path().join("m")),
        commit_log_bytes(&slave_dir)
    );
    assert!(slave.wait_dispatched(Duration::from_secs(10)));
    assert_eq!(count_in_queue(&slave, 0) + count_in_queue(&slave, 1), 60);
}
