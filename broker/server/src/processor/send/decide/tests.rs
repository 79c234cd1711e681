use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::sysflag;
use rmq_store::error::PutError;
use rmq_store::metadata::{SubscriptionGroupConfig, TopicConfig};

use super::*;
use crate::config::BrokerRole;

fn topic(name: &str, write: i32, read: i32, permission: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.to_owned(),
        write_queue_nums: write,
        read_queue_nums: read,
        perm: permission,
        ..TopicConfig::default()
    }
}

fn plain() -> SendProps {
    SendProps::scan(b"")
}

#[test]
fn one_scan_finds_every_flag_the_send_path_needs() {
    let raw = properties::encode([
        ("TAGS", "a"),
        ("CLUSTER", "c"),
        ("UNIQ_KEY", "ID"),
        ("TRAN_MSG", "TRUE"),
        ("DELAY", " 3 "),
        ("WAIT", "false"),
    ]);
    assert_eq!(
        SendProps::scan(&raw),
        SendProps {
            has_cluster: true,
            has_uniq_key: true,
            transaction: true,
            delay_level: Some(3),
            waits_for_store: false,
            timer: false,
        }
    );
    assert_eq!(
        SendProps::scan(b"TAGS\x01a\x02"),
        SendProps {
            waits_for_store: true,
            ..SendProps::default()
        }
    );
}

#[test]
fn the_scan_agrees_with_find_on_repeated_broken_and_non_utf8_pairs() {
    // The last pair of a name decides; a last value that is not UTF-8 counts as absent.
    let cases: [&[u8]; 6] = [
        b"WAIT\x01false\x02WAIT\x01true\x02",
        b"WAIT\x01true\x02WAIT\x01false",
        b"TRAN_MSG\x01true\x02TRAN_MSG\x01\xff\x02",
        b"DELAY\x01x\x02",
        b"DELAY\x01\x02CLUSTER\x02UNIQ_KEY\x01\x02",
        b"\x01DELAY\x012\x02TRAN_MSG\x01false\x02",
    ];
    for raw in cases {
        let scanned = SendProps::scan(raw);
        assert_eq!(
            scanned.waits_for_store,
            properties::find(raw, keys::WAIT).is_none_or(|w| w != "false"),
            "{raw:?}"
        );
        assert_eq!(
            scanned.transaction,
            properties::find(raw, keys::TRAN_MSG).is_some_and(|v| v.eq_ignore_ascii_case("true")),
            "{raw:?}"
        );
        assert_eq!(
            scanned.delay_level,
            properties::find(raw, keys::DELAY).and_then(|v| v.trim().parse().ok()),
            "{raw:?}"
        );
        assert_eq!(
            scanned.has_cluster,
            properties::find(raw, keys::CLUSTER).is_some()
        );
        assert_eq!(
            scanned.has_uniq_key,
            properties::find(raw, keys::UNIQ_KEY).is_some()
        );
    }
}

#[test]
fn a_slave_refuses_sends_as_service_not_available_before_anything_else() {
    let refused = check_broker(BrokerRole::Slave, false, "10.0.0.1").unwrap_err();
    assert!(matches!(refused, SendRefused::SlaveRole));
    assert_eq!(refused.code(), ResponseCode::ServiceNotAvailable);
    assert!(refused.to_string().contains("service not available"));
}

#[test]
fn a_master_without_the_write_permission_refuses_with_no_permission_naming_its_ip() {
    let refused = check_broker(BrokerRole::SyncMaster, false, "10.0.0.1").unwrap_err();
    assert_eq!(refused.code(), ResponseCode::NoPermission);
    assert_eq!(
        refused.to_string(),
        "the broker[10.0.0.1] sending message is forbidden"
    );
    check_broker(BrokerRole::AsyncMaster, true, "h").unwrap();
}

#[test]
fn an_invalid_topic_name_is_a_system_error_and_a_broker_topic_is_forbidden() {
    let blank = check_topic_name(" ").unwrap_err();
    assert_eq!(blank.code(), ResponseCode::SystemError);
    assert_eq!(blank.to_string(), "The specified topic is blank.");
    assert_eq!(
        check_topic_name("a b").unwrap_err().code(),
        ResponseCode::SystemError
    );
    let system = check_topic_name("SCHEDULE_TOPIC_XXXX").unwrap_err();
    assert_eq!(system.code(), ResponseCode::NoPermission);
    assert_eq!(
        system.to_string(),
        "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden."
    );
    check_topic_name("Orders").unwrap();
}

#[test]
fn a_missing_topic_is_topic_not_exist_and_one_that_cannot_be_created_a_system_error() {
    let missing = found_topic::<String>("T", Ok(None)).unwrap_err();
    assert_eq!(missing.code(), ResponseCode::TopicNotExist);
    assert!(
        missing
            .to_string()
            .starts_with("topic[T] not exist, apply first please!")
    );
    let failed = found_topic("T", Err("disk full")).unwrap_err();
    assert_eq!(failed.code(), ResponseCode::SystemError);
    assert!(failed.is_broker_fault());
    let found = found_topic::<String>("T", Ok(Some(topic("T", 4, 4, 6)))).unwrap();
    assert_eq!(found.topic_name, "T");
}

#[test]
fn a_topic_without_write_permission_is_refused_with_no_permission() {
    let read_only = topic("T", 4, 4, perm::READ);
    let refused = choose_queue(&read_only, 0, 0, "pg").unwrap_err();
    assert_eq!(refused.code(), ResponseCode::NoPermission);
    assert_eq!(
        refused.to_string(),
        "the topic[T] sending message is forbidden"
    );
}

#[test]
fn a_queue_beyond_the_topic_or_a_topic_without_write_queues_is_a_system_error() {
    let t = topic("T", 4, 8, perm::READ | perm::WRITE);
    // Apache allows up to max(read, write) queues.
    assert_eq!(choose_queue(&t, 7, 0, "pg").unwrap(), 7);
    let refused = choose_queue(&t, 8, 0, "pg").unwrap_err();
    assert_eq!(refused.code(), ResponseCode::SystemError);
    assert_eq!(
        refused.to_string(),
        "request queueId[8] is illegal, topic:[T] topicConfig.writeQueueNums:[4] producer:[pg]"
    );
    let none = topic("T", 0, 4, perm::READ | perm::WRITE);
    assert_eq!(
        choose_queue(&none, 0, 0, "pg").unwrap_err().code(),
        ResponseCode::SystemError
    );
}

#[test]
fn a_send_without_a_queue_goes_round_robin_over_the_write_queues() {
    let t = topic("T", 3, 8, perm::READ | perm::WRITE);
    let picked: Vec<i32> = (0..6)
        .map(|n| choose_queue(&t, -1, n, "pg").unwrap())
        .collect();
    assert_eq!(picked, [0, 1, 2, 0, 1, 2]);
}

#[test]
fn a_body_over_the_maximum_or_properties_over_32767_bytes_are_illegal() {
    check_sizes(10, 10, MAX_PROPERTIES_LEN).unwrap();
    let body = check_sizes(10, 11, 0).unwrap_err();
    assert_eq!(body.code(), ResponseCode::MessageIllegal);
    assert_eq!(
        body.to_string(),
        "the message body size over max value, MAX: 10"
    );
    let props = check_sizes(10, 0, MAX_PROPERTIES_LEN + 1).unwrap_err();
    assert_eq!(props.code(), ResponseCode::MessageIllegal);
}

#[test]
fn batches_to_retry_topics_transactional_or_delayed_are_illegal() {
    let delayed = SendProps {
        delay_level: Some(2),
        ..plain()
    };
    for refused in [
        check_batch("%RETRY%g", 0, &plain()).unwrap_err(),
        check_batch("T", sysflag::TRANSACTION_PREPARED_TYPE, &plain()).unwrap_err(),
        check_batch("T", 0, &delayed).unwrap_err(),
        SendRefused::BatchEmpty,
        SendRefused::BatchBody("truncated".into()),
    ] {
        assert_eq!(refused.code(), ResponseCode::MessageIllegal, "{refused}");
    }
    let level_zero = SendProps {
        delay_level: Some(0),
        ..plain()
    };
    check_batch("T", 0, &level_zero).unwrap();
}

#[test]
fn the_header_limit_overrides_the_group_from_client_version_3_4_9_on() {
    assert_eq!(max_reconsume_times(16, VERSION_3_4_9, Some(3)), 3);
    assert_eq!(max_reconsume_times(16, VERSION_3_4_9 - 1, Some(3)), 16);
    assert_eq!(max_reconsume_times(16, VERSION_3_4_9, None), 16);
}

#[test]
fn a_retry_send_at_the_limit_goes_to_the_dead_letter_queue_even_when_transactional() {
    let tran = SendProps {
        transaction: true,
        ..plain()
    };
    assert_eq!(
        route(16, Some(16), &tran, true, "h").unwrap(),
        Route::DeadLetter
    );
    assert_eq!(
        route(15, Some(16), &plain(), false, "h").unwrap(),
        Route::AsAsked
    );
    // Not a retry topic: no limit applies.
    assert_eq!(
        route(99, None, &plain(), false, "h").unwrap(),
        Route::AsAsked
    );
}

#[test]
fn a_half_message_goes_to_the_half_topic_unless_the_broker_rejects_transactions() {
    let tran = SendProps {
        transaction: true,
        ..plain()
    };
    assert_eq!(route(0, None, &tran, false, "h").unwrap(), Route::Half);
    let refused = route(0, None, &tran, true, "10.0.0.1").unwrap_err();
    assert_eq!(refused.code(), ResponseCode::NoPermission);
    assert_eq!(
        refused.to_string(),
        "the broker[10.0.0.1] sending transaction message is forbidden"
    );
}

#[test]
fn group_refusals_of_a_retry_send_are_group_not_exist_or_system_error() {
    let missing = SendRefused::GroupNotExist("g".into());
    assert_eq!(missing.code(), ResponseCode::SubscriptionGroupNotExist);
    assert_eq!(
        missing.to_string(),
        "subscription group not exist, g http://rocketmq.apache.org/docs/faq/"
    );
    assert_eq!(
        SendRefused::GroupNotLoaded("io".into()).code(),
        ResponseCode::SystemError
    );
    assert_eq!(
        SendRefused::DeadLetterTopic("io".into()).code(),
        ResponseCode::SystemError
    );
}

#[test]
fn store_failures_map_to_apaches_codes_and_only_broker_faults_are_logged() {
    let full = SendRefused::Store(PutError::DiskFull { used_ratio: 0.99 });
    assert_eq!(full.code(), ResponseCode::ServiceNotAvailable);
    assert!(full.is_broker_fault());
    let large = SendRefused::Store(PutError::BodyTooLarge { size: 9, max: 8 });
    assert_eq!(large.code(), ResponseCode::MessageIllegal);
    assert!(!large.is_broker_fault());
    for error in [PutError::Poisoned, PutError::ShutDown, PutError::ReadOnly] {
        assert_eq!(
            SendRefused::Store(error).code(),
            ResponseCode::ServiceNotAvailable
        );
    }
    assert_eq!(
        SendRefused::FlushFailed.code(),
        ResponseCode::ServiceNotAvailable
    );
}

#[test]
fn completed_properties_add_uniq_key_and_cluster_only_when_missing() {
    let mut out = Vec::new();
    let client = b"TAGS\x01a";
    complete_properties(
        client,
        &SendProps::scan(client),
        "C1",
        || "ID".into(),
        &mut out,
    );
    assert_eq!(out, b"TAGS\x01a\x02UNIQ_KEY\x01ID\x02CLUSTER\x01C1\x02");

    let mut out = Vec::new();
    let client = b"UNIQ_KEY\x01X\x02CLUSTER\x01Z\x02";
    complete_properties(
        client,
        &SendProps::scan(client),
        "C1",
        || unreachable!("the client's id is kept"),
        &mut out,
    );
    assert_eq!(out, client);

    let mut out = Vec::new();
    complete_properties(b"", &plain(), "C1", || "ID".into(), &mut out);
    assert_eq!(out, b"UNIQ_KEY\x01ID\x02CLUSTER\x01C1\x02");
}

#[test]
fn a_group_lookup_yields_the_group_group_not_exist_or_a_system_error() {
    let config = SubscriptionGroupConfig {
        group_name: "g".into(),
        ..SubscriptionGroupConfig::default()
    };
    assert_eq!(
        found_group::<String>("g", Ok(Some(config)))
            .unwrap()
            .group_name,
        "g"
    );
    assert_eq!(
        found_group::<String>("g", Ok(None)).unwrap_err().code(),
        ResponseCode::SubscriptionGroupNotExist
    );
    assert_eq!(
        found_group("g", Err("io")).unwrap_err().code(),
        ResponseCode::SystemError
    );
}

#[test]
fn a_broker_without_write_permission_refuses_send_backs_with_no_permission() {
    check_writeable(true, "h").unwrap();
    let refused = check_writeable(false, "h").unwrap_err();
    assert_eq!(refused.code(), ResponseCode::NoPermission);
    assert_eq!(
        refused.to_string(),
        "the broker[h] sending message is forbidden"
    );
}

#[test]
fn a_timer_message_is_refused_as_apache_does_without_its_wheel_unless_it_has_a_delay_level() {
    for name in ["TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS"] {
        let props = SendProps::scan(&properties::encode([("KEYS", "k"), (name, "5000")]));
        assert!(props.timer, "{name}");
        let refused = check_timer(&props).unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError, "{name}");
        assert_eq!(
            refused.to_string(),
            "accurate timer message is not enabled, timerWheelEnable is false"
        );
    }
    // A message the wheel puts back carries TIMER_OUT_MS: not a new timer message.
    let rolled = SendProps::scan(&properties::encode([
        ("TIMER_DELIVER_MS", "5000"),
        ("TIMER_OUT_MS", "5000"),
    ]));
    assert!(!rolled.timer);
    assert!(check_timer(&rolled).is_ok());
    // A delay level wins over the timer properties (Apache 5 clears them).
    let leveled = SendProps::scan(&properties::encode([
        ("TIMER_DELAY_SEC", "5"),
        ("DELAY", "3"),
    ]));
    assert!(check_timer(&leveled).is_ok());
    assert!(check_timer(&plain()).is_ok());
}
