#![allow(clippy::unwrap_used)]
//! The real `rmqctl` binary against the real name server (`rmq_namesrv`), with a fake broker
//! registered in it: the name server's answers must read the way rmqctl expects, end to end.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use rmq_namesrv::NamesrvConfig;
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::topic_config::{
    DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper,
};
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::register_broker::RegisterBrokerRequestHeader;
use rmq_remoting::Client;
use support::{FakeServer, Replies, cells, rmqctl, runtime_info};
use tokio::sync::oneshot;

/// REGISTER_BROKER of master `broker-a` of `DefaultCluster` at `addr`, carrying topic `T`.
fn register(addr: &str) -> RemotingCommand {
    let mut wrapper = TopicConfigSerializeWrapper {
        data_version: DataVersion {
            counter: 1,
            state_version: None,
            timestamp: 1_700_000_000_000,
        },
        ..TopicConfigSerializeWrapper::default()
    };
    wrapper.topic_config_table.insert(
        "T".to_owned(),
        TopicConfig {
            topic_name: "T".to_owned(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            ..TopicConfig::default()
        },
    );
    let body = RegisterBrokerBody {
        filter_server_list: vec![],
        topic_config_serialize_wrapper: wrapper,
    };
    RemotingCommand::request_with_header(
        RequestCode::RegisterBroker,
        &RegisterBrokerRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: addr.into(),
            cluster_name: "DefaultCluster".into(),
            ha_server_addr: addr.into(),
            broker_id: 0,
            heartbeat_timeout_millis: None,
            enable_acting_master: None,
            compressed: false,
            body_crc32: 0,
        },
    )
    .with_body(body.to_json().unwrap())
}

/// A name server on its own thread and runtime, with `broker` registered; stopped on drop.
struct Namesrv {
    addr: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Namesrv {
    fn start(broker: &str) -> Namesrv {
        let dir = tempfile::tempdir().unwrap();
        let config = NamesrvConfig {
            listen_port: 0,
            bind_address: "127.0.0.1".parse().unwrap(),
            kv_config_path: dir.path().join("kvConfig.json"),
            ..NamesrvConfig::default()
        };
        let broker = broker.to_owned();
        let (started, addr) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let running = rmq_namesrv::start(config).await.unwrap();
                let addr = running.local_addr().to_string();
                let answer = Client::default()
                    .invoke(&addr, register(&broker), Duration::from_secs(5))
                    .await
                    .unwrap();
                assert_eq!(answer.code, ResponseCode::Success.code(), "{answer:?}");
                started.send(addr).unwrap();
                let _ = stopped.await;
                running.shutdown().await;
            });
        });
        Namesrv {
            addr: addr.recv_timeout(Duration::from_secs(10)).unwrap(),
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for Namesrv {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_registered_broker_is_listed_routed_and_its_topic_deleted_through_the_name_server() {
    let broker = FakeServer::start(|_| {
        Replies::new()
            .ok(RequestCode::GetBrokerRuntimeInfo, runtime_info())
            .ok(RequestCode::DeleteTopicInBroker, Vec::new())
    });
    let ns = Namesrv::start(&broker.addr);

    let listed = rmqctl(&["clusterList", "-n", &ns.addr]);
    assert_eq!(
        listed.rows()[1..],
        [cells(&[
            "DefaultCluster",
            "broker-a",
            "0",
            &broker.addr,
            "V4_9_4",
            "12.50",
            "3.00"
        ])]
    );

    let route = rmqctl(&["topicRoute", "-n", &ns.addr, "-t", "T"]).json();
    assert_eq!(
        route["brokerDatas"][0]["brokerAddrs"]["0"],
        broker.addr.as_str()
    );
    assert_eq!(route["queueDatas"][0]["writeQueueNums"], 4);

    let topics = rmqctl(&["topicList", "-n", &ns.addr, "--json"]).json();
    assert!(
        topics["topicList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "T"),
        "{topics}"
    );

    let deleted = rmqctl(&[
        "deleteTopic",
        "-n",
        &ns.addr,
        "-t",
        "T",
        "-c",
        "DefaultCluster",
    ]);
    assert_eq!(
        deleted.rows()[1..],
        [
            cells(&["broker", &broker.addr, "T", "DefaultCluster"]),
            cells(&["name", "server", &ns.addr, "T", "DefaultCluster"]),
        ]
    );
    assert_eq!(
        &broker.request(RequestCode::DeleteTopicInBroker).ext_fields["topic"],
        "T"
    );

    let gone = rmqctl(&["topicRoute", "-n", &ns.addr, "-t", "T"]);
    assert_eq!(gone.code, Some(1));
    assert!(
        gone.stderr.contains("was answered TOPIC_NOT_EXIST(17)"),
        "{}",
        gone.stderr
    );
}
