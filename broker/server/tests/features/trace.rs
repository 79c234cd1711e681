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
