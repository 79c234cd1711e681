//! Store behaviour on real temp directories: reads, restarts, flush modes, retention.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use rmq_protocol::message::hash::tags_code;
use rmq_protocol::message::record::RecordView;
use rmq_store::{FlushDiskType, FlushStatus, GetRequest, GetStatus, MessageStore, PutMessage};

mod support;
use support::{COMMIT_LOG_FILE_SIZE, get, message, put, small_config};

#[test]
fn pulls_return_stored_records_and_apache_statuses_at_the_edges() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(small_config(dir.path())).unwrap();
    assert_eq!(
        get(&store, 0, 0, None).status,
        GetStatus::NoMatchedLogicQueue
    );
    for i in 0..10 {
        put(
            &store,
            0,
            format!("m{i}").as_bytes(),
            if i % 2 == 0 {
                "TAGS\u{1}even\u{2}"
            } else {
                "TAGS\u{1}odd\u{2}"
            },
        );
    }
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    let r = get(&store, 0, 3, None);
    assert_eq!(r.status, GetStatus::Found);
    assert_eq!(r.messages.len(), 7);
    assert_eq!(r.next_begin_offset, 10);
    assert_eq!(RecordView::decode(&r.messages[0]).unwrap().body(), b"m3");
    assert_eq!(
        get(&store, 0, 10, None).status,
        GetStatus::OffsetOverflowOne
    );
    let bad = get(&store, 0, 11, None);
    assert_eq!(
        (bad.status, bad.next_begin_offset),
        (GetStatus::OffsetOverflowBadly, 0)
    );
    let even = tags_code(Some("even"));
    let only_even = move |code: i64| code == even;
    let r = get(&store, 0, 0, Some(&only_even));
    assert_eq!(r.messages.len(), 5);
    assert!(
        r.messages
            .iter()
            .all(|m| RecordView::decode(m).unwrap().body()[1].is_multiple_of(2))
    );
    let none = |_: i64| false;
    assert_eq!(
        get(&store, 0, 0, Some(&none)).status,
        GetStatus::NoMatchedMessage
    );
    let limited = store.get_message(&GetRequest {
        topic: "T",
        queue_id: 0,
        offset: 0,
        max_count: 3,
        max_bytes: 1 << 20,
        filter: None,
    });
    assert_eq!((limited.messages.len(), limited.next_begin_offset), (3, 3));
}

#[test]
fn a_clean_restart_keeps_every_message_offset_and_index_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut offsets = Vec::new();
    {
        let store = MessageStore::open(small_config(dir.path())).unwrap();
        for i in 0..500 {
            offsets.push(put(
                &store,
                i % 4,
                &[i as u8; 100],
                &format!("KEYS\u{1}key{i}\u{2}"),
            ));
        }
        store.shutdown();
    }
    let (store, report) = MessageStore::open_with_report(small_config(dir.path())).unwrap();
    assert!(!report.abnormal && !report.torn_tail, "{report:?}");
    assert!(
        store.commit_log_max_offset() > COMMIT_LOG_FILE_SIZE as u64,
        "several commit log files"
    );
    for q in 0..4 {
        assert_eq!(store.max_offset_in_queue("T", q), 125);
    }
    let next = put(&store, 0, b"after", "");
    assert!(next > *offsets.last().unwrap());
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    assert_eq!(
        store.max_offset_in_queue("T", 0),
        126,
        "queue offsets continue after restart"
    );
    let found = store.query_by_key("T", "key321", 10, 0, i64::MAX);
    assert_eq!(found.len(), 1);
    assert_eq!(
        RecordView::decode(&found[0]).unwrap().physical_offset() as u64,
        offsets[321]
    );
    assert!(store.query_by_key("T", "nokey", 10, 0, i64::MAX).is_empty());
    let t = store.store_time("T", 1, 10).unwrap();
    assert!(store.offset_by_time("T", 1, t) <= 10);
    assert!(store.earliest_message_time("T", 0).is_some());
}

#[test]
fn sync_flush_handles_complete_flushed_and_the_data_is_on_disk_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = small_config(dir.path());
    c.flush_disk_type = FlushDiskType::SyncFlush;
    let store = std::sync::Arc::new(MessageStore::open(c).unwrap());
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        let r = store.put_message(&message(t % 4, &[i as u8; 64])).unwrap();
                        let status = r.wait_durable();
                        assert!(store.commit_log_flushed_offset() >= r.appended.end_offset);
                        status
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().iter().all(|s| *s == FlushStatus::Flushed));
    }
    let no_wait = store
        .put_message(&PutMessage {
            properties: b"WAIT\x01false\x02",
            ..message(0, b"x")
        })
        .unwrap();
    assert!(
        no_wait.flush.is_none(),
        "WAIT=false skips the durability wait"
    );
}

#[test]
fn a_second_open_of_a_locked_store_is_refused_and_oversize_bodies_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = small_config(dir.path());
    c.max_message_size = 16;
    let store = MessageStore::open(c.clone()).unwrap();
    assert!(matches!(
        MessageStore::open(c),
        Err(rmq_store::error::OpenStoreError::Locked { .. })
    ));
    let err = store.put_message(&message(0, &[0; 17])).unwrap_err();
    assert!(matches!(
        err,
        rmq_store::error::PutError::BodyTooLarge { size: 17, max: 16 }
    ));
    assert_eq!(store.commit_log_max_offset(), 0, "nothing was written");
}

#[test]
fn retention_deletes_expired_files_and_moves_queue_min_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(support::retention_by_age_config(dir.path())).unwrap();
    for i in 0..1000 {
        put(&store, 0, &[7u8; 200], &format!("KEYS\u{1}k{i}\u{2}"));
    }
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("commitlog"))
        .unwrap()
        .flatten()
        .collect();
    assert!(files.len() > 3);
    let old = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    let mut names: Vec<_> = files.iter().map(|f| f.path()).collect();
    names.sort();
    for path in &names[..2] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    store.run_retention_once();
    assert_eq!(
        store.commit_log_min_offset(),
        2 * COMMIT_LOG_FILE_SIZE as u64
    );
    assert!(!names[0].exists() && !names[1].exists() && names[2].exists());
    let min = store.min_offset_in_queue("T", 0);
    assert!(min > 0, "consume queue min offset follows the commit log");
    let r = get(&store, 0, 0, None);
    assert_eq!(
        (r.status, r.next_begin_offset),
        (GetStatus::OffsetTooSmall, min)
    );
    let r = get(&store, 0, min, None);
    assert_eq!(r.status, GetStatus::Found);
}

#[test]
fn consume_queue_files_are_sparse_and_commit_log_files_preallocated() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let mut c = small_config(dir.path());
    c.commit_log_file_size = 1 << 20;
    c.consume_queue_file_size = 300_000 * 20;
    let store = MessageStore::open(c).unwrap();
    put(&store, 0, b"x", "");
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    let allocated = |path: std::path::PathBuf| {
        let meta = std::fs::metadata(&path).unwrap();
        (meta.len(), meta.blocks() * 512)
    };
    let (len, bytes) = allocated(dir.path().join("commitlog/00000000000000000000"));
    assert_eq!(len, 1 << 20);
    assert!(
        bytes >= len,
        "commit log holds its blocks up front: {bytes} of {len}"
    );
    let (len, bytes) = allocated(dir.path().join("consumequeue/T/0/00000000000000000000"));
    assert_eq!(len, 300_000 * 20, "Apache's file length is kept");
    assert!(
        bytes < len / 10,
        "a consume queue with one entry must not hold 5.7 MiB of disk: {bytes}"
    );
}

#[test]
fn destroying_an_unused_topics_queues_removes_their_files_and_restarts_its_offsets_leaving_others()
{
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path());
    let queues_dir = config.consume_queue_dir();
    let store = MessageStore::open(config.clone()).unwrap();
    let to = |topic: &'static str, queue_id: i32, body: &'static [u8]| {
        store
            .put_message(&PutMessage::new(
                topic,
                queue_id,
                body,
                "127.0.0.1:9".parse().unwrap(),
            ))
            .unwrap()
            .appended
            .queue_offset
    };
    for i in 0..100 {
        to("Gone", i % 2, b"old");
        put(&store, 0, b"kept", "");
    }
    assert!(store.wait_dispatched(Duration::from_secs(5)));
    assert!(queues_dir.join("Gone/0").is_dir());
    assert_eq!(store.queue_topics(), ["Gone", support::TOPIC]);

    assert_eq!(store.destroy_topic_queues("Gone").unwrap(), 2);
    assert!(!queues_dir.join("Gone").exists());
    assert_eq!(store.queue_topics(), [support::TOPIC]);
    assert_eq!(store.max_offset_in_queue("Gone", 0), 0);
    // The other topic is whole.
    assert_eq!(store.max_offset_in_queue(support::TOPIC, 0), 100);
    assert_eq!(get(&store, 0, 99, None).messages.len(), 1);
    // A message sent to the name again starts a fresh queue at offset 0.
    assert_eq!(to("Gone", 0, b"new"), 0);
    assert_eq!(store.destroy_topic_queues("Never").unwrap(), 0);
    store.shutdown();
    drop(store);

    let store = MessageStore::open(config).unwrap();
    assert_eq!(store.max_offset_in_queue(support::TOPIC, 0), 100);
    assert_eq!(store.max_offset_in_queue("Gone", 0), 1);
    assert_eq!(store.max_offset_in_queue("Gone", 1), 0);
}
