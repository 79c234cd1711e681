use std::time::Duration;

use rmq_protocol::message::sysflag;
use rmq_store::StoreConfig;

use super::*;
use crate::route::half_message;
use crate::transaction::put_op;

const LIMITS: Limits = Limits {
    timeout_ms: 6_000,
    check_max: 3,
    reserved_ms: 72 * 3_600_000,
};

fn facts(check_times: Option<i32>, born: i64) -> HalfFacts {
    HalfFacts {
        check_times,
        immunity_seconds: None,
        born_timestamp: born,
        store_timestamp: born,
    }
}

#[test]
fn a_young_half_message_waits_and_an_old_one_is_checked() {
    assert_eq!(
        decide(facts(None, 1_000), LIMITS, 5_000, 5_000),
        Decision::Later
    );
    assert_eq!(
        decide(facts(None, 1_000), LIMITS, 8_000, 8_000),
        Decision::Check { check_times: 1 }
    );
    assert_eq!(
        decide(facts(Some(2), 1_000), LIMITS, 8_000, 8_000),
        Decision::Check { check_times: 3 }
    );
}

#[test]
fn after_check_max_checks_the_half_message_is_discarded() {
    assert_eq!(
        decide(facts(Some(3), 1_000), LIMITS, 8_000, 8_000),
        Decision::Discard
    );
    // Older than the commit log keeps data: discarded whatever the count.
    let ancient = LIMITS.reserved_ms + 10;
    assert_eq!(
        decide(facts(None, 0), LIMITS, ancient, ancient),
        Decision::Discard
    );
}

#[test]
fn immunity_time_replaces_the_timeout_and_fresh_copies_wait() {
    let mut f = facts(None, 1_000);
    f.immunity_seconds = Some(20);
    assert_eq!(decide(f, LIMITS, 10_000, 10_000), Decision::Later);
    assert_eq!(
        decide(f, LIMITS, 22_000, 22_000),
        Decision::Check { check_times: 1 }
    );
    let mut fresh = facts(None, 1_000);
    fresh.store_timestamp = 9_000;
    assert_eq!(decide(fresh, LIMITS, 9_000, 9_000), Decision::Later);
}

struct Fixture {
    dir: tempfile::TempDir,
    store: MessageStore,
    topics: Topics,
    offsets: ConsumerOffsets,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(dir.path());
    config.commit_log_file_size = 1 << 20;
    let store = MessageStore::open(config).unwrap();
    let config_dir = dir.path().join("config");
    let topics = Topics::load(
        config_dir.clone(),
        "c",
        "b",
        true,
        4,
        crate::clock::Clock::system(),
    )
    .unwrap();
    let offsets = ConsumerOffsets::load(config_dir).unwrap();
    Fixture {
        dir,
        store,
        topics,
        offsets,
    }
}

/// Stores a half message; returns (queue offset, commit log offset).
fn put_half(f: &Fixture, key: &str, born: i64) -> (i64, i64) {
    let props = properties::encode([
        ("TRAN_MSG", "true"),
        ("PGROUP", "pg"),
        ("UNIQ_KEY", key),
        ("KEYS", key),
    ]);
    let (props, flag) = half_message("Pay", 2, sysflag::TRANSACTION_PREPARED_TYPE, &props);
    let put = f
        .store
        .put_message(&PutMessage {
            sys_flag: flag,
            born_timestamp: born,
            properties: &props,
            ..PutMessage::new(
                TRANS_HALF_TOPIC,
                0,
                key.as_bytes(),
                "127.0.0.1:1".parse().unwrap(),
            )
        })
        .unwrap();
    assert!(f.store.wait_dispatched(Duration::from_secs(5)));
    (
        put.appended.queue_offset,
        put.appended.record_offsets[0] as i64,
    )
}

fn pass(f: &Fixture, now: i64) -> PassOutcome {
    let outcome = run_pass(&f.store, &f.topics, &f.offsets, LIMITS, now);
    assert!(f.store.wait_dispatched(Duration::from_secs(5)));
    outcome
}

#[test]
fn unresolved_half_messages_are_checked_each_pass_then_discarded() {
    let f = fixture();
    let born = rmq_store::commit_log::now_ms();
    put_half(&f, "U1", born);
    assert!(
        pass(&f, born + 1_000).checks.is_empty(),
        "younger than the timeout"
    );
    let mut now = born + 7_000;
    for n in 1..=3 {
        let outcome = pass(&f, now);
        assert_eq!(outcome.checks.len(), 1, "check {n}");
        let check = &outcome.checks[0];
        assert_eq!(check.producer_group, "pg");
        assert_eq!(check.header.msg_id.as_deref(), Some("U1"));
        let view = RecordView::decode(&check.body).unwrap();
        assert_eq!(view.topic(), "Pay", "the check shows the real topic");
        assert_eq!(view.queue_id(), 2);
        assert_eq!(view.physical_offset(), check.header.commit_log_offset);
        assert_eq!(
            properties::find(view.properties(), keys::TRANSACTION_CHECK_TIMES),
            Some(n.to_string().as_str())
        );
        now += 60_000;
    }
    let last = pass(&f, now);
    assert!(last.checks.is_empty());
    assert_eq!(last.discarded, 1);
    assert_eq!(
        f.store.max_offset_in_queue(TRANS_CHECK_MAX_TIME_TOPIC, 0),
        1
    );
    assert!(
        pass(&f, now + 60_000).checks.is_empty(),
        "nothing left to check"
    );
    drop(f.dir);
}

#[test]
fn a_half_message_with_an_op_record_is_never_checked() {
    let f = fixture();
    let born = rmq_store::commit_log::now_ms();
    let (q1, _) = put_half(&f, "U1", born);
    put_half(&f, "U2", born);
    put_op(
        &f.store,
        &f.topics,
        "127.0.0.1:1".parse().unwrap(),
        0,
        q1,
        0,
    )
    .unwrap();
    assert!(f.store.wait_dispatched(Duration::from_secs(5)));
    let outcome = pass(&f, born + 7_000);
    assert_eq!(outcome.resolved, 1);
    assert_eq!(outcome.checks.len(), 1);
    assert_eq!(outcome.checks[0].header.msg_id.as_deref(), Some("U2"));
    // The check offset moved past both; the op offset past the consumed op.
    assert_eq!(f.offsets.query(CHECK_GROUP, TRANS_HALF_TOPIC, 0), Some(2));
    assert_eq!(
        f.offsets.query(CHECK_GROUP, TRANS_OP_HALF_TOPIC, 0),
        Some(1)
    );
    // The copy of U2 is resolved by an op on the copy's offset: no further check.
    let copy = outcome.checks[0].header.tran_state_table_offset;
    put_op(
        &f.store,
        &f.topics,
        "127.0.0.1:1".parse().unwrap(),
        0,
        copy,
        0,
    )
    .unwrap();
    assert!(f.store.wait_dispatched(Duration::from_secs(5)));
    let again = pass(&f, born + 70_000);
    assert!(again.checks.is_empty());
    assert_eq!(again.resolved, 1);
}
