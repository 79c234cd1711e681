#![allow(clippy::unwrap_used)]
//! Request-reply (SEND_REPLY_MESSAGE_V2, PUSH_REPLY_MESSAGE_TO_CLIENT) with the broker
//! in-process and the requester as a raw socket: the reply is stored, then pushed to the
//! requester's connection; the replier learns when it cannot be.

use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::send_message::SendMessageResponseHeader;
use rmq_protocol::{LanguageCode, RemotingCommand};
use rmq_remoting::Client;

mod fake_client;
mod support;

use fake_client::{FakeClient, T, assert_answered, broker, broker_with, until_online};

/// A reply as a replier sends it (SEND_REPLY_MESSAGE_V2 to the cluster's reply topic), for the
/// requester `reply_to`.
fn reply(reply_to: Option<&str>, body: &str) -> RemotingCommand {
    let mut properties = "CORRELATION_ID\u{1}corr-1\u{2}MSG_TYPE\u{1}reply\u{2}".to_owned();
    if let Some(client) = reply_to {
        properties.push_str(&format!("REPLY_TO_CLIENT\u{1}{client}\u{2}"));
    }
    let header = support::send_header("DefaultCluster_REPLY_TOPIC", properties);
    RemotingCommand::request_with_header(
        RequestCode::SendReplyMessageV2,
        &rmq_protocol::command::send_message::SendMessageRequestHeaderV2::from(header),
    )
    .with_body(body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_stored_and_pushed_to_its_requester_and_the_replier_learns_when_it_cannot_be() {
    use rmq_protocol::command::reply_message::ReplyMessageRequestHeader;
    use rmq_protocol::message::properties;

    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path()).await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let requester = FakeClient::join(&addr, "requester@1", LanguageCode::Java, 413).await;
    let refuser = FakeClient::join(&addr, "refuser@1", LanguageCode::Java, 413).await;
    until_online(&client, &addr, 2).await;

    let answered = client
        .invoke(&addr, reply(Some("requester@1"), "pong"), T)
        .await
        .unwrap();
    assert_eq!(answered.code, ResponseCode::Success as i32, "{answered:?}");
    let pushed = &requester.received(326).await[0];
    assert!(!pushed.is_oneway());
    assert_eq!(&pushed.body[..], b"pong");
    let header: ReplyMessageRequestHeader = pushed.decode_header().unwrap();
    assert_eq!(header.topic, "DefaultCluster_REPLY_TOPIC");
    let props = header.properties.unwrap();
    assert_eq!(
        properties::find(props.as_bytes(), "CORRELATION_ID"),
        Some("corr-1")
    );
    assert!(properties::find(props.as_bytes(), "PUSH_REPLY_TIME").is_some());
    assert_eq!(header.store_host, running.broker().store_host.to_string());
    // Stored as well: the answer carries where, and the record is there.
    let sent: SendMessageResponseHeader = answered.decode_header().unwrap();
    let offset = rmq_protocol::message::msg_id::parse_offset_msg_id(&sent.msg_id)
        .unwrap()
        .1;
    assert!(running.broker().store.read_record(offset as u64).is_some());

    let no_requester = client.invoke(&addr, reply(None, "x"), T).await.unwrap();
    assert_answered(
        &no_requester,
        ResponseCode::SystemError,
        "reply message properties[REPLY_TO_CLIENT] is null",
    );
    let gone = client
        .invoke(&addr, reply(Some("gone@9"), "x"), T)
        .await
        .unwrap();
    assert_answered(
        &gone,
        ResponseCode::SystemError,
        "push reply message fail, channel of <gone@9> not found.",
    );
    let refused = client
        .invoke(&addr, reply(Some("refuser@1"), "x"), T)
        .await
        .unwrap();
    assert_answered(
        &refused,
        ResponseCode::SystemError,
        "push reply message to refuser@1fail.",
    );
    assert_eq!(refuser.received(326).await.len(), 1);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reply_storing_off_a_reply_is_only_pushed_and_answered_with_apaches_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let running = broker_with(dir.path(), "storeReplyMessageEnable=false\n").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let requester = FakeClient::join(&addr, "requester@1", LanguageCode::Java, 413).await;
    until_online(&client, &addr, 1).await;
    let answered = client
        .invoke(&addr, reply(Some("requester@1"), "pong"), T)
        .await
        .unwrap();
    assert_eq!(answered.code, ResponseCode::Success as i32, "{answered:?}");
    let sent: SendMessageResponseHeader = answered.decode_header().unwrap();
    assert_eq!((sent.msg_id.as_str(), sent.queue_offset), ("0", 0));
    assert_eq!(&requester.received(326).await[0].body[..], b"pong");
    assert_eq!(
        running
            .broker()
            .store
            .max_offset_in_queue("DefaultCluster_REPLY_TOPIC", 0),
        0
    );
    running.shutdown().await;
}
