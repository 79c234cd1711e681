#![allow(clippy::unwrap_used)]
//! The real `rmqctl` binary against fake servers on 127.0.0.1: what each subcommand asks and
//! what it prints, as a table and as JSON.

mod support;

use std::net::SocketAddr;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::MessageQueue;
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::get_consume_stats::{ConsumeStats, OffsetWrapper};
use rmq_protocol::command::get_topic_stats::{TopicOffset, TopicStatsTable};
use rmq_protocol::message::msg_id::offset_msg_id;
use support::{
    FakeServer, Replies, cells, cluster_info, dead_addr, group, record, rmqctl, route,
    runtime_info, success,
};

#[test]
fn cluster_list_shows_every_broker_with_version_and_tps_and_blanks_for_a_silent_one() {
    let dead = dead_addr();
    let server = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetBrokerClusterInfo,
                cluster_info(&[
                    group("DefaultCluster", "broker-a", &[(0, addr)]),
                    group("DefaultCluster", "broker-b", &[(0, &dead)]),
                ]),
            )
            .ok(RequestCode::GetBrokerRuntimeInfo, runtime_info())
    });
    let run = rmqctl(&["clusterList", "-n", &server.addr, "--timeout-ms", "2000"]);
    assert_eq!(
        run.rows(),
        [
            cells(&[
                "#Cluster", "Name", "#Broker", "Name", "#BID", "#Addr", "#Version", "#InTPS",
                "#OutTPS"
            ]),
            cells(&[
                "DefaultCluster",
                "broker-a",
                "0",
                &server.addr,
                "V4_9_4",
                "12.50",
                "3.00"
            ]),
            cells(&["DefaultCluster", "broker-b", "0", &dead]),
        ]
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0].find("#Addr"), lines[1].find(server.addr.as_str()));
    assert_eq!(lines[0].find("#Addr"), lines[2].find(dead.as_str()));
}

#[test]
fn cluster_list_json_is_one_document_with_nulls_for_a_silent_broker() {
    let dead = dead_addr();
    let server = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetBrokerClusterInfo,
                cluster_info(&[group("c", "broker-a", &[(0, addr), (1, &dead)])]),
            )
            .ok(RequestCode::GetBrokerRuntimeInfo, runtime_info())
    });
    let json = rmqctl(&["clusterList", "-n", &server.addr, "--json"]).json();
    assert_eq!(
        json,
        serde_json::json!({"brokers": [
            {"cluster": "c", "brokerName": "broker-a", "brokerId": 0, "addr": server.addr,
             "version": "V4_9_4", "inTps": 12.5, "outTps": 3.0},
            {"cluster": "c", "brokerName": "broker-a", "brokerId": 1, "addr": dead,
             "version": null, "inTps": null, "outTps": null},
        ]})
    );
}

#[test]
fn topic_route_turns_bare_broker_ids_into_pretty_standard_json() {
    let server = FakeServer::start(|addr| {
        Replies::new().ok(
            RequestCode::GetRouteinfoByTopic,
            route(&[group("c", "broker-a", &[(0, addr)])]),
        )
    });
    let run = rmqctl(&["topicRoute", "-t", "T", "-n", &server.addr]);
    assert!(
        run.success().starts_with("{\n  \"brokerDatas\": [\n"),
        "{}",
        run.stdout
    );
    let json = run.json();
    assert_eq!(
        json["brokerDatas"][0]["brokerAddrs"]["0"],
        server.addr.as_str()
    );
    assert_eq!(json["queueDatas"][0]["writeQueueNums"], 4);
    let request = server.request(RequestCode::GetRouteinfoByTopic);
    assert_eq!(&request.ext_fields["topic"], "T");
}

#[test]
fn update_topic_on_a_cluster_creates_on_every_master_and_never_on_slaves() {
    let dead_slave = dead_addr();
    let broker_b =
        FakeServer::start(|_| Replies::new().ok(RequestCode::UpdateAndCreateTopic, Vec::new()));
    let b_addr = broker_b.addr.clone();
    let ns = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetBrokerClusterInfo,
                cluster_info(&[
                    group("DefaultCluster", "broker-a", &[(0, addr), (1, &dead_slave)]),
                    group("DefaultCluster", "broker-b", &[(0, &b_addr)]),
                    group("Other", "broker-c", &[(0, &dead_slave)]),
                ]),
            )
            .ok(RequestCode::UpdateAndCreateTopic, Vec::new())
    });
    let run = rmqctl(&[
        "updateTopic",
        "-n",
        &ns.addr,
        "-t",
        "T",
        "-c",
        "DefaultCluster",
        "-r",
        "4",
        "-w",
        "2",
        "-p",
        "4",
    ]);
    assert_eq!(
        run.rows()[1..],
        [
            cells(&[&ns.addr, "T", "4", "2", "R--", "false"]),
            cells(&[&broker_b.addr, "T", "4", "2", "R--", "false"]),
        ]
    );
    for server in [&ns, &broker_b] {
        let fields = server.request(RequestCode::UpdateAndCreateTopic).ext_fields;
        assert_eq!(&fields["topic"], "T");
        assert_eq!(&fields["defaultTopic"], "TBW102");
        assert_eq!(&fields["readQueueNums"], "4");
        assert_eq!(&fields["writeQueueNums"], "2");
        assert_eq!(&fields["perm"], "4");
        assert_eq!(&fields["order"], "false");
        assert_eq!(&fields["topicFilterType"], "SINGLE_TAG");
    }
    assert!(!ns.seen_codes().contains(&RequestCode::PutKvConfig.code()));
}

#[test]
fn an_ordered_topic_gets_its_order_config_on_the_name_server() {
    let ns = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetBrokerClusterInfo,
                cluster_info(&[group("DefaultCluster", "broker-a", &[(0, addr)])]),
            )
            .ok(RequestCode::UpdateAndCreateTopic, Vec::new())
            .ok(RequestCode::PutKvConfig, Vec::new())
    });
    let run = rmqctl(&[
        "updateTopic",
        "-n",
        &ns.addr,
        "-t",
        "T",
        "-c",
        "DefaultCluster",
        "-o",
        "true",
        "--json",
    ]);
    let json = run.json();
    assert_eq!(json["order"], true);
    assert_eq!(json["orderConf"], "broker-a:8");
    assert_eq!(json["nameServers"], serde_json::json!([ns.addr]));
    let put = ns.request(RequestCode::PutKvConfig).ext_fields;
    assert_eq!(&put["namespace"], "ORDER_TOPIC_CONFIG");
    assert_eq!(&put["key"], "T");
    assert_eq!(&put["value"], "broker-a:8");
}

#[test]
fn update_topic_on_one_broker_needs_no_name_server() {
    let broker =
        FakeServer::start(|_| Replies::new().ok(RequestCode::UpdateAndCreateTopic, Vec::new()));
    let run = rmqctl(&["updateTopic", "-b", &broker.addr, "-t", "T"]);
    assert_eq!(
        run.rows()[1..],
        [cells(&[&broker.addr, "T", "8", "8", "RW-", "false"])]
    );
    assert_eq!(
        broker.seen_codes(),
        [RequestCode::UpdateAndCreateTopic.code()]
    );
}

#[test]
fn delete_topic_deletes_on_the_masters_before_the_name_server() {
    let ns = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetBrokerClusterInfo,
                cluster_info(&[group("DefaultCluster", "broker-a", &[(0, addr)])]),
            )
            .ok(RequestCode::DeleteTopicInBroker, Vec::new())
            .ok(RequestCode::DeleteTopicInNamesrv, Vec::new())
    });
    let run = rmqctl(&[
        "deleteTopic",
        "-n",
        &ns.addr,
        "-t",
        "T",
        "-c",
        "DefaultCluster",
    ]);
    assert_eq!(
        run.rows()[1..],
        [
            cells(&["broker", &ns.addr, "T", "DefaultCluster"]),
            cells(&["name", "server", &ns.addr, "T", "DefaultCluster"]),
        ]
    );
    assert_eq!(
        ns.seen_codes(),
        [
            RequestCode::GetBrokerClusterInfo.code(),
            RequestCode::DeleteTopicInBroker.code(),
            RequestCode::DeleteTopicInNamesrv.code(),
        ]
    );
    let in_namesrv = ns.request(RequestCode::DeleteTopicInNamesrv).ext_fields;
    assert_eq!(&in_namesrv["topic"], "T");
    assert_eq!(&in_namesrv["clusterName"], "DefaultCluster");
}

#[test]
fn topic_list_prints_the_topics_sorted_or_as_json() {
    let list = TopicList {
        broker_addr: None,
        topic_list: vec!["b".into(), "TBW102".into(), "a".into()],
    };
    let ns = FakeServer::start(|_| {
        Replies::new().ok(
            RequestCode::GetAllTopicListFromNameserver,
            serde_json::to_vec(&list).unwrap(),
        )
    });
    assert_eq!(
        rmqctl(&["topicList", "-n", &ns.addr]).success(),
        "TBW102\na\nb\n"
    );
    assert_eq!(
        rmqctl(&["--json", "topicList", "-n", &ns.addr]).json(),
        serde_json::json!({"topicList": ["TBW102", "a", "b"]})
    );
}

#[test]
fn topic_status_reads_the_offsets_from_every_broker_of_the_route() {
    let stats = |broker: &str, max: i64| TopicStatsTable {
        offset_table: (0..2)
            .map(|queue_id| {
                (
                    MessageQueue {
                        broker_name: broker.into(),
                        queue_id,
                        topic: "T".into(),
                    },
                    TopicOffset {
                        last_update_timestamp: if queue_id == 0 { 1_700_000_000_000 } else { 0 },
                        max_offset: max + i64::from(queue_id),
                        min_offset: 0,
                    },
                )
            })
            .collect(),
        topic_put_tps: 0.0,
    };
    let broker_b = FakeServer::start(|_| {
        Replies::new().ok(
            RequestCode::GetTopicStatsInfo,
            stats("broker-b", 20).to_fastjson().unwrap(),
        )
    });
    let b_addr = broker_b.addr.clone();
    let ns = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetRouteinfoByTopic,
                route(&[
                    group("c", "broker-b", &[(0, &b_addr)]),
                    group("c", "broker-a", &[(0, addr)]),
                ]),
            )
            .ok(
                RequestCode::GetTopicStatsInfo,
                stats("broker-a", 10).to_fastjson().unwrap(),
            )
    });
    let run = rmqctl(&["topicStatus", "-n", &ns.addr, "-t", "T"]);
    assert_eq!(
        run.success(),
        "\
#Broker Name  #QID  #Min Offset  #Max Offset  #Last Updated
broker-a         0            0           10  2023-11-14T22:13:20.000Z
broker-a         1            0           11  -
broker-b         0            0           20  2023-11-14T22:13:20.000Z
broker-b         1            0           21  -
"
    );
    assert_eq!(
        &broker_b.request(RequestCode::GetTopicStatsInfo).ext_fields["topic"],
        "T"
    );
}

#[test]
fn consumer_progress_finds_the_brokers_through_the_groups_retry_topic() {
    let stats = ConsumeStats {
        consume_tps: 2.5,
        offset_table: vec![
            (
                MessageQueue {
                    broker_name: "broker-a".into(),
                    queue_id: 0,
                    topic: "T".into(),
                },
                OffsetWrapper {
                    broker_offset: 10,
                    consumer_offset: 5,
                    last_timestamp: 1_700_000_000_000,
                    pull_offset: 0,
                },
            ),
            (
                MessageQueue {
                    broker_name: "broker-a".into(),
                    queue_id: 1,
                    topic: "T".into(),
                },
                OffsetWrapper {
                    broker_offset: 3,
                    consumer_offset: 3,
                    last_timestamp: 0,
                    pull_offset: 0,
                },
            ),
        ],
    };
    let ns = FakeServer::start(|addr| {
        let routed = route(&[group("c", "broker-a", &[(0, addr)])]);
        Replies::new()
            .on(RequestCode::GetRouteinfoByTopic, move |request| {
                Some(if &request.ext_fields["topic"] == "%RETRY%cg" {
                    success(request, routed.clone())
                } else {
                    RemotingCommand::response_to(request, ResponseCode::TopicNotExist)
                })
            })
            .ok(RequestCode::GetConsumeStats, stats.to_fastjson().unwrap())
    });
    let run = rmqctl(&["consumerProgress", "-n", &ns.addr, "-g", "cg"]);
    assert_eq!(
        run.success(),
        "\
#Topic  #Broker Name  #QID  #Broker Offset  #Consumer Offset  #Diff  #LastTime
T       broker-a         0              10                 5      5  2023-11-14T22:13:20.000Z
T       broker-a         1               3                 3      0  -
Total                                   13                 8      5

Consume TPS: 2.50
Diff Total: 5
"
    );
    let asked = ns.request(RequestCode::GetConsumeStats).ext_fields;
    assert_eq!(&asked["consumerGroup"], "cg");
    assert!(!asked.contains_key("topic"));
}

#[test]
fn query_msg_by_id_asks_the_broker_named_in_the_id_without_a_name_server() {
    let broker = FakeServer::start(|addr| {
        let stored = record(addr, 4096, 7, "order-1", b"Hello RocketMQ");
        Replies::new().on(RequestCode::ViewMessageById, move |request| {
            Some(if &request.ext_fields["offset"] == "4096" {
                success(request, stored.clone())
            } else {
                RemotingCommand::response_to(request, ResponseCode::SystemError)
                    .with_remark("no message at that offset")
            })
        })
    });
    let addr: SocketAddr = broker.addr.parse().unwrap();
    let msg_id = offset_msg_id(addr, 4096);
    let run = rmqctl(&["queryMsgById", "-i", &msg_id]);
    let text = run.success();
    for line in [
        format!("OffsetID:            {msg_id}"),
        "Topic:               TopicTest".to_owned(),
        "Tags:                [TagA]".to_owned(),
        "Keys:                [order-1]".to_owned(),
        "Queue ID:            2".to_owned(),
        "Queue Offset:        7".to_owned(),
        "CommitLog Offset:    4096".to_owned(),
        "Store Timestamp:     2023-11-14T22:13:20.123Z".to_owned(),
        "Born Host:           127.0.0.1:50000".to_owned(),
        format!("Store Host:          {}", broker.addr),
        "Body:                Hello RocketMQ".to_owned(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    let json = rmqctl(&["queryMsgById", "-i", &msg_id, "--json"]).json();
    assert_eq!(json["messages"][0]["body"], "Hello RocketMQ");
    assert_eq!(json["messages"][0]["properties"]["KEYS"], "order-1");

    let elsewhere = offset_msg_id(addr, 8192);
    let run = rmqctl(&["queryMsgById", "-i", &elsewhere]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "rmqctl: VIEW_MESSAGE_BY_ID(33) to {} was answered SYSTEM_ERROR(1): \
             no message at that offset\n",
            broker.addr
        )
    );
}

#[test]
fn query_msg_by_key_keeps_only_records_that_hold_the_key() {
    let ns = FakeServer::start(|addr| {
        let mut found = record(addr, 0, 0, "order-1 other", b"a");
        // Same index hash slot, different key: the broker returns it, rmqctl must drop it.
        found.extend(record(addr, 200, 1, "order-10", b"b"));
        Replies::new()
            .ok(
                RequestCode::GetRouteinfoByTopic,
                route(&[group("c", "broker-a", &[(0, addr)])]),
            )
            .ok(RequestCode::QueryMessage, found)
    });
    let run = rmqctl(&[
        "queryMsgByKey",
        "-n",
        &ns.addr,
        "-t",
        "TopicTest",
        "-k",
        "order-1",
    ]);
    let addr: SocketAddr = ns.addr.parse().unwrap();
    assert_eq!(
        run.rows(),
        [
            cells(&[
                "#Offset", "Msg", "ID", "#Msg", "ID", "#QID", "#Queue", "Offset", "#Tags", "#Keys",
                "#Store", "Time"
            ]),
            cells(&[
                &offset_msg_id(addr, 0),
                "-",
                "2",
                "0",
                "TagA",
                "order-1",
                "other",
                "2023-11-14T22:13:20.123Z"
            ]),
        ]
    );
    let query = ns.request(RequestCode::QueryMessage).ext_fields;
    assert_eq!(&query["topic"], "TopicTest");
    assert_eq!(&query["key"], "order-1");
    assert_eq!(&query["maxNum"], "64");
    assert_eq!(&query["beginTimestamp"], "0");
    let end: i64 = query["endTimestamp"].parse().unwrap();
    assert!(end > 1_700_000_000_000, "end {end} is not now");
}
