//! A broker in-process and clients as raw sockets that heartbeat as a Java or C++ client would
//! and answer what the broker asks them (reset, status, running info, consume directly, pushed
//! replies), shared by the tests of what the broker asks of its clients.
// Each test binary compiles its own copy and uses only part of it.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::connection_list::{
    ConsumerConnection, GetConsumerConnectionListRequestHeader,
};
use rmq_protocol::command::heart_beat::{
    ConsumerData, HeartbeatData, ProducerData, SubscriptionData,
};
use rmq_protocol::{LanguageCode, RemotingCommand};
use rmq_remoting::{Client, FrameReader};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Mutex as AsyncMutex;

/// Per-request timeout of these tests.
pub const T: Duration = Duration::from_secs(10);

pub async fn broker(dir: &std::path::Path) -> RunningBroker {
    broker_with(dir, "").await
}

pub async fn broker_with(dir: &std::path::Path, extra: &str) -> RunningBroker {
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
pub struct FakeClient {
    pub client_id: String,
    pub local_addr: String,
    pub writer: Arc<AsyncMutex<OwnedWriteHalf>>,
    pub seen: Arc<Mutex<Vec<RemotingCommand>>>,
}

pub async fn write(writer: &AsyncMutex<OwnedWriteHalf>, command: &RemotingCommand) {
    let mut frame = BytesMut::new();
    rmq_protocol::frame::encode(command, &mut frame).unwrap();
    writer.lock().await.write_all(&frame).await.unwrap();
}

impl FakeClient {
    pub async fn join(addr: &str, client_id: &str, language: LanguageCode, version: i32) -> Self {
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
    pub async fn received(&self, code: i32) -> Vec<RemotingCommand> {
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
pub async fn until_online(client: &Client, addr: &str, n: usize) {
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

pub fn consumer_list(group: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::GetConsumerConnectionList,
        &GetConsumerConnectionListRequestHeader {
            consumer_group: group.into(),
        },
    )
}

pub fn assert_answered(response: &RemotingCommand, code: ResponseCode, says: &str) {
    assert_eq!(response.code, code as i32, "{response:?}");
    let remark = response.remark.as_deref().unwrap_or_default();
    assert!(remark.contains(says), "{says:?} not in {remark:?}");
}
