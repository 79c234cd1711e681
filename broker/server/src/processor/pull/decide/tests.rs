use std::time::Duration;

use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_store::GetStatus;
use rmq_store::metadata::{SubscriptionGroupConfig, TopicConfig};

use super::*;

fn topic(read: i32, permission: i32) -> TopicConfig {
    TopicConfig {
        topic_name: "T".to_owned(),
        read_queue_nums: read,
        write_queue_nums: read,
        perm: permission,
        ..TopicConfig::default()
    }
}

fn group(consume_enable: bool) -> SubscriptionGroupConfig {
    SubscriptionGroupConfig {
        group_name: "g".to_owned(),
        consume_enable,
        ..SubscriptionGroupConfig::default()
    }
}

#[test]
fn a_broker_without_the_read_permission_refuses_pulls_with_no_permission() {
    let refused = check_broker(perm::WRITE, "10.0.0.1").unwrap_err();
    assert_eq!(refused.code(), ResponseCode::NoPermission);
    assert_eq!(
        refused.to_string(),
        "the broker[10.0.0.1] pulling message is forbidden"
    );
    assert_eq!(check_broker(perm::READ | perm::WRITE, "h"), Ok(()));
}

#[test]
fn an_unknown_group_is_refused_on_a_master_and_served_with_defaults_on_a_slave() {
    let refused = found_group::<String>("g", Ok(None), false).unwrap_err();
    assert_eq!(refused.code(), ResponseCode::SubscriptionGroupNotExist);
    assert_eq!(
        refused.to_string(),
        "subscription group [g] does not exist, http://rocketmq.apache.org/docs/faq/"
    );
    let on_slave = found_group::<String>("g", Ok(None), true).unwrap();
    assert_eq!(on_slave.group_name, "g");
    assert!(on_slave.consume_enable);
}

#[test]
fn a_group_that_cannot_be_loaded_is_a_system_error_and_a_disabled_one_has_no_permission() {
    let failed = found_group("g", Err("disk"), false).unwrap_err();
    assert_eq!(failed.code(), ResponseCode::SystemError);
    let disabled = found_group::<String>("g", Ok(Some(group(false))), false).unwrap_err();
    assert_eq!(disabled.code(), ResponseCode::NoPermission);
    assert_eq!(disabled.to_string(), "subscription group no permission, g");
    assert!(found_group::<String>("g", Ok(Some(group(true))), false).is_ok());
}

#[test]
fn a_missing_unreadable_or_short_topic_is_refused_with_apaches_codes() {
    let missing = check_topic("T", None, 0, "g").unwrap_err();
    assert_eq!(missing.code(), ResponseCode::TopicNotExist);
    let write_only = topic(4, perm::WRITE);
    let unreadable = check_topic("T", Some(&write_only), 0, "g").unwrap_err();
    assert_eq!(unreadable.code(), ResponseCode::NoPermission);
    assert_eq!(
        unreadable.to_string(),
        "the topic[T] pulling message is forbidden"
    );
    let readable = topic(4, perm::READ);
    for queue in [-1, 4] {
        let illegal = check_topic("T", Some(&readable), queue, "g").unwrap_err();
        assert_eq!(illegal.code(), ResponseCode::SystemError);
    }
    assert_eq!(
        check_topic("T", Some(&readable), 4, "g")
            .unwrap_err()
            .to_string(),
        "queueId[4] is illegal, topic:[T] topicConfig.readQueueNums:[4] consumer:[g]"
    );
    assert_eq!(check_topic("T", Some(&readable), 3, "g"), Ok(()));
}

#[test]
fn a_subscription_in_the_request_that_does_not_parse_is_subscription_parse_failed() {
    let refused = filter_from_request(true, Some("SQL92"), Some("a >")).unwrap_err();
    assert_eq!(refused.code(), ResponseCode::SubscriptionParseFailed);
    let unsupported = filter_from_request(false, Some("SQL92"), Some("a > 1")).unwrap_err();
    assert_eq!(unsupported.code(), ResponseCode::SystemError);
    assert!(filter_from_request(false, None, Some("a || b")).is_ok());
}

#[test]
fn a_pull_without_a_registered_group_or_subscription_is_subscription_not_exist() {
    let no_group = filter_from_heartbeat(false, "g", "T", false, None).unwrap_err();
    assert_eq!(no_group.code(), ResponseCode::SubscriptionNotExist);
    assert!(no_group.to_string().ends_with("group: g"));
    let no_topic = filter_from_heartbeat(false, "g", "T", true, None).unwrap_err();
    assert_eq!(no_topic.code(), ResponseCode::SubscriptionNotExist);
    assert!(no_topic.to_string().ends_with("topic: T"));
}

#[test]
fn a_registered_sql92_subscription_that_does_not_parse_is_filter_data_not_exist() {
    let refused = filter_from_heartbeat(true, "g", "T", true, Some(("SQL92", "a >"))).unwrap_err();
    assert_eq!(refused.code(), ResponseCode::FilterDataNotExist);
    let unsupported =
        filter_from_heartbeat(false, "g", "T", true, Some(("SQL92", "a > 1"))).unwrap_err();
    assert_eq!(unsupported.code(), ResponseCode::SystemError);
    assert!(filter_from_heartbeat(false, "g", "T", true, Some(("TAG", "*"))).is_ok());
}

#[test]
fn a_pull_is_held_for_the_consumers_timeout_only_with_long_polling() {
    let short = Duration::from_millis(1000);
    assert_eq!(hold(true, 15_000, short), Duration::from_secs(15));
    assert_eq!(hold(true, -1, short), Duration::ZERO);
    assert_eq!(hold(false, 15_000, short), short);
}

#[test]
fn a_read_returns_at_least_one_message_and_never_more_than_the_broker_allows() {
    assert_eq!(read_limits(32, None, 1024), (32, MAX_PULL_BYTES));
    assert_eq!(read_limits(0, Some(0), 1024), (1, 1));
    assert_eq!(read_limits(-5, Some(-1), 1024), (1, MAX_PULL_BYTES));
    assert_eq!(
        read_limits(5000, Some(i32::MAX), 1024),
        (1024, MAX_PULL_BYTES)
    );
}

#[test]
fn read_outcomes_are_answered_with_apaches_pull_codes() {
    use GetStatus::*;
    let cases = [
        (Found, 5, 2, ResponseCode::Success),
        // Everything read was filtered out: read on at once.
        (Found, 5, 0, ResponseCode::PullRetryImmediately),
        (NoMatchedMessage, 5, 0, ResponseCode::PullRetryImmediately),
        (MessageWasRemoving, 5, 0, ResponseCode::PullRetryImmediately),
        (NoMatchedLogicQueue, 0, 0, ResponseCode::PullNotFound),
        (NoMatchedLogicQueue, 3, 0, ResponseCode::PullOffsetMoved),
        (NoMessageInQueue, 0, 0, ResponseCode::PullNotFound),
        (NoMessageInQueue, 3, 0, ResponseCode::PullOffsetMoved),
        (OffsetFoundNull, 3, 0, ResponseCode::PullNotFound),
        (OffsetOverflowOne, 3, 0, ResponseCode::PullNotFound),
        (OffsetOverflowBadly, 3, 0, ResponseCode::PullOffsetMoved),
        (OffsetTooSmall, 3, 0, ResponseCode::PullOffsetMoved),
    ];
    for (status, offset, kept, code) in cases {
        assert_eq!(
            response_code(status, offset, kept),
            code,
            "{status:?} at {offset}"
        );
    }
    assert_eq!(next_begin_offset(NoMessageInQueue, 7), 0);
    assert_eq!(next_begin_offset(NoMatchedLogicQueue, 7), 0);
    assert_eq!(next_begin_offset(OffsetOverflowOne, 7), 7);
}
