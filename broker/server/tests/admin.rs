#![allow(clippy::unwrap_used)]
//! Admin requests over real sockets with the broker in-process: consumer progress across
//! groups (time span, correction offsets, clone, broker consume stats), raw consume queue
//! entries, half messages put back for checking, the manual clean-ups, the 5.x lookups, and the
//! runtime figures and statistics windows tools read.

use std::time::Duration;

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::broker_consume_stats::GetConsumeStatsInBrokerHeader;
use rmq_protocol::command::clone_group_offset::CloneGroupOffsetRequestHeader;
use rmq_protocol::command::query_consume_queue::{
    QueryConsumeQueueRequestHeader, QueryConsumeQueueResponseBody,
};
use rmq_protocol::command::query_consume_time_span::{
    QueryConsumeTimeSpanBody, QueryConsumeTimeSpanRequestHeader,
};
use rmq_protocol::command::query_consumer_offset::{
    QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
};
use rmq_protocol::command::query_correction_offset::{
    QueryCorrectionOffsetBody, QueryCorrectionOffsetHeader,
};
use rmq_protocol::command::resume_check_half_message::ResumeCheckHalfMessageRequestHeader;
use rmq_protocol::command::send_message::SendMessageResponseHeader;
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_protocol::message::properties;
use rmq_protocol::message::record::RecordView;
use rmq_remoting::Client;

mod support;

const T: Duration = Duration::from_secs(10);

struct Tool {
    client: Client,
    addr: String,
}

impl Tool {
    async fn ask(&self, request: RemotingCommand) -> RemotingCommand {
        self.client.invoke(&self.addr, request, T).await.unwrap()
    }

    async fn ok(&self, request: RemotingCommand) -> RemotingCommand {
        let answer = self.ask(request).await;
        assert_eq!(answer.code, ResponseCode::Success as i32, "{answer:?}");
        answer
    }

    async fn commit(&self, group: &str, topic: &str, offset: i64) {
        self.ok(RemotingCommand::request_with_header(
            RequestCode::UpdateConsumerOffset,
            &UpdateConsumerOffsetRequestHeader {
                consumer_group: group.into(),
                topic: topic.into(),
                queue_id: 0,
                commit_offset: offset,
            },
        ))
        .await;
    }

    async fn committed(&self, group: &str, topic: &str) -> i64 {
        let answer = self
            .ok(RemotingCommand::request_with_header(
                RequestCode::QueryConsumerOffset,
                &QueryConsumerOffsetRequestHeader {
                    consumer_group: group.into(),
                    topic: topic.into(),
                    queue_id: 0,
                    set_zero_if_not_found: None,
                },
            ))
            .await;
        answer
            .decode_header::<QueryConsumerOffsetResponseHeader>()
            .unwrap()
            .offset
    }
}

async fn started(dir: &std::path::Path) -> (RunningBroker, Tool) {
    let running = support::start_broker(dir).await;
    let tool = Tool {
        client: Client::default(),
        addr: running.local_addr().to_string(),
    };
    (running, tool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_across_groups_reads_and_clones_committed_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let (running, tool) = started(dir.path()).await;
    for i in 0..5 {
        tool.ok(support::send_keyed("A", &format!("m{i}"))).await;
    }
    assert!(running.broker().store.wait_dispatched(T));
    tool.commit("g1", "A", 2).await;
    tool.commit("g2", "A", 4).await;
    tool.commit("g3", "A", 1).await;
    let store = &running.broker().store;

    let span = tool
        .ok(RemotingCommand::request_with_header(
            RequestCode::QueryConsumeTimeSpan,
            &QueryConsumeTimeSpanRequestHeader {
                topic: "A".into(),
                group: "g1".into(),
            },
        ))
        .await;
    let span: QueryConsumeTimeSpanBody = serde_json::from_slice(&span.body).unwrap();
    assert_eq!(span.consume_time_span_set.len(), 4);
    let q0 = &span.consume_time_span_set[0];
    assert_eq!(q0.message_queue.broker_name, "broker-a");
    assert_eq!(q0.min_time_stamp, store.store_time("A", 0, 0).unwrap());
    assert_eq!(q0.max_time_stamp, store.store_time("A", 0, 4).unwrap());
    assert_eq!(q0.consume_time_stamp, store.store_time("A", 0, 1).unwrap());
    let missing = tool
        .ask(RemotingCommand::request_with_header(
            RequestCode::QueryConsumeTimeSpan,
            &QueryConsumeTimeSpanRequestHeader {
                topic: "Nope".into(),
                group: "g1".into(),
            },
        ))
        .await;
    assert_eq!(missing.code, ResponseCode::TopicNotExist as i32);

    let correction = |filter: &str, compare: &str| {
        RemotingCommand::request_with_header(
            RequestCode::QueryCorrectionOffset,
            &QueryCorrectionOffsetHeader {
                filter_groups: Some(filter.into()),
                compare_group: compare.into(),
                topic: "A".into(),
            },
        )
    };
    let body = tool.ok(correction("g3", "g2")).await.body;
    let body: QueryCorrectionOffsetBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.correction_offsets[&0], 2);
    let body = tool.ok(correction("g3", "g3")).await.body;
    let body: QueryCorrectionOffsetBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.correction_offsets[&0], i64::MAX);
    // Leaving a group out of the computation keeps its offsets.
    assert_eq!(tool.committed("g3", "A").await, 1);

    tool.ok(RemotingCommand::request_with_header(
        RequestCode::CloneGroupOffset,
        &CloneGroupOffsetRequestHeader {
            src_group: "g2".into(),
            dest_group: "g9".into(),
            topic: None,
            offline: true,
        },
    ))
    .await;
    assert_eq!(tool.committed("g9", "A").await, 4);

    let create = RemotingCommand::request(RequestCode::UpdateAndCreateSubscriptiongroup)
        .with_body(r#"{"groupName":"g1","consumeEnable":true}"#);
    tool.ok(create).await;
    let stats = tool
        .ok(RemotingCommand::request_with_header(
            RequestCode::GetBrokerConsumeStats,
            &GetConsumeStatsInBrokerHeader { is_order: false },
        ))
        .await;
    let text = String::from_utf8(stats.body.to_vec()).unwrap();
    assert!(text.contains(r#"{"g1":[{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"A"}:{"brokerOffset":5,"consumerOffset":2,"#), "{text}");
    assert!(text.contains(r#""totalDiff":3}"#), "{text}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_queue_entries_half_messages_put_back_and_manual_cleanups() {
    let dir = tempfile::tempdir().unwrap();
    let (running, tool) = started(dir.path()).await;
    for i in 0..3 {
        tool.ok(support::send_keyed("Q", &format!("m{i}"))).await;
    }
    assert!(running.broker().store.wait_dispatched(T));
    let query = |index: i64, count: i32| {
        RemotingCommand::request_with_header(
            RequestCode::QueryConsumeQueue,
            &QueryConsumeQueueRequestHeader {
                topic: "Q".into(),
                queue_id: 0,
                index,
                count,
                consumer_group: Some("offline".into()),
            },
        )
    };
    let body = tool.ok(query(1, 10)).await.body;
    let body: QueryConsumeQueueResponseBody = serde_json::from_slice(&body).unwrap();
    assert_eq!((body.min_queue_index, body.max_queue_index), (0, 3));
    assert_eq!(body.queue_data.len(), 2);
    let raw = running
        .broker()
        .store
        .read_record(body.queue_data[0].physic_offset as u64)
        .unwrap();
    assert_eq!(RecordView::decode(&raw).unwrap().body(), b"m1");
    assert_eq!(
        body.filter_data.as_deref(),
        Some("offline@Q is not online!")
    );
    let absent = tool
        .ask(RemotingCommand::request_with_header(
            RequestCode::QueryConsumeQueue,
            &QueryConsumeQueueRequestHeader {
                topic: "Q".into(),
                queue_id: 7,
                index: 0,
                count: 1,
                consumer_group: None,
            },
        ))
        .await;
    assert_eq!(absent.remark.as_deref(), Some("7@Q is not exist!"));

    // A transactional send stores a half message; resuming it appends a fresh copy whose
    // check count starts again.
    let half = support::send_request(
        &support::send_header(
            "Tx",
            "TRAN_MSG\u{1}true\u{2}PGROUP\u{1}pg\u{2}TRANSACTION_CHECK_TIMES\u{1}15\u{2}".into(),
        ),
        "half",
    );
    let sent = tool.ok(half).await;
    let msg_id = sent
        .decode_header::<SendMessageResponseHeader>()
        .unwrap()
        .msg_id;
    let store = &running.broker().store;
    assert!(store.wait_dispatched(T));
    let before = store.max_offset_in_queue("RMQ_SYS_TRANS_HALF_TOPIC", 0);
    tool.ok(RemotingCommand::request_with_header(
        RequestCode::ResumeCheckHalfMessage,
        &ResumeCheckHalfMessageRequestHeader {
            msg_id: Some(msg_id),
        },
    ))
    .await;
    assert!(store.wait_dispatched(T));
    assert_eq!(
        store.max_offset_in_queue("RMQ_SYS_TRANS_HALF_TOPIC", 0),
        before + 1
    );
    let (_, _, entries) = store
        .queue_entries("RMQ_SYS_TRANS_HALF_TOPIC", 0, before, 1)
        .unwrap();
    let raw = store
        .read_record(entries[0].commit_log_offset as u64)
        .unwrap();
    let view = RecordView::decode(&raw).unwrap();
    assert_eq!(view.body(), b"half");
    assert_eq!(
        properties::find(view.properties(), "TRANSACTION_CHECK_TIMES"),
        Some("0")
    );
    let unknown = tool
        .ask(RemotingCommand::request_with_header(
            RequestCode::ResumeCheckHalfMessage,
            &ResumeCheckHalfMessageRequestHeader { msg_id: None },
        ))
        .await;
    assert_eq!(unknown.code, ResponseCode::SystemError as i32);

    // Nothing here is old enough to go: the clean-ups answer and every message stays.
    tool.ok(RemotingCommand::request(
        RequestCode::CleanExpiredConsumequeue,
    ))
    .await;
    tool.ok(RemotingCommand::request(
        RequestCode::DeleteExpiredCommitlog,
    ))
    .await;
    assert_eq!(store.commit_log_min_offset(), 0);
    let body = tool.ok(query(0, 10)).await.body;
    let body: QueryConsumeQueueResponseBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.queue_data.len(), 3);
    running.shutdown().await;
}

/// Asserts that `response` carries `code` and a remark mentioning `says`.
fn assert_answered(response: &RemotingCommand, code: ResponseCode, says: &str) {
    assert_eq!(response.code, code as i32, "{response:?}");
    let remark = response.remark.as_deref().unwrap_or_default();
    assert!(remark.contains(says), "{says:?} not in {remark:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_5x_lookups_and_lite_pull_answer_like_apache_5() {
    use rmq_protocol::body::topic_list::TopicList;
    use rmq_protocol::command::get_subscription_group_config::GetSubscriptionGroupConfigRequestHeader;
    use rmq_protocol::command::get_topic_config::GetTopicConfigRequestHeader;

    let dir = tempfile::tempdir().unwrap();
    let running = support::start_broker(dir.path()).await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let sent = client
        .invoke(&addr, support::send_keyed("Lite", "m0"), T)
        .await
        .unwrap();
    assert_eq!(sent.code, ResponseCode::Success as i32, "{sent:?}");
    assert!(running.broker().store.wait_dispatched(T));

    let topic_config = |topic: &str| {
        RemotingCommand::request_with_header(
            RequestCode::GetTopicConfig,
            &GetTopicConfigRequestHeader {
                topic: topic.into(),
                lo: None,
            },
        )
    };
    let found = client.invoke(&addr, topic_config("Lite"), T).await.unwrap();
    assert_eq!(found.code, ResponseCode::Success as i32, "{found:?}");
    let config: serde_json::Value = serde_json::from_slice(&found.body).unwrap();
    assert_eq!(config["topicName"], "Lite");
    assert_eq!(config["writeQueueNums"], 4);
    let missing = client.invoke(&addr, topic_config("Nope"), T).await.unwrap();
    assert_answered(
        &missing,
        ResponseCode::TopicNotExist,
        "No topic in this broker. topic: Nope",
    );

    let group_config = |group: &str| {
        RemotingCommand::request_with_header(
            RequestCode::GetSubscriptiongroupConfig,
            &GetSubscriptionGroupConfigRequestHeader {
                group: group.into(),
            },
        )
    };
    let missing = client
        .invoke(&addr, group_config("nobody"), T)
        .await
        .unwrap();
    assert_answered(
        &missing,
        ResponseCode::SubscriptionGroupNotExist,
        "No group in this broker",
    );

    let system = client
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::GetSystemTopicListFromBroker),
            T,
        )
        .await
        .unwrap();
    let list: TopicList = serde_json::from_slice(&system.body).unwrap();
    assert!(list.topic_list.iter().any(|t| t == "broker-a"), "{list:?}");
    assert!(list.topic_list.iter().any(|t| t == "SCHEDULE_TOPIC_XXXX"));

    // A lite pull is a pull.
    let mut lite = support::pull_request(&support::pull_header("cg", "Lite", 0, 0));
    lite.code = RequestCode::LitePullMessage as i32;
    let pulled = client.invoke(&addr, lite, T).await.unwrap();
    assert_eq!(pulled.code, ResponseCode::Success as i32, "{pulled:?}");
    let record = RecordView::decode(&pulled.body).unwrap();
    assert_eq!(record.body(), b"m0");

    let create = RemotingCommand::request(RequestCode::UpdateAndCreateSubscriptiongroup)
        .with_body(r#"{"groupName":"made","retryQueueNums":1,"consumeEnable":true}"#);
    let created = client.invoke(&addr, create, T).await.unwrap();
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
    let found = client.invoke(&addr, group_config("made"), T).await.unwrap();
    assert_eq!(found.code, ResponseCode::Success as i32, "{found:?}");
    let group: serde_json::Value = serde_json::from_slice(&found.body).unwrap();
    assert_eq!(group["groupName"], "made");
    assert_eq!(group["retryQueueNums"], 1);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_info_reports_rates_over_apaches_windows_and_the_morning_totals() {
    use rmq_broker::clock::Clock;
    use rmq_protocol::body::kv_table::KvTable;

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "listenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\nstorePathRootDir={}\n\
         mappedFileSizeCommitLog=4194304\n",
        dir.path().display()
    );
    let config = BrokerConfig::from_properties(&text).unwrap();
    let day = 24 * 60 * 60 * 1000;
    let clock = Clock::manual(day * 20_000 + 1_000);
    let running = rmq_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let broker = running.broker();
    // Eleven samples a second apart with 20 sends between each: 20 messages a second.
    let mut sent = 0;
    for _ in 0..=10 {
        broker.sample_stats();
        for _ in 0..20 {
            let r = client
                .invoke(&addr, support::send_keyed("Rate", &format!("m{sent}")), T)
                .await
                .unwrap();
            assert_eq!(r.code, ResponseCode::Success as i32);
            sent += 1;
        }
        clock.advance(1000);
    }
    broker.sample_stats();
    let info = |client: Client, addr: String| async move {
        let r = client
            .invoke(
                &addr,
                RemotingCommand::request(RequestCode::GetBrokerRuntimeInfo),
                T,
            )
            .await
            .unwrap();
        serde_json::from_slice::<KvTable>(&r.body).unwrap().table
    };
    let table = info(client.clone(), addr.clone()).await;
    let put_tps: Vec<f64> = table["putTps"]
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(put_tps, [20.0, 0.0, 0.0], "{table:?}");
    assert_eq!(table["msgPutTotalTodayNow"], "220");
    assert_eq!(table["msgPutTotalTodayMorning"], "0");
    assert!(table["commitLogDirCapacity"].starts_with("Total : "));
    for key in [
        "getFoundTps",
        "getMissTps",
        "getTotalTps",
        "getTransferedTps",
    ] {
        assert_eq!(table[key].split(' ').count(), 3, "{key}: {table:?}");
    }
    // Past midnight, this morning's total is what was put before it.
    clock.advance(day);
    broker.sample_stats();
    let table = info(client, addr).await;
    assert_eq!(table["msgPutTotalTodayMorning"], "220");
    assert_eq!(table["msgPutTotalYesterdayMorning"], "0");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_stats_data_reports_puts_by_topic_and_gets_by_group_over_apaches_windows() {
    use rmq_broker::clock::Clock;
    use rmq_protocol::command::view_broker_stats::{
        BrokerStatsData, ViewBrokerStatsDataRequestHeader,
    };

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "listenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\nstorePathRootDir={}\n\
         mappedFileSizeCommitLog=4194304\n",
        dir.path().display()
    );
    let clock = Clock::manual(1_700_000_000_000);
    let running =
        rmq_broker::start_with_clock(BrokerConfig::from_properties(&text).unwrap(), clock.clone())
            .await
            .unwrap();
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let broker = running.broker();
    broker.sample_stats();
    for i in 0..30 {
        let r = client
            .invoke(&addr, support::send_keyed("S", &format!("m{i}")), T)
            .await
            .unwrap();
        assert_eq!(r.code, ResponseCode::Success as i32);
    }
    assert!(broker.store.wait_dispatched(T));
    let pulled = client
        .invoke(
            &addr,
            support::pull_request(&support::pull_header("cg", "S", 0, 0)),
            T,
        )
        .await
        .unwrap();
    assert_eq!(pulled.code, ResponseCode::Success as i32);
    clock.advance(10_000);
    broker.sample_stats();
    let view = |name: &str, key: &str| {
        RemotingCommand::request_with_header(
            RequestCode::ViewBrokerStatsData,
            &ViewBrokerStatsDataRequestHeader {
                stats_name: name.into(),
                stats_key: key.into(),
            },
        )
    };
    let puts = client
        .invoke(&addr, view("TOPIC_PUT_NUMS", "S"), T)
        .await
        .unwrap();
    assert_eq!(puts.code, ResponseCode::Success as i32, "{puts:?}");
    let puts: BrokerStatsData = serde_json::from_slice(&puts.body).unwrap();
    assert_eq!(puts.stats_minute.sum, 30);
    assert_eq!(puts.stats_minute.tps, 3.0);
    assert_eq!(puts.stats_day.sum, 30);
    let gets = client
        .invoke(&addr, view("GROUP_GET_NUMS", "S@cg"), T)
        .await
        .unwrap();
    let gets: BrokerStatsData = serde_json::from_slice(&gets.body).unwrap();
    assert_eq!(gets.stats_minute.sum, 30);
    assert_eq!(gets.stats_minute.avgpt, 30.0, "one pull took all 30");
    let unknown = client
        .invoke(&addr, view("TOPIC_PUT_NUMS", "Nope"), T)
        .await
        .unwrap();
    assert_answered(
        &unknown,
        ResponseCode::SystemError,
        "The stats <TOPIC_PUT_NUMS> <Nope> not exist",
    );
    running.shutdown().await;
}
