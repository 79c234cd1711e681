//! Shared by the integration tests: an in-process name server on 127.0.0.1:0 with its KV file in
//! a temp dir, a client, and request builders.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use rmq_namesrv::{NamesrvConfig, RunningNamesrv};
use rmq_protocol::body::topic_config::{
    DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper,
};
use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
use rmq_protocol::command::register_broker::RegisterBrokerRequestHeader;
use rmq_protocol::{RemotingCommand, RequestCode};
use rmq_remoting::Client;

/// Per-request timeout: generous for a loaded 2-core machine, never reached when things work.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A config listening on a free loopback port with its KV file under `dir`.
pub fn config(dir: &Path) -> NamesrvConfig {
    NamesrvConfig {
        listen_port: 0,
        bind_address: "127.0.0.1".parse().unwrap(),
        kv_config_path: dir.join("kvConfig.json"),
        ..NamesrvConfig::default()
    }
}

/// Starts a name server with `config(dir)`.
pub async fn start(dir: &Path) -> RunningNamesrv {
    rmq_namesrv::start(config(dir)).await.unwrap()
}

/// `host:port` of a running server, as the client wants it.
pub fn addr(running: &RunningNamesrv) -> String {
    running.local_addr().to_string()
}

/// A REGISTER_BROKER request for a broker of `DefaultCluster` carrying `topics`
/// (4 queues each, read-write; TBW102 with perm 7 and 8 queues as Apache brokers register it).
pub fn register_request(name: &str, addr: &str, id: i64, topics: &[&str]) -> RemotingCommand {
    let mut wrapper = TopicConfigSerializeWrapper {
        data_version: DataVersion {
            counter: 1,
            state_version: None,
            timestamp: 1_700_000_000_000,
        },
        ..TopicConfigSerializeWrapper::default()
    };
    for topic in topics {
        let (queues, perm) = if *topic == "TBW102" { (8, 7) } else { (4, 6) };
        wrapper.topic_config_table.insert(
            (*topic).to_owned(),
            TopicConfig {
                topic_name: (*topic).to_owned(),
                read_queue_nums: queues,
                write_queue_nums: queues,
                perm,
                ..TopicConfig::default()
            },
        );
    }
    let body = RegisterBrokerBody {
        filter_server_list: vec![],
        topic_config_serialize_wrapper: wrapper,
    };
    RemotingCommand::request_with_header(
        RequestCode::RegisterBroker,
        &RegisterBrokerRequestHeader {
            broker_name: name.into(),
            broker_addr: addr.into(),
            cluster_name: "DefaultCluster".into(),
            ha_server_addr: format!("{addr}-ha"),
            broker_id: id,
            heartbeat_timeout_millis: None,
            enable_acting_master: None,
            compressed: false,
            body_crc32: 0,
        },
    )
    .with_body(body.to_json().unwrap())
}

/// A GET_ROUTEINFO_BY_TOPIC request sent as a client of MQVersion ordinal `version`.
pub fn route_request(topic: &str, version: i32) -> RemotingCommand {
    let mut request = RemotingCommand::request_with_header(
        RequestCode::GetRouteinfoByTopic,
        &GetRouteInfoRequestHeader {
            topic: topic.into(),
            accept_standard_json_only: None,
        },
    );
    request.version = version;
    request
}

/// Sends `request` and waits for the answer.
pub async fn invoke(client: &Client, addr: &str, request: RemotingCommand) -> RemotingCommand {
    client.invoke(addr, request, TIMEOUT).await.unwrap()
}

/// Polls `check` every 20 ms until it holds, failing after 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
