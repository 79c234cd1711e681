use std::collections::BTreeMap;

use rmq_protocol::code::ResponseCode;

use super::*;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn tools_may_not_create_change_or_delete_the_brokers_own_topics() {
    for topic in [
        "TBW102",
        "SELF_TEST_TOPIC",
        "OFFSET_MOVED_EVENT",
        "SCHEDULE_TOPIC_XXXX",
        "BenchmarkTest",
        "DefaultCluster",
        "broker-a",
        "RMQ_SYS_TRANS_HALF_TOPIC",
    ] {
        let refused = check_topic_update(topic, 4, 4, "DefaultCluster", "broker-a").unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError, "{topic}");
        assert_eq!(
            refused.to_string(),
            format!("The topic[{topic}] is conflict with system topic.")
        );
        assert!(check_topic_delete(topic, "DefaultCluster", "broker-a").is_err());
    }
    assert_eq!(
        check_topic_delete("Orders", "DefaultCluster", "broker-a"),
        Ok(())
    );
}

#[test]
fn a_topic_update_needs_a_valid_name_and_positive_queue_counts() {
    assert_eq!(check_topic_update("Orders", 8, 8, "c", "b"), Ok(()));
    let name = check_topic_update("a/b", 8, 8, "c", "b").unwrap_err();
    assert_eq!(name.code(), ResponseCode::SystemError);
    assert!(name.to_string().contains("illegal characters"));
    for (read, write) in [(0, 8), (8, 0), (-1, -1)] {
        let refused = check_topic_update("Orders", read, write, "c", "b").unwrap_err();
        assert_eq!(refused, AdminRefused::QueueNums { read, write });
        assert_eq!(refused.code(), ResponseCode::SystemError);
    }
}

#[test]
fn a_group_body_must_parse_and_name_its_group() {
    let group = parse_group(br#"{"groupName":"g","retryMaxTimes":3}"#).unwrap();
    assert_eq!(group.group_name, "g");
    assert_eq!(group.retry_max_times, 3);
    assert_eq!(
        parse_group(br#"{"retryMaxTimes":3}"#),
        Err(AdminRefused::GroupNameBlank)
    );
    let broken = parse_group(b"{").unwrap_err();
    assert!(matches!(broken, AdminRefused::GroupBody(_)));
    assert_eq!(broken.code(), ResponseCode::SystemError);
}

#[test]
fn a_config_update_takes_runtime_keys_normalised_and_refuses_the_rest_by_name() {
    let current = BrokerConfig::new();
    let update = config_update(
        &props(&[
            ("brokerPermission", " 4 "),
            ("fileReservedTime", "48"),
            ("longPollingEnable", "false"),
        ]),
        &current,
        &props(&[]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(update.next.broker_permission, 4);
    assert_eq!(update.next.store.file_reserved_time_hours, 48);
    assert!(!update.next.long_polling_enable);
    assert_eq!(update.values["brokerPermission"], "4");
    assert_eq!(update.values.len(), 3);
    assert!(
        config_update(&props(&[]), &current, &props(&[]))
            .unwrap()
            .is_none()
    );

    let refused = config_update(
        &props(&[
            ("brokerPermission", "6"),
            ("flushDiskType", "SYNC_FLUSH"),
            ("listenPort", "1"),
        ]),
        &current,
        &props(&[]),
    )
    .unwrap_err();
    assert_eq!(
        refused,
        AdminRefused::NotChangeable(vec!["flushDiskType".into(), "listenPort".into()])
    );
    assert!(
        refused.to_string().contains("fileReservedTime"),
        "{refused}"
    );
}

#[test]
fn a_bad_value_refuses_the_whole_update_naming_the_key() {
    let current = BrokerConfig::new();
    for (key, value) in [
        ("brokerPermission", "16"),
        ("brokerPermission", "rw"),
        ("longPollingEnable", "yes"),
        ("deleteWhen", "25"),
        ("namesrvAddr", "n1:9876;n2"),
    ] {
        let refused = config_update(
            &props(&[("fileReservedTime", "1"), (key, value)]),
            &current,
            &props(&[]),
        )
        .unwrap_err();
        assert!(
            matches!(&refused, AdminRefused::BadValue(text) if text.contains(key)),
            "{key}={value}: {refused}"
        );
    }
}

#[test]
fn a_later_config_update_keeps_what_earlier_ones_changed() {
    let start = BrokerConfig::new();
    let earlier = props(&[
        ("longPollingEnable", "false"),
        ("namesrvAddr", "n1:9876;n2:9876"),
        ("fileReservedTime", "1"),
    ]);
    let update = config_update(&props(&[("traceOn", "false")]), &start, &earlier)
        .unwrap()
        .unwrap();
    assert!(!update.next.trace_on);
    assert!(!update.next.long_polling_enable);
    assert_eq!(update.next.namesrv_addrs, ["n1:9876", "n2:9876"]);
    assert_eq!(update.next.store.file_reserved_time_hours, 1);
    assert_eq!(update.values, props(&[("traceOn", "false")]));
}

#[test]
fn a_name_server_list_is_changed_whole_and_never_to_none() {
    let mut start = BrokerConfig::new();
    start.namesrv_addrs = vec!["n1:9876".to_owned()];
    let update = config_update(
        &props(&[("namesrvAddr", " n2:9876 ; n3:9876; ")]),
        &start,
        &props(&[]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(update.next.namesrv_addrs, ["n2:9876", "n3:9876"]);
    assert_eq!(update.values["namesrvAddr"], "n2:9876;n3:9876");

    let earlier = props(&[("namesrvAddr", "n2:9876")]);
    for empty in ["", " ", ";", " ; ;"] {
        let refused =
            config_update(&props(&[("namesrvAddr", empty)]), &start, &earlier).unwrap_err();
        assert_eq!(
            refused,
            AdminRefused::NoNameServers {
                kept: "n2:9876".to_owned()
            },
            "{empty:?}"
        );
        assert_eq!(refused.code(), ResponseCode::SystemError);
        assert!(refused.to_string().contains("namesrvAddr"), "{refused}");
    }
}

#[test]
fn consume_stats_cover_the_asked_topic_or_every_committed_and_subscribed_one_once() {
    assert_eq!(
        consume_stats_topics(Some("T"), vec!["A".into()], ["B".to_owned()]),
        ["T"]
    );
    assert_eq!(
        consume_stats_topics(
            Some(""),
            vec!["B".into(), "A".into()],
            ["B".to_owned(), "C".to_owned()]
        ),
        ["A", "B", "C"]
    );
}

#[test]
fn a_missing_topic_is_answered_topic_not_exist() {
    let refused = AdminRefused::TopicNotExist("T".into());
    assert_eq!(refused.code(), ResponseCode::TopicNotExist);
    assert_eq!(refused.to_string(), "topic[T] not exist");
}

#[test]
fn uptime_is_written_in_days_hours_minutes_and_seconds() {
    assert_eq!(
        uptime_text(2 * 86400 + 3 * 3600 + 4 * 60 + 5),
        "[ 2 days, 3 hours, 4 minutes, 5 seconds ]"
    );
}

#[test]
fn the_system_topic_list_is_apaches_nine_the_cluster_and_broker_names_and_the_reply_topic() {
    let list = system_topic_list("DefaultCluster", "broker-a");
    assert_eq!(list.len(), 12);
    for topic in [
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "RMQ_SYS_TRACE_TOPIC",
        "OFFSET_MOVED_EVENT",
        "DefaultCluster",
        "broker-a",
    ] {
        assert!(
            list.iter().any(|t| t == topic),
            "{topic} missing from {list:?}"
        );
    }
}

#[test]
fn a_topic_or_group_this_broker_lacks_is_answered_with_its_not_exist_code() {
    let topic = AdminRefused::NoTopicHere("T".into());
    assert_eq!(topic.code(), ResponseCode::TopicNotExist);
    assert_eq!(topic.to_string(), "No topic in this broker. topic: T");
    assert_eq!(
        AdminRefused::NoGroupHere.code(),
        ResponseCode::SubscriptionGroupNotExist
    );
}

#[test]
fn byte_counts_read_as_apaches_human_readable_form() {
    assert_eq!(human_bytes(512), "512 B");
    assert_eq!(human_bytes(1536), "1.5 KiB");
    assert_eq!(human_bytes(20 * 1024 * 1024 * 1024), "20.0 GiB");
}

#[test]
fn correction_offsets_are_the_least_of_the_unfiltered_groups_and_max_where_ahead_of_compare() {
    let offsets = vec![
        ("a".to_owned(), BTreeMap::from([(0, 10), (1, 4)])),
        ("b".to_owned(), BTreeMap::from([(0, 7), (1, 1)])),
        ("skip".to_owned(), BTreeMap::from([(0, 0)])),
    ];
    // Queue 1's minimum is 2: b's offset 1 there is ignored.
    let min = |q: i32| if q == 1 { 2 } else { 0 };
    let compare = BTreeMap::from([(0, 9), (1, 3)]);
    let out = correction_offsets(&offsets, "skip, other", min, &compare);
    assert_eq!(out, BTreeMap::from([(0, 7), (1, i64::MAX)]));
}

#[test]
fn an_online_group_covers_only_its_subscriptions_unless_offline() {
    use rmq_protocol::command::heart_beat::SubscriptionData;
    let subs = BTreeMap::from([("T".to_owned(), SubscriptionData::default())]);
    assert!(group_covers_topic(false, Some(&subs), "T"));
    assert!(!group_covers_topic(false, Some(&subs), "U"));
    assert!(group_covers_topic(true, Some(&subs), "U"));
    assert!(group_covers_topic(false, None, "U"));
}

#[test]
fn the_consume_delay_is_the_wait_of_the_next_message_and_zero_at_the_end() {
    assert_eq!(consume_delay_ms(1_000, Some(400)), 600);
    assert_eq!(consume_delay_ms(1_000, None), 0);
    assert_eq!(consume_delay_ms(1_000, Some(2_000)), 0);
}

#[test]
fn unused_topics_are_queues_without_a_topic_sparing_system_lmq_and_live_groups_retry_topics() {
    let with_queues: Vec<String> = [
        "Kept",
        "Gone",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_OP_HALF_TOPIC",
        "%LMQ%x",
        "%RETRY%live",
        "%DLQ%live",
        "%RETRY%dead",
    ]
    .map(str::to_owned)
    .to_vec();
    let unused = unused_topics(&with_queues, |t| t == "Kept", |g| g == "live");
    assert_eq!(unused, ["Gone", "%RETRY%dead"]);
}
