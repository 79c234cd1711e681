use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::sysflag;
use rmq_store::delay_level::DelayLevels;

use super::*;
use crate::props;

#[test]
fn the_retry_limit_comes_before_the_half_topic_and_plain_sends_stay_where_asked() {
    assert_eq!(send(16, Some(16), true), Route::DeadLetter);
    assert_eq!(send(15, Some(16), true), Route::Half);
    assert_eq!(send(15, Some(16), false), Route::AsAsked);
    assert_eq!(send(99, None, false), Route::AsAsked);
}

#[test]
fn a_committed_half_message_goes_to_its_real_address_as_a_commit() {
    let (half, flag) = half_message(
        "Pay",
        3,
        sysflag::TRANSACTION_PREPARED_TYPE | 1,
        b"KEYS\x01k\x02",
    );
    let (topic, queue, committed_flag) = committed(&half, flag).unwrap();
    assert_eq!((topic, queue), ("Pay", 3));
    assert_eq!(
        sysflag::transaction_type(committed_flag),
        sysflag::TRANSACTION_COMMIT_TYPE
    );
    assert_eq!(committed_flag & 1, 1, "other bits kept");
    // A bad REAL_QID falls back to queue 0; no REAL_TOPIC, nowhere to go.
    let odd = properties::encode([("REAL_TOPIC", "T"), ("REAL_QID", "x")]);
    assert_eq!(committed(&odd, 0).map(|(t, q, _)| (t, q)), Some(("T", 0)));
    assert!(committed(b"KEYS\x01k\x02", 0).is_none());
}

#[test]
fn a_delayed_send_is_rewritten_into_the_level_queue_with_its_real_address() {
    let levels = DelayLevels::parse("1s 2s 3s").unwrap();
    let props = properties::encode([("TAGS", "a"), ("DELAY", "2")]);
    let (queue, rewritten) =
        delay_rewrite(&levels, "T", 5, 0, &props, props::int(&props, keys::DELAY)).unwrap();
    assert_eq!(queue, 1);
    assert_eq!(properties::find(&rewritten, keys::REAL_TOPIC), Some("T"));
    assert_eq!(properties::find(&rewritten, keys::REAL_QID), Some("5"));
    assert_eq!(properties::find(&rewritten, keys::TAGS), Some("a"));
    // Capped at the highest level.
    let far = properties::encode([("DELAY", "40")]);
    let (queue, rewritten) =
        delay_rewrite(&levels, "T", 0, 0, &far, props::int(&far, keys::DELAY)).unwrap();
    assert_eq!(queue, 2);
    assert_eq!(properties::find(&rewritten, keys::DELAY), Some("3"));
    // No delay, level 0, or a half message: stored as is.
    assert!(delay_rewrite(&levels, "T", 0, 0, b"TAGS\x01a\x02", None).is_none());
    assert!(delay_rewrite(&levels, "T", 0, 0, b"DELAY\x010\x02", Some(0)).is_none());
    let prepared = sysflag::TRANSACTION_PREPARED_TYPE;
    assert!(delay_rewrite(&levels, "T", 0, prepared, &props, Some(3)).is_none());
}

#[test]
fn a_half_message_keeps_its_real_address_and_loses_the_prepared_bit() {
    let props = properties::encode([("TRAN_MSG", "true"), ("PGROUP", "pg")]);
    let (half, flag) = half_message("Pay", 3, sysflag::TRANSACTION_PREPARED_TYPE | 1, &props);
    assert_eq!(properties::find(&half, keys::REAL_TOPIC), Some("Pay"));
    assert_eq!(properties::find(&half, keys::REAL_QID), Some("3"));
    assert_eq!(properties::find(&half, keys::PGROUP), Some("pg"));
    assert_eq!(flag, 1);
}

#[test]
fn retries_use_level_three_plus_attempts_until_the_limit_then_dead_letter() {
    assert_eq!(destination(0, 16, 0), Destination::Retry { delay_level: 3 });
    assert_eq!(destination(5, 16, 0), Destination::Retry { delay_level: 8 });
    assert_eq!(destination(5, 16, 2), Destination::Retry { delay_level: 2 });
    assert_eq!(destination(16, 16, 0), Destination::DeadLetter);
    assert_eq!(destination(0, 16, -1), Destination::DeadLetter);
    assert_eq!(destination(0, 0, 0), Destination::DeadLetter);
}
