#![allow(clippy::unwrap_used)]
//! What the broker asks of its clients, with the broker in-process and the clients as raw
//! sockets that heartbeat as a Java or C++ client would and answer what the broker asks them:
//! tools' connection lists, who consumes a topic, offset resets (online and offline), status,
//! running info, consuming one stored message; and request-reply, the reply pushed to the
//! requester.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::call_consumer::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
};
use rmq_protocol::command::connection_list::{
    ConsumerConnection, GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader, ProducerConnection,
};
use rmq_protocol::command::get_consumer_status::GetConsumerStatusRequestHeader;
use rmq_protocol::command::heart_beat::{
    ConsumerData, HeartbeatData, ProducerData, SubscriptionData,
};
use rmq_protocol::command::query_topic_consume_by_who::{
    GroupList, QueryTopicConsumeByWhoRequestHeader,
};
use rmq_protocol::command::reset_offset::{ResetOffsetBody, ResetOffsetRequestHeader};
use rmq_protocol::command::send_message::SendMessageResponseHeader;
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_protocol::{LanguageCode, RemotingCommand};
use rmq_remoting::{Client, FrameReader};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Mutex as AsyncMutex;

mod support;

const T: Duration = Duration::from_secs(10);

async fn broker(dir: &std::path::Path) -> RunningBroker {
    broker_with(dir, "").await
}

async fn broker_with(dir: &std::path::Path, extra: &str) -> RunningBroker {
    let text = format!(
        "brokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         storePathRootDir={}\nmappedFileSizeCommitLog=4194304\n{extra}",
        dir.display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

/// A consumer of group `g` on topic `T` and producer of `pg` speaking raw frames: it records
/// every request the broker sends and answers the ones that expect an answer (a pushed reply
/// with SUCCESS, unless its client id starts with `refuser`).
struct FakeClient {
    client_id: String,
    local_addr: String,
    writer: Arc<AsyncMutex<OwnedWriteHalf>>,
    seen: Arc<Mutex<Vec<RemotingCommand>>>,
}

async fn write(writer: &AsyncMutex<OwnedWriteHalf>, command: &RemotingCommand) {
    let mut frame = BytesMut::new();
    rmq_protocol::frame::encode(command, &mut frame).unwrap();
    writer.lock().await.write_all(&frame).await.unwrap();
}

impl FakeClient {
    async fn join(addr: &str, client_id: &str, language: LanguageCode, version: i32) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        let local_addr = stream.local_addr().unwrap().to_string();
        let (read, write_half) = stream.into_split();
        let writer = Arc::new(AsyncMutex::new(write_half));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let consumer = FakeClient {
            client_id: client_id.into(),
            local_addr,
            writer: writer.clone(),
            seen: seen.clone(),
        };
        let me = client_id.to_owned();
        tokio::spawn(async move {
            let mut reader = FrameReader::new(read, 1 << 24);
            while let Ok(Some(command)) = reader.read_command().await {
                if command.is_response() {
                    continue;
                }
                seen.lock().unwrap().push(command.clone());
                let answer = match command.code {
                    221 => Some(
                        RemotingCommand::response_to(&command, ResponseCode::Success).with_body(
                            r#"{"messageQueueTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:7}}"#,
                        ),
                    ),
                    307 => Some(
                        RemotingCommand::response_to(&command, ResponseCode::Success)
                            .with_body(format!("running info of {me}")),
                    ),
                    309 => Some(
                        RemotingCommand::response_to(&command, ResponseCode::Success).with_body(
                            format!(
                                "{me} consumed {} bytes from {}",
                                command.body.len(),
                                command.ext_fields.get("brokerName").unwrap_or("?")
                            ),
                        ),
                    ),
                    326 if me.starts_with("refuser") => Some(
                        RemotingCommand::response_to(&command, ResponseCode::SystemError)
                            .with_remark("no request waits for this reply"),
                    ),
                    326 => Some(RemotingCommand::response_to(&command, ResponseCode::Success)),
                    _ => None,
                };
                if let Some(answer) = answer {
                    write(&writer, &answer).await;
                }
            }
        });
        let mut heartbeat = RemotingCommand::request(RequestCode::HeartBeat).with_body(
            HeartbeatData {
                client_id: client_id.into(),
                consumer_data_set: vec![ConsumerData {
                    group_name: "g".into(),
                    subscription_data_set: vec![SubscriptionData {
                        topic: "T".into(),
                        ..SubscriptionData::default()
                    }],
                    ..ConsumerData::default()
                }],
                producer_data_set: vec![ProducerData {
                    group_name: "pg".into(),
                }],
                ..HeartbeatData::default()
            }
            .to_json()
            .unwrap(),
        );
        heartbeat.language = language;
        heartbeat.version = version;
        write(&consumer.writer, &heartbeat).await;
        consumer
    }

    /// The requests with `code` the broker has sent so far, waiting up to 10 s for one.
    async fn received(&self, code: i32) -> Vec<RemotingCommand> {
        for _ in 0..200 {
            let got: Vec<_> = self
                .seen
                .lock()
                .unwrap()
                .iter()
                .filter(|c| c.code == code)
                .cloned()
                .collect();
            if !got.is_empty() {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} never received request {code}", self.client_id);
    }
}

/// Waits until the broker lists `n` members of group `g`.
async fn until_online(client: &Client, addr: &str, n: usize) {
    for _ in 0..200 {
        let answer = client.invoke(addr, consumer_list("g"), T).await.unwrap();
        if answer.code == ResponseCode::Success as i32
            && serde_json::from_slice::<ConsumerConnection>(&answer.body)
                .unwrap()
                .connection_set
                .len()
                == n
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{n} consumers never came online");
}

fn consumer_list(group: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::GetConsumerConnectionList,
        &GetConsumerConnectionListRequestHeader {
            consumer_group: group.into(),
        },
    )
}

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

fn assert_answered(response: &RemotingCommand, code: ResponseCode, says: &str) {
    assert_eq!(response.code, code as i32, "{response:?}");
    let remark = response.remark.as_deref().unwrap_or_default();
    assert!(remark.contains(says), "{says:?} not in {remark:?}");
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
