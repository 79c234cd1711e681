#![allow(clippy::unwrap_used)]
//! What the broker asks of its clients, with the broker in-process and the clients as raw
//! sockets that heartbeat as a Java or C++ client would and answer what the broker asks them:
//! tools' connection lists, who consumes a topic, offset resets (online and offline), status,
//! running info, consuming one stored message. Request-reply is in `request_reply.rs`.

use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::call_consumer::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
};
use rmq_protocol::command::connection_list::{
    ConsumerConnection, GetProducerConnectionListRequestHeader, ProducerConnection,
};
use rmq_protocol::command::get_consumer_status::GetConsumerStatusRequestHeader;
use rmq_protocol::command::query_topic_consume_by_who::{
    GroupList, QueryTopicConsumeByWhoRequestHeader,
};
use rmq_protocol::command::reset_offset::{ResetOffsetBody, ResetOffsetRequestHeader};
use rmq_protocol::command::send_message::SendMessageResponseHeader;
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_protocol::{LanguageCode, RemotingCommand};
use rmq_remoting::Client;

mod fake_client;
mod support;

use fake_client::{FakeClient, T, assert_answered, broker, consumer_list, until_online};

fn commit(queue_id: i32, offset: i64) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::UpdateConsumerOffset,
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: "g".into(),
            topic: "T".into(),
            queue_id,
            commit_offset: offset,
        },
    )
}

fn reset(topic: &str, timestamp: i64, force: bool) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::InvokeBrokerToResetOffset,
        &ResetOffsetRequestHeader {
            topic: topic.into(),
            group: "g".into(),
            timestamp,
            is_force: force,
        },
    )
}

/// Sends three messages to queue 0 of `T` and commits the end of every queue (3 on queue 0,
/// 0 on the three empty ones).
async fn three_messages_consumed(client: &Client, addr: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for body in ["a", "b", "c"] {
        let sent = client
            .invoke(addr, support::send_keyed("T", body), T)
            .await
            .unwrap();
        assert_eq!(sent.code, ResponseCode::Success as i32, "{sent:?}");
        let header: SendMessageResponseHeader = sent.decode_header().unwrap();
        ids.push(header.msg_id);
    }
    for queue_id in 0..4 {
        let end = if queue_id == 0 { 3 } else { 0 };
        let committed = client.invoke(addr, commit(queue_id, end), T).await.unwrap();
        assert_eq!(committed.code, ResponseCode::Success as i32);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_lists_show_each_client_as_it_reported_itself_and_who_consumes_a_topic() {
    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path()).await;
    let addr = running.local_addr().to_string();
    let client = Client::default();

    let offline = client.invoke(&addr, consumer_list("g"), T).await.unwrap();
    assert_answered(
        &offline,
        ResponseCode::ConsumerNotOnline,
        "the consumer group[g] not online",
    );

    let java = FakeClient::join(&addr, "10.0.0.1@1", LanguageCode::Java, 413).await;
    let cpp = FakeClient::join(&addr, "10.0.0.2@2", LanguageCode::Cpp, 401).await;
    until_online(&client, &addr, 2).await;
    let answer = client.invoke(&addr, consumer_list("g"), T).await.unwrap();
    let listed: ConsumerConnection = serde_json::from_slice(&answer.body).unwrap();
    let seen: Vec<_> = listed
        .connection_set
        .iter()
        .map(|c| {
            (
                c.client_id.as_str(),
                c.client_addr.as_str(),
                c.language,
                c.version,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "10.0.0.1@1",
                java.local_addr.as_str(),
                LanguageCode::Java,
                413
            ),
            (
                "10.0.0.2@2",
                cpp.local_addr.as_str(),
                LanguageCode::Cpp,
                401
            ),
        ]
    );
    assert!(listed.subscription_table.contains_key("T"));

    let producers = client
        .invoke(
            &addr,
            RemotingCommand::request_with_header(
                RequestCode::GetProducerConnectionList,
                &GetProducerConnectionListRequestHeader {
                    producer_group: "pg".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    let producers: ProducerConnection = serde_json::from_slice(&producers.body).unwrap();
    assert_eq!(producers.connection_set.len(), 2);
    let all = client
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::GetAllProducerInfo),
            T,
        )
        .await
        .unwrap();
    let all: rmq_protocol::command::connection_list::ProducerTableInfo =
        serde_json::from_slice(&all.body).unwrap();
    let remotes: Vec<&str> = all.data["pg"]
        .iter()
        .map(|p| p.remote_ip.as_str())
        .collect();
    assert_eq!(
        remotes,
        [
            format!("/{}", java.local_addr),
            format!("/{}", cpp.local_addr)
        ]
    );
    let unknown = client
        .invoke(
            &addr,
            RemotingCommand::request_with_header(
                RequestCode::GetProducerConnectionList,
                &GetProducerConnectionListRequestHeader {
                    producer_group: "nobody".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    assert_answered(
        &unknown,
        ResponseCode::SystemError,
        "the producer group[nobody] not exist",
    );

    // An offline group with a committed offset consumes the topic too.
    let offline_commit = RemotingCommand::request_with_header(
        RequestCode::UpdateConsumerOffset,
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: "offline".into(),
            topic: "T".into(),
            queue_id: 0,
            commit_offset: 0,
        },
    );
    client
        .invoke(&addr, support::send_keyed("T", "x"), T)
        .await
        .unwrap();
    client.invoke(&addr, offline_commit, T).await.unwrap();
    let who = client
        .invoke(
            &addr,
            RemotingCommand::request_with_header(
                RequestCode::QueryTopicConsumeByWho,
                &QueryTopicConsumeByWhoRequestHeader { topic: "T".into() },
            ),
            T,
        )
        .await
        .unwrap();
    let who: GroupList = serde_json::from_slice(&who.body).unwrap();
    assert_eq!(who.group_list, ["g", "offline"]);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_reaches_every_online_consumer_in_its_librarys_form_and_an_offline_group_is_told_so()
 {
    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path()).await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    three_messages_consumed(&client, &addr).await;

    let offline = client.invoke(&addr, reset("T", 0, true), T).await.unwrap();
    assert_answered(
        &offline,
        ResponseCode::ConsumerNotOnline,
        "Consumer not online, so can not reset offset, Group: g Topic: T Timestamp: 0",
    );
    let no_topic = client
        .invoke(&addr, reset("Nope", 0, true), T)
        .await
        .unwrap();
    assert_answered(
        &no_topic,
        ResponseCode::SystemError,
        "no topic in this broker. topic=Nope",
    );

    let java = FakeClient::join(&addr, "java@1", LanguageCode::Java, 413).await;
    let cpp = FakeClient::join(&addr, "cpp@1", LanguageCode::Cpp, 401).await;
    until_online(&client, &addr, 2).await;
    let answer = client.invoke(&addr, reset("T", 0, true), T).await.unwrap();
    assert_eq!(answer.code, ResponseCode::Success as i32, "{answer:?}");
    let table = ResetOffsetBody::decode(&answer.body).unwrap().offset_table;
    assert_eq!(table.len(), 4);
    assert!(
        table
            .iter()
            .all(|(mq, offset)| *offset == 0 && mq.broker_name == "broker-a")
    );

    let to_java = &java.received(220).await[0];
    assert!(to_java.is_oneway());
    assert_eq!(to_java.ext_fields.get("group"), Some("g"));
    assert_eq!(
        ResetOffsetBody::decode(&to_java.body)
            .unwrap()
            .offset_table
            .len(),
        4
    );
    let to_cpp = &cpp.received(220).await[0];
    let listed: serde_json::Value = serde_json::from_slice(&to_cpp.body).unwrap();
    assert_eq!(listed["offsetTable"].as_array().unwrap().len(), 4);
    assert_eq!(listed["offsetTable"][0]["offset"], 0);

    // Not forced, only offsets that move back change: to the queues' ends (-1) none does, so
    // each queue keeps its committed offset.
    let answer = client
        .invoke(&addr, reset("T", -1, false), T)
        .await
        .unwrap();
    let table = ResetOffsetBody::decode(&answer.body).unwrap().offset_table;
    let offsets: Vec<i64> = table.iter().map(|(_, offset)| *offset).collect();
    assert_eq!(offsets, [3, 0, 0, 0]);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_running_info_and_consume_directly_are_the_named_consumers_own_answers() {
    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path()).await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let ids = three_messages_consumed(&client, &addr).await;
    let status = |client_addr: Option<&str>| {
        RemotingCommand::request_with_header(
            RequestCode::InvokeBrokerToGetConsumerStatus,
            &GetConsumerStatusRequestHeader {
                topic: "T".into(),
                group: "g".into(),
                client_addr: client_addr.map(str::to_owned),
            },
        )
    };
    let none = client.invoke(&addr, status(None), T).await.unwrap();
    assert_answered(
        &none,
        ResponseCode::SystemError,
        "No Any Consumer online in the consumer group: [g]",
    );

    let _a = FakeClient::join(&addr, "a@1", LanguageCode::Java, 413).await;
    let _b = FakeClient::join(&addr, "b@1", LanguageCode::Java, 413).await;
    until_online(&client, &addr, 2).await;
    let all = client.invoke(&addr, status(None), T).await.unwrap();
    let text = String::from_utf8_lossy(&all.body).into_owned();
    assert!(
        text.contains(r#""a@1":{{"#) && text.contains(r#""b@1":{{"#),
        "{text}"
    );
    let one = client.invoke(&addr, status(Some("b@1")), T).await.unwrap();
    let text = String::from_utf8_lossy(&one.body).into_owned();
    assert!(!text.contains("a@1") && text.contains("b@1"), "{text}");

    let running_info = |client_id: &str| {
        RemotingCommand::request_with_header(
            RequestCode::GetConsumerRunningInfo,
            &GetConsumerRunningInfoRequestHeader {
                consumer_group: "g".into(),
                client_id: client_id.into(),
                jstack_enable: false,
            },
        )
    };
    let tool_request = running_info("b@1");
    let info = client.invoke(&addr, tool_request, T).await.unwrap();
    assert_eq!(info.code, ResponseCode::Success as i32, "{info:?}");
    assert_eq!(&info.body[..], b"running info of b@1");
    let gone = client.invoke(&addr, running_info("z@9"), T).await.unwrap();
    assert_answered(
        &gone,
        ResponseCode::SystemError,
        "The Consumer <g> <z@9> not online",
    );

    let directly = |msg_id: &str| {
        RemotingCommand::request_with_header(
            RequestCode::ConsumeMessageDirectly,
            &ConsumeMessageDirectlyResultRequestHeader {
                consumer_group: "g".into(),
                client_id: Some("a@1".into()),
                msg_id: Some(msg_id.into()),
                broker_name: None,
                topic: Some("T".into()),
            },
        )
    };
    let consumed = client.invoke(&addr, directly(&ids[1]), T).await.unwrap();
    assert_eq!(consumed.code, ResponseCode::Success as i32, "{consumed:?}");
    let said = String::from_utf8_lossy(&consumed.body).into_owned();
    assert!(
        said.starts_with("a@1 consumed ") && said.ends_with(" bytes from broker-a"),
        "{said}"
    );
    let stored = running.broker().store.read_record(
        rmq_protocol::message::msg_id::parse_offset_msg_id(&ids[1])
            .unwrap()
            .1 as u64,
    );
    assert_eq!(
        said,
        format!("a@1 consumed {} bytes from broker-a", stored.unwrap().len())
    );
    let missing = client
        .invoke(&addr, directly("7F00000100002A9F00000000FFFFFFFF"), T)
        .await
        .unwrap();
    assert_answered(
        &missing,
        ResponseCode::SystemError,
        "is not stored on this broker",
    );
    running.shutdown().await;
}
