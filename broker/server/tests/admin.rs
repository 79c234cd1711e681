#![allow(clippy::unwrap_used)]
//! Admin requests over real sockets with the broker in-process: consumer progress across
//! groups (time span, correction offsets, clone, broker consume stats), raw consume queue
//! entries, half messages put back for checking, and the manual clean-ups.

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

async fn broker(dir: &std::path::Path) -> RunningBroker {
    let text = format!(
        "brokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         storePathRootDir={}\nmappedFileSizeCommitLog=4194304\n",
        dir.display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

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
    let running = broker(dir).await;
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
