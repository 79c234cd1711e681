//! The name server on the wire: unknown codes, broken frames, shutdown.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{addr, invoke, start};
use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rmq_remoting::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn an_unknown_code_is_answered_request_code_not_supported() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let client = Client::default();

    let response = invoke(&client, &addr(&server), RemotingCommand::request(9999)).await;
    assert_eq!(
        response.code,
        i32::from(ResponseCode::RequestCodeNotSupported)
    );
    assert_eq!(
        response.remark.as_deref(),
        Some(" request type 9999 not supported")
    );

    server.shutdown().await;
}

#[tokio::test]
async fn a_malformed_frame_closes_its_connection_while_others_keep_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = addr(&server);
    let client = Client::default();
    let cluster_info = || RemotingCommand::request(RequestCode::GetBrokerClusterInfo);
    assert_eq!(
        invoke(&client, &addr, cluster_info()).await.code,
        i32::from(ResponseCode::Success)
    );

    // length 8, JSON header claiming 100 bytes: the header cannot fit the frame.
    let mut raw = TcpStream::connect(&addr).await.unwrap();
    raw.write_all(&[0, 0, 0, 8, 0, 0, 0, 100, b'{', b'}', 0, 0])
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(common::TIMEOUT, raw.read(&mut buf))
        .await
        .expect("the server kept the broken connection open");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected the connection closed, read {read:?}"
    );

    assert_eq!(
        invoke(&client, &addr, cluster_info()).await.code,
        i32::from(ResponseCode::Success)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_listening_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = server.local_addr();
    let client = Client::default();
    invoke(
        &client,
        &addr.to_string(),
        RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
    )
    .await;

    tokio::time::timeout(Duration::from_secs(15), server.shutdown())
        .await
        .expect("shutdown did not finish");
    assert!(TcpStream::connect(addr).await.is_err());
}
