//! SEND_MESSAGE and PULL_MESSAGE requests as the in-process and multi-process broker tests send
//! them: the usual header, which a test adjusts with struct-update syntax where it differs; and
//! the in-process broker the admin tests start.
// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::RequestCode;
use rmq_protocol::command::pull_message::{PullMessageRequestHeader, sys_flag};
use rmq_protocol::command::send_message::SendMessageRequestHeader;

/// An in-process broker on a free loopback port, its store under `dir` (4 MiB commit log files,
/// no fast port).
pub async fn start_broker(dir: &std::path::Path) -> rmq_broker::RunningBroker {
    let text = format!(
        "brokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         storePathRootDir={}\nmappedFileSizeCommitLog=4194304\n",
        dir.display()
    );
    let config = rmq_broker::BrokerConfig::from_properties(&text).expect("test broker config");
    rmq_broker::start(config).await.expect("test broker starts")
}

/// UPDATE_AND_CREATE_TOPIC of `topic`: 4 read and write queues, read-write.
pub fn create_topic(topic: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::UpdateAndCreateTopic,
        &rmq_protocol::command::create_topic::CreateTopicRequestHeader {
            topic: topic.into(),
            default_topic: "TBW102".into(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            topic_filter_type: rmq_protocol::body::topic_config::TopicFilterType::SingleTag,
            topic_sys_flag: None,
            order: false,
            attributes: None,
            force: None,
        },
    )
}

/// A send from producer group `pg` to queue 0 of `topic` (auto-created from `TBW102` with four
/// queues), born at 1, with no flag and the property string `properties`.
pub fn send_header(topic: &str, properties: String) -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: "pg".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: 0,
        sys_flag: 0,
        born_timestamp: 1,
        flag: 0,
        properties: Some(properties),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        batch: Some(false),
        max_reconsume_times: None,
        broker_name: None,
    }
}

/// A SEND_MESSAGE request of `body` with `header`.
pub fn send_request(header: &SendMessageRequestHeader, body: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(RequestCode::SendMessage, header)
        .with_body(body.to_owned())
}

/// A SEND_MESSAGE of `body` to `topic` (see [`send_header`]) whose key is the body itself.
pub fn send_keyed(topic: &str, body: &str) -> RemotingCommand {
    send_request(&send_header(topic, format!("KEYS\u{1}{body}\u{2}")), body)
}

/// A pull by consumer group `group` of up to 32 messages from queue `queue_id` of `topic` at
/// `offset`, subscribed to every tag, answered at once (not suspended), committing nothing.
pub fn pull_header(
    group: &str,
    topic: &str,
    queue_id: i32,
    offset: i64,
) -> PullMessageRequestHeader {
    PullMessageRequestHeader {
        consumer_group: group.into(),
        topic: topic.into(),
        queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: sys_flag::SUBSCRIPTION,
        commit_offset: 0,
        suspend_timeout_millis: 0,
        subscription: Some("*".into()),
        sub_version: 0,
        expression_type: Some("TAG".into()),
        max_msg_bytes: None,
        request_source: None,
        proxy_froward_client_id: None,
    }
}

/// A PULL_MESSAGE request with `header`.
pub fn pull_request(header: &PullMessageRequestHeader) -> RemotingCommand {
    RemotingCommand::request_with_header(RequestCode::PullMessage, header)
}
