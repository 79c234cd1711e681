//! Tools asking real consumers through the broker: the Apache C++ client and ali-ons online
//! while a tool lists connections, asks running info and status, hands a consumer a stored
//! message, and resets the group's offsets.

use std::time::{Duration, Instant};

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::call_consumer::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
};
use rmq_protocol::command::connection_list::{
    ConsumerConnection, GetConsumerConnectionListRequestHeader,
};
use rmq_protocol::command::get_consume_stats::{ConsumeStats, GetConsumeStatsRequestHeader};
use rmq_protocol::command::get_consumer_status::GetConsumerStatusRequestHeader;
use rmq_protocol::command::reset_offset::ResetOffsetRequestHeader;
use rmq_protocol::command::send_message::SendMessageResponseHeader;

use serde_json::Value;

use super::harness::Cluster;
use super::support;

/// Sends `count` keyed messages to queue 0 of `topic`; returns their offset message ids.
pub fn send(cluster: &Cluster, topic: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let sent = cluster
                .request(
                    &cluster.broker_addr,
                    support::send_keyed(topic, &format!("m{i}")),
                )
                .unwrap();
            assert_eq!(sent.code, ResponseCode::Success as i32, "{sent:?}");
            sent.decode_header::<SendMessageResponseHeader>()
                .unwrap()
                .msg_id
        })
        .collect()
}

/// Waits until `group` has committed `total` on `topic` (the clients commit every few seconds).
pub fn until_committed(cluster: &Cluster, topic: &str, group: &str, total: i64) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let answer = cluster
            .request(
                &cluster.broker_addr,
                RemotingCommand::request_with_header(
                    RequestCode::GetConsumeStats,
                    &GetConsumeStatsRequestHeader {
                        consumer_group: group.into(),
                        topic: Some(topic.into()),
                        topic_list: None,
                    },
                ),
            )
            .unwrap();
        let committed: i64 = ConsumeStats::decode(&answer.body)
            .map(|s| {
                // ali-ons commits -1 for queues it has not consumed from; they count as 0.
                s.offset_table
                    .iter()
                    .map(|(_, o)| o.consumer_offset.max(0))
                    .sum()
            })
            .unwrap_or(0);
        if committed >= total {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{group} committed {committed} of {total}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub fn connections(cluster: &Cluster, group: &str) -> RemotingCommand {
    cluster
        .request(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::GetConsumerConnectionList,
                &GetConsumerConnectionListRequestHeader {
                    consumer_group: group.into(),
                },
            ),
        )
        .unwrap()
}

fn running_info(cluster: &Cluster, group: &str, client_id: &str) -> RemotingCommand {
    cluster
        .request_within(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::GetConsumerRunningInfo,
                &GetConsumerRunningInfoRequestHeader {
                    consumer_group: group.into(),
                    client_id: client_id.into(),
                    jstack_enable: false,
                },
            ),
            Duration::from_secs(15),
        )
        .unwrap()
}

fn reset(cluster: &Cluster, topic: &str, group: &str) -> RemotingCommand {
    cluster
        .request(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::InvokeBrokerToResetOffset,
                &ResetOffsetRequestHeader {
                    topic: topic.into(),
                    group: group.into(),
                    timestamp: 0,
                    is_force: true,
                },
            ),
        )
        .unwrap()
}

#[test]
fn tools_reach_a_cpp_consumer_through_the_broker_and_a_reset_makes_it_consume_everything_again() {
    let cluster = Cluster::start("");
    let ids = send(&cluster, "Reset", 30);
    let consumer = cluster.spawn_client(
        "cpp_consume.py",
        &[
            "--topic",
            "Reset",
            "--group",
            "cg",
            "--expect",
            "30",
            // Every message again after the reset below; a pull the broker holds when the reset
            // comes only returns when its long-polling time is up, so the second round may start
            // that much later.
            "--expect-deliveries",
            "60",
            "--idle-s",
            "4",
            "--timeout-s",
            "90",
            "--instance",
            "cppc",
        ],
    );
    until_committed(&cluster, "Reset", "cg", 30);

    let listed: ConsumerConnection =
        serde_json::from_slice(&connections(&cluster, "cg").body).unwrap();
    assert_eq!(listed.connection_set.len(), 1, "{listed:?}");
    let member = &listed.connection_set[0];
    assert_eq!(member.language, rmq_protocol::LanguageCode::Cpp);
    assert!(member.client_id.ends_with("@cppc"), "{member:?}");
    assert!(member.client_addr.starts_with("127.0.0.1:"), "{member:?}");
    assert!(listed.subscription_table.contains_key("Reset"));

    // The C++ client answers running info itself: its queues, with the committed offset.
    let info = running_info(&cluster, "cg", &member.client_id);
    assert_eq!(info.code, ResponseCode::Success as i32, "{info:?}");
    let text = String::from_utf8_lossy(&info.body);
    assert!(text.contains(r#""commitOffset" : "30""#), "{text}");

    // It does not answer status or consume-directly requests (rocketmq-client-cpp 1.x leaves
    // them unhandled): status leaves it out, consume-directly times out with Apache's code.
    let status = cluster
        .request(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::InvokeBrokerToGetConsumerStatus,
                &GetConsumerStatusRequestHeader {
                    topic: "Reset".into(),
                    group: "cg".into(),
                    client_addr: None,
                },
            ),
        )
        .unwrap();
    assert_eq!(status.code, ResponseCode::Success as i32, "{status:?}");
    assert_eq!(
        &status.body[..],
        br#"{"consumerTable":{},"messageQueueTable":{}}"#
    );
    let direct = cluster
        .request_within(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::ConsumeMessageDirectly,
                &ConsumeMessageDirectlyResultRequestHeader {
                    consumer_group: "cg".into(),
                    client_id: Some(member.client_id.clone()),
                    msg_id: Some(ids[3].clone()),
                    broker_name: None,
                    topic: Some("Reset".into()),
                },
            ),
            Duration::from_secs(15),
        )
        .unwrap();
    assert_eq!(
        direct.code,
        ResponseCode::ConsumeMsgTimeout as i32,
        "{direct:?}"
    );

    // rmqctl sees the same member, and resets through the broker while it is online.
    let listed = rmqctl_json(&cluster, &["consumerConnection", "-g", "cg"]);
    assert_eq!(listed["connections"][0]["language"], "CPP");
    assert_eq!(listed["subscriptions"][0][0], "%RETRY%cg");
    // consumerStatus reads the C++ client's own running info (numbers as strings).
    let status = rmqctl_json(&cluster, &["consumerStatus", "-g", "cg"]);
    let client = &status["clients"][0];
    assert_eq!(client["language"], "CPP", "{status}");
    assert_eq!(client["error"], Value::Null, "{status}");
    let held = client["running"]["queues"].as_array().unwrap();
    assert!(
        held.iter()
            .any(|q| q["topic"] == "Reset" && q["commitOffset"] == 30),
        "{status}"
    );
    assert_eq!(status["sharedQueues"], serde_json::json!([]), "{status}");
    let by_time = rmqctl_json(
        &cluster,
        &["resetOffsetByTime", "-g", "cg", "-t", "Reset", "-s", "0"],
    );
    let queues = by_time["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 4);
    assert!(
        queues
            .iter()
            .all(|q| q["offset"] == 0 && q["applied"] == "consumers"),
        "{by_time}"
    );
    // The consumer took the reset: every message came a second time.
    let consumed = super::harness::finish("cpp_consume.py", consumer);
    assert_eq!(consumed["distinct"], 30);
    assert_eq!(consumed["count"], 60, "{}", consumed["count"]);

    // Offline, the same tools commit the offsets themselves.
    let skipped = rmqctl_json(
        &cluster,
        &["skipAccumulatedMessage", "-g", "cg", "-t", "Reset"],
    );
    let offsets: Vec<&Value> = skipped["queues"].as_array().unwrap().iter().collect();
    assert!(
        offsets.iter().all(|q| q["applied"] == "committed"),
        "{skipped}"
    );
    assert_eq!(offsets[0]["offset"], 30);
    until_committed(&cluster, "Reset", "cg", 30);
    let back = rmqctl_json(
        &cluster,
        &["resetOffsetByTime", "-g", "cg", "-t", "Reset", "-s", "0"],
    );
    assert_eq!(back["queues"][0]["offset"], 0, "{back}");
    assert_eq!(back["queues"][0]["applied"], "committed");
    // statsAll: 30 stored today, all delivered (twice, after the online reset: the 24-hour
    // window counts from its samples, as Apache's does, so it may not have the second round
    // yet), the group's backlog as its committed offsets say (all of it after the reset to 0).
    let stats = rmqctl_json(&cluster, &["statsAll", "-t", "Reset"]);
    let rows = stats.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{stats}");
    assert_eq!(rows[0]["group"], "cg");
    assert_eq!(rows[0]["inMsg24Hour"], 30, "{stats}");
    assert!(rows[0]["outMsg24Hour"].as_i64().unwrap() >= 30, "{stats}");
    assert_eq!(rows[0]["accumulation"], 30, "{stats}");
    let answer = reset(&cluster, "Reset", "cg");
    assert_eq!(
        answer.code,
        ResponseCode::ConsumerNotOnline as i32,
        "{answer:?}"
    );
}

/// Runs `rmqctl ... --json`; it must succeed.
fn rmqctl_json(cluster: &Cluster, args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let output = cluster.rmqctl(&with_json);
    assert!(
        output.status.success(),
        "rmqctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn rmqctl_changes_groups_and_broker_settings_on_real_brokers_and_names_the_broker_that_refuses() {
    let cluster = Cluster::start("");
    let status = rmqctl_json(&cluster, &["brokerStatus", "-c", "DefaultCluster"]);
    let figures = &status["brokers"][&cluster.broker_addr];
    assert_eq!(
        figures["putTps"].as_str().unwrap().split(' ').count(),
        3,
        "{status}"
    );

    let created = rmqctl_json(
        &cluster,
        &[
            "updateSubGroup",
            "-g",
            "billing",
            "-c",
            "DefaultCluster",
            "-r",
            "3",
        ],
    );
    assert_eq!(created["brokers"][0], cluster.broker_addr.as_str());
    let group = cluster
        .request(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::GetSubscriptiongroupConfig,
                &rmq_protocol::command::get_subscription_group_config::GetSubscriptionGroupConfigRequestHeader {
                    group: "billing".into(),
                },
            ),
        )
        .unwrap();
    let group: Value = serde_json::from_slice(&group.body).unwrap();
    assert_eq!(group["retryMaxTimes"], 3);
    rmqctl_json(
        &cluster,
        &[
            "deleteSubGroup",
            "-g",
            "billing",
            "-b",
            &cluster.broker_addr,
        ],
    );
    rmqctl_json(&cluster, &["cleanExpiredCQ", "-c", "DefaultCluster"]);

    rmqctl_json(
        &cluster,
        &[
            "updateBrokerConfig",
            "-k",
            "brokerPermission",
            "-v",
            "4",
            "-b",
            &cluster.broker_addr,
        ],
    );
    let status = rmqctl_json(&cluster, &["brokerStatus", "-b", &cluster.broker_addr]);
    assert_eq!(
        status["brokers"][&cluster.broker_addr]["brokerPermission"],
        "4"
    );
    let refused = cluster.rmqctl(&[
        "updateBrokerConfig",
        "-k",
        "flushDiskType",
        "-v",
        "SYNC_FLUSH",
        "-c",
        "DefaultCluster",
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&cluster.broker_addr) && said.contains("flushDiskType"),
        "{said}"
    );
}

#[test]
fn an_ali_ons_consumer_is_listed_and_a_request_it_does_not_answer_times_out_cleanly() {
    let cluster = Cluster::start("");
    // ali-ons does not create topics.
    let created = cluster
        .request(
            &cluster.broker_addr,
            RemotingCommand::request_with_header(
                RequestCode::UpdateAndCreateTopic,
                &rmq_protocol::command::create_topic::CreateTopicRequestHeader {
                    topic: "Ons".into(),
                    default_topic: "TBW102".into(),
                    read_queue_nums: 4,
                    write_queue_nums: 4,
                    perm: 6,
                    ..Default::default()
                },
            ),
        )
        .unwrap();
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
    send(&cluster, "Ons", 10);
    let consumer = cluster.spawn_client(
        "ons_consume.js",
        &[
            "--topic",
            "Ons",
            "--group",
            "og",
            "--expect",
            "10",
            "--min-run-s",
            "20",
            "--idle-s",
            "3",
            "--timeout-s",
            "60",
            "--instance",
            "onsc",
        ],
    );
    until_committed(&cluster, "Ons", "og", 10);
    let listed: ConsumerConnection =
        serde_json::from_slice(&connections(&cluster, "og").body).unwrap();
    assert_eq!(listed.connection_set.len(), 1, "{listed:?}");
    let member = listed.connection_set[0].clone();
    assert!(member.client_id.contains("onsc"), "{member:?}");

    // ali-ons handles no broker-initiated request: the tool gets CONSUME_MSG_TIMEOUT after the
    // broker's 10 s, and the consumer keeps its connection and goes on.
    let started = Instant::now();
    let info = running_info(&cluster, "og", &member.client_id);
    assert_eq!(
        info.code,
        ResponseCode::ConsumeMsgTimeout as i32,
        "{info:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(9));
    // A reset is sent (SUCCESS, as Apache answers) though this client ignores it.
    assert_eq!(
        reset(&cluster, "Ons", "og").code,
        ResponseCode::Success as i32
    );
    assert_eq!(
        connections(&cluster, "og").code,
        ResponseCode::Success as i32
    );
    let consumed = super::harness::finish("ons_consume.js", consumer);
    assert_eq!(consumed["distinct"], 10);
}
