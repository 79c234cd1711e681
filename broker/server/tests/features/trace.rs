//! The message trace topic (`traceTopicEnable`, `msgTraceTopicName`).

use super::*;

#[test]
fn trace_topic_exists_when_enabled_and_its_messages_are_queryable() {
    let cluster = Cluster::start("traceTopicEnable=true");
    let topics = rmqctl_json(&cluster, &["topicList"]).to_string();
    assert!(topics.contains("RMQ_SYS_TRACE_TOPIC"), "{topics}");
    // A client with tracing on writes its trace records there like any message.
    produce(
        &cluster,
        "RMQ_SYS_TRACE_TOPIC",
        1,
        &["--key-prefix", "trace-"],
    );
    let stored = super::retry::stored_by_key(&cluster, "RMQ_SYS_TRACE_TOPIC", "trace-0");
    assert_eq!(stored.len(), 1, "{stored:#?}");
    assert_eq!(stored[0]["topic"], "RMQ_SYS_TRACE_TOPIC");

    let renamed = Cluster::start("traceTopicEnable=true\nmsgTraceTopicName=MyTrace");
    let topics = rmqctl_json(&renamed, &["topicList"]).to_string();
    assert!(
        topics.contains("MyTrace") && !topics.contains("RMQ_SYS_TRACE_TOPIC"),
        "{topics}"
    );
    let off = Cluster::start("");
    let topics = rmqctl_json(&off, &["topicList"]).to_string();
    assert!(!topics.contains("RMQ_SYS_TRACE_TOPIC"), "{topics}");
}

#[test]
fn rmqctl_shows_a_messages_trace_by_its_id() {
    use rmq_protocol::command::send_message::SendMessageRequestHeader;
    let cluster = Cluster::start("traceTopicEnable=true");
    // What a Java producer and consumer with trace on write (TraceDataEncoder), keyed by msgId.
    let msg_id = "7F00000100002A9F0000000000000001";
    let body = format!(
        "Pub\u{1}1700000000000\u{1}DefaultRegion\u{1}pg\u{1}Orders\u{1}{msg_id}\u{1}tagA\u{1}k1\u{1}\
         127.0.0.1:10911\u{1}5\u{1}3\u{1}0\u{1}OFF\u{1}true\u{1}10.0.0.1\u{2}\
         SubAfter\u{1}req\u{1}{msg_id}\u{1}7\u{1}true\u{1}k1\u{1}0\u{1}1700000000200\u{1}cg\u{2}"
    );
    let header = SendMessageRequestHeader {
        producer_group: "_INNER_TRACE_PRODUCER-DEFAULT_GROUP".into(),
        ..support::send_header(
            "RMQ_SYS_TRACE_TOPIC",
            format!("KEYS\u{1}{msg_id} k1\u{2}WAIT\u{1}true\u{2}"),
        )
    };
    let sent = request(&cluster, support::send_request(&header, &body));
    assert_eq!(sent.code, ResponseCode::Success as i32, "{sent:?}");
    // Once the index has it.
    assert_eq!(
        super::retry::stored_by_key(&cluster, "RMQ_SYS_TRACE_TOPIC", msg_id).len(),
        1
    );
    let trace = rmqctl_json(&cluster, &["queryMsgTraceById", "-i", msg_id]);
    let events = trace["events"].as_array().unwrap();
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["traceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Pub", "SubAfter"], "{trace}");
    assert_eq!(events[0]["group"], "pg");
    assert_eq!(events[1]["group"], "cg");
    let table = cluster.rmqctl(&["queryMsgTraceById", "-i", msg_id]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("SubAfter"));
}
