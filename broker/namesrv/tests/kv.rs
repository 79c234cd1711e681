//! The KV config store over the wire, and across a restart.
#![allow(clippy::unwrap_used)]

mod common;

use common::{addr, invoke, start};
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::command::kv_config::{
    DeleteKvConfigRequestHeader, GetKvConfigRequestHeader, GetKvConfigResponseHeader,
    GetKvListByNamespaceRequestHeader, PutKvConfigRequestHeader,
};
use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rmq_remoting::Client;

fn put(namespace: &str, key: &str, value: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::PutKvConfig,
        &PutKvConfigRequestHeader {
            namespace: namespace.into(),
            key: key.into(),
            value: value.into(),
        },
    )
}

fn get(namespace: &str, key: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::GetKvConfig,
        &GetKvConfigRequestHeader {
            namespace: namespace.into(),
            key: key.into(),
        },
    )
}

fn delete(namespace: &str, key: &str) -> RemotingCommand {
    RemotingCommand::request_with_header(
        RequestCode::DeleteKvConfig,
        &DeleteKvConfigRequestHeader {
            namespace: namespace.into(),
            key: key.into(),
        },
    )
}

fn value_of(response: &RemotingCommand) -> Option<String> {
    assert_eq!(response.code, i32::from(ResponseCode::Success));
    response
        .decode_header::<GetKvConfigResponseHeader>()
        .unwrap()
        .value
}

#[tokio::test]
async fn put_get_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = addr(&server);
    let client = Client::default();

    let response = invoke(&client, &addr, put("ns", "k", "v")).await;
    assert_eq!(response.code, i32::from(ResponseCode::Success));
    let response = invoke(&client, &addr, get("ns", "k")).await;
    assert_eq!(value_of(&response).as_deref(), Some("v"));

    let list = RemotingCommand::request_with_header(
        RequestCode::GetKvlistByNamespace,
        &GetKvListByNamespaceRequestHeader {
            namespace: "ns".into(),
        },
    );
    let response = invoke(&client, &addr, list).await;
    let table: KvTable = rmq_protocol::body::decode("KVTable", &response.body).unwrap();
    assert_eq!(table.table.get("k").map(String::as_str), Some("v"));

    let response = invoke(&client, &addr, delete("ns", "k")).await;
    assert_eq!(response.code, i32::from(ResponseCode::Success));
    let response = invoke(&client, &addr, get("ns", "k")).await;
    assert_eq!(response.code, i32::from(ResponseCode::QueryNotFound));

    server.shutdown().await;
}

#[tokio::test]
async fn kv_config_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = Client::default();
    let first = addr(&server);
    invoke(
        &client,
        &first,
        put("ORDER_TOPIC_CONFIG", "T", "broker-a:4"),
    )
    .await;
    invoke(&client, &first, put("ns", "gone", "x")).await;
    invoke(&client, &first, delete("ns", "gone")).await;
    server.shutdown().await;
    let on_disk = std::fs::read_to_string(dir.path().join("kvConfig.json")).unwrap();
    assert!(
        on_disk.contains(r#""ORDER_TOPIC_CONFIG":{"T":"broker-a:4"}"#),
        "{on_disk}"
    );

    let server = start(dir.path()).await;
    let second = addr(&server);
    let response = invoke(&client, &second, get("ORDER_TOPIC_CONFIG", "T")).await;
    assert_eq!(value_of(&response).as_deref(), Some("broker-a:4"));
    let response = invoke(&client, &second, get("ns", "gone")).await;
    assert_eq!(response.code, i32::from(ResponseCode::QueryNotFound));
    server.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_kv_file_stops_the_start_instead_of_being_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kvConfig.json"), "{broken").unwrap();
    let error = rmq_namesrv::start(common::config(dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(error, rmq_namesrv::StartError::LoadKvConfig(_)));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("kvConfig.json")).unwrap(),
        "{broken"
    );
}
