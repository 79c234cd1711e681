//! Stores written by the real Apache RocketMQ 4.9.4 broker through the official Java client
//! (`../shared/fixtures/apache-4.9.4-stores`): a cleanly stopped one and a `kill -9`ed one. Both
//! open, as a master's store and as a slave's, without losing a byte, and every message the
//! client saw acknowledged is found by its queue position, its unique key and its keys, with the
//! body it was sent with.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use rmq_protocol::message::properties;
use rmq_protocol::message::record::RecordView;
use rmq_protocol::message::sysflag;
use rmq_store::{GetRequest, GetStatus, MessageStore, StoreConfig};
use sha2::{Digest, Sha256};

#[path = "support/apache_fixture.rs"]
mod apache_fixture;
mod support;

use apache_fixture::{Acked, acked, unpack};

/// The store settings Apache ran with (`broker.conf.used`), rooted at `store`.
fn config(store: &Path, replica: bool) -> StoreConfig {
    let mut c = StoreConfig::new(store);
    for (key, value) in apache_fixture::store_settings(store) {
        c.apply(&key, &value).unwrap();
    }
    c.replica = replica;
    c
}

/// The body as the producer sent it: inflated when the client compressed it.
fn sent_body(view: &RecordView<'_>) -> Vec<u8> {
    if view.sys_flag() & sysflag::COMPRESSED == 0 {
        return view.body().to_vec();
    }
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(view.body())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn uniq_key<'a>(view: &RecordView<'a>) -> Option<&'a str> {
    properties::find(view.properties(), "UNIQ_KEY")
}

/// Checks that `raw` is the message of `a`, as sent.
fn assert_is(a: &Acked, raw: &[u8]) {
    let view = RecordView::decode(raw).unwrap();
    view.verify().unwrap();
    assert_eq!(uniq_key(&view), Some(a.msg_id.as_str()), "{a:?}");
    let body = sent_body(&view);
    assert_eq!(body.len(), a.body_len, "{a:?}");
    assert_eq!(sha256_hex(&body), a.body_sha256, "{a:?}");
}

/// Every commit log file's name and bytes.
fn commit_log_bytes(store: &Path) -> BTreeMap<String, Vec<u8>> {
    support::commit_log_bytes(&store.join("commitlog"))
        .into_iter()
        .collect()
}

/// Opens the fixture store and checks every acknowledged message.
fn serves_every_acknowledged_message(name: &str, replica: bool) {
    let (_dir, store_dir) = unpack(name);
    let before = commit_log_bytes(&store_dir);
    let acked = acked(&store_dir);
    assert!(!acked.is_empty());
    let (store, report) = MessageStore::open_with_report(config(&store_dir, replica)).unwrap();
    assert_eq!(report.abnormal, name == "killed", "{report:?}");
    assert!(report.quarantined.is_none(), "{report:?}");

    for a in &acked {
        // By unique key (the id the client printed), through the index.
        let by_id = store.query_by_key(&a.topic, &a.msg_id, 4, 0, i64::MAX);
        // A delayed message that Apache had not delivered yet is still in the schedule topic,
        // indexed under that topic.
        let by_id = if by_id.is_empty() && a.kind == "delay" {
            store.query_by_key("SCHEDULE_TOPIC_XXXX", &a.msg_id, 4, 0, i64::MAX)
        } else {
            by_id
        };
        assert!(!by_id.is_empty(), "not found by id: {a:?}");
        for raw in &by_id {
            assert_is(a, raw);
        }
        // By each of its keys.
        for key in a.keys.split(' ').filter(|k| !k.is_empty()) {
            let topic = RecordView::decode(&by_id[0]).unwrap().topic().to_owned();
            let found = store.query_by_key(&topic, key, 4096, 0, i64::MAX);
            assert!(
                found.iter().any(|raw| {
                    uniq_key(&RecordView::decode(raw).unwrap()) == Some(a.msg_id.as_str())
                }),
                "key {key} of {a:?}"
            );
        }
        // By its queue position, where the client's send result names the stored one (the
        // position of a delayed or transactional send is that of the schedule or half topic).
        if matches!(a.kind.as_str(), "plain" | "batch" | "order") {
            let got = store.get_message(&GetRequest {
                topic: &a.topic,
                queue_id: a.queue_id,
                offset: a.queue_offset,
                max_count: 1,
                max_bytes: 1 << 20,
                filter: None,
            });
            assert_eq!(got.status, GetStatus::Found, "{a:?}");
            assert_is(a, &got.messages[0]);
        }
    }
    store.shutdown();
    assert_every_written_byte_stays(&before, &commit_log_bytes(&store_dir));
}

/// Recovery cut nothing but zeroes: every byte Apache wrote is still there, and a file was
/// deleted only if it held nothing (Apache creates the next file ahead of need).
fn assert_every_written_byte_stays(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) {
    for (name, bytes) in before {
        let written = bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
        match after.get(name) {
            Some(now) => assert_eq!(now[..written], bytes[..written], "{name} changed"),
            None => assert_eq!(written, 0, "{name}, which held data, was deleted"),
        }
    }
}

#[test]
fn the_cleanly_stopped_apache_store_serves_every_acknowledged_message() {
    serves_every_acknowledged_message("clean", false);
}

#[test]
fn the_killed_apache_store_serves_every_acknowledged_message() {
    serves_every_acknowledged_message("killed", false);
}

#[test]
fn the_cleanly_stopped_apache_store_opened_as_a_slaves_serves_every_acknowledged_message() {
    serves_every_acknowledged_message("clean", true);
}

#[test]
fn the_killed_apache_store_opened_as_a_slaves_serves_every_acknowledged_message() {
    serves_every_acknowledged_message("killed", true);
}

#[test]
fn rolled_back_transactional_sends_of_the_apache_store_stay_out_of_their_topic() {
    let (_dir, store_dir) = unpack("clean");
    let committed: Vec<String> = acked(&store_dir)
        .into_iter()
        .filter(|a| a.kind == "tx-commit")
        .map(|a| a.msg_id)
        .collect();
    let store = MessageStore::open(config(&store_dir, false)).unwrap();
    let mut in_topic = Vec::new();
    let queue_ids: Vec<i32> = store
        .queues()
        .into_iter()
        .filter(|(topic, _)| topic == "FixTx")
        .map(|(_, q)| q)
        .collect();
    assert!(!queue_ids.is_empty());
    for queue_id in queue_ids {
        let mut offset = 0;
        loop {
            let got = store.get_message(&GetRequest {
                topic: "FixTx",
                queue_id,
                offset,
                max_count: 32,
                max_bytes: 1 << 20,
                filter: None,
            });
            if got.status != GetStatus::Found {
                break;
            }
            for raw in &got.messages {
                let view = RecordView::decode(raw).unwrap();
                in_topic.push(uniq_key(&view).unwrap().to_owned());
            }
            offset = got.next_begin_offset;
        }
    }
    in_topic.sort();
    let mut expected = committed;
    expected.sort();
    assert_eq!(in_topic, expected);
    store.shutdown();
}

#[test]
fn manual_clean_ups_of_an_apache_store_delete_nothing_unexpired_and_raw_queue_entries_point_at_the_acked_records()
 {
    let (_dir, store_dir) = unpack("killed");
    let before = commit_log_bytes(&store_dir);
    let acked = acked(&store_dir);
    let mut c = config(&store_dir, false);
    // Nothing in the fixture counts as expired, whatever the files' dates after unpacking, and
    // nothing is deleted for disk pressure, whatever the fill of the machine's disk.
    c.apply("fileReservedTime", "876000").unwrap();
    c.disk_max_used_space_ratio = 100;
    c.disk_space_clean_forcibly_ratio = 1.0;
    let store = MessageStore::open(c).unwrap();
    // DELETE_EXPIRED_COMMITLOG and CLEAN_EXPIRED_CONSUMEQUEUE as an operator would run them.
    store.delete_expired_now();
    assert_eq!(store.delete_expired_queue_files(), 0);
    assert_eq!(store.commit_log_min_offset(), 0);
    let plain: Vec<&Acked> = acked
        .iter()
        .filter(|a| matches!(a.kind.as_str(), "plain" | "batch" | "order"))
        .collect();
    assert!(!plain.is_empty());
    for a in plain {
        // QUERY_CONSUME_QUEUE's entries: the commit log offset and size of the acked record.
        let (min, max, entries) = store
            .queue_entries(&a.topic, a.queue_id, a.queue_offset, 1)
            .unwrap();
        assert!(min <= a.queue_offset && (a.queue_offset) < max, "{a:?}");
        let entry = &entries[0];
        let raw = store.read_record(entry.commit_log_offset as u64).unwrap();
        assert_eq!(raw.len(), entry.size as usize);
        assert_is(a, &raw);
    }
    store.shutdown();
    assert_every_written_byte_stays(&before, &commit_log_bytes(&store_dir));
}

#[test]
fn destroying_one_topics_queues_on_the_apache_store_leaves_every_other_acked_message_and_stays_done_after_a_crash()
 {
    let (_dir, store_dir) = unpack("killed");
    let before = commit_log_bytes(&store_dir);
    let acked = acked(&store_dir);
    let plain: Vec<&Acked> = acked
        .iter()
        .filter(|a| matches!(a.kind.as_str(), "plain" | "batch" | "order"))
        .collect();
    let gone = plain[0].topic.clone();
    let kept: Vec<&Acked> = plain.iter().copied().filter(|a| a.topic != gone).collect();
    assert!(
        !kept.is_empty(),
        "the fixture has acked messages on a second topic"
    );
    let config = config(&store_dir, false);
    let store = MessageStore::open(config.clone()).unwrap();
    assert!(store.destroy_topic_queues(&gone).unwrap() > 0);
    store.shutdown();
    drop(store);
    // A crash after the destruction: the next start validates and re-dispatches the log's tail
    // (Apache's records of the topic included) and must not bring the queues back.
    std::fs::write(config.abort_path(), b"").unwrap();
    let (store, report) = MessageStore::open_with_report(config).unwrap();
    assert!(report.abnormal, "{report:?}");
    assert!(!store.queue_topics().contains(&gone), "{gone} rebuilt");
    for a in kept {
        let got = store.get_message(&GetRequest {
            topic: &a.topic,
            queue_id: a.queue_id,
            offset: a.queue_offset,
            max_count: 1,
            max_bytes: 1 << 20,
            filter: None,
        });
        assert_eq!(got.status, GetStatus::Found, "{a:?}");
        assert_is(a, &got.messages[0]);
    }
    store.shutdown();
    assert_every_written_byte_stays(&before, &commit_log_bytes(&store_dir));
}
