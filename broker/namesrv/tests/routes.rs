//! Brokers register over TCP and clients read routes back, through the real transport.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{addr, eventually, invoke, register_request, route_request, start};
use rmq_protocol::body::route::{ClusterInfo, TopicRouteData};
use rmq_protocol::command::register_broker::RegisterBrokerResponseHeader;
use rmq_protocol::language::version;
use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rmq_remoting::Client;

#[tokio::test]
async fn a_registered_topic_route_has_bare_broker_ids_like_apache_for_old_clients() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = addr(&server);
    let client = Client::default();

    let response = invoke(
        &client,
        &addr,
        register_request("broker-a", "127.0.0.1:10911", 0, &["TopicTest"]),
    )
    .await;
    assert_eq!(response.code, i32::from(ResponseCode::Success));

    // The C++ clients send version 63 (and ali-ons an old one too).
    let response = invoke(&client, &addr, route_request("TopicTest", 63)).await;
    assert_eq!(response.code, i32::from(ResponseCode::Success));
    assert!(response.ext_fields.is_empty());
    assert_eq!(response.remark, None);
    let text = String::from_utf8(response.body.to_vec()).unwrap();
    assert!(text.contains(r#"{0:""#), "{text}");
    assert!(
        text.contains(r#""brokerAddrs":{0:"127.0.0.1:10911"}"#),
        "{text}"
    );
    let route = TopicRouteData::decode(&response.body).unwrap();
    assert_eq!(route.queue_datas.len(), 1);
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);

    // Clients from 4.9.4 on get the standard form, as from Apache.
    let response = invoke(&client, &addr, route_request("TopicTest", version::V4_9_4)).await;
    let text = String::from_utf8(response.body.to_vec()).unwrap();
    assert!(
        text.contains(r#""brokerAddrs":{"0":"127.0.0.1:10911"}"#),
        "{text}"
    );

    server.shutdown().await;
}

#[tokio::test]
async fn producers_find_the_default_topic_route_registered_by_an_auto_create_broker() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = addr(&server);
    let client = Client::default();

    let response = invoke(&client, &addr, route_request("TBW102", 63)).await;
    assert_eq!(response.code, i32::from(ResponseCode::TopicNotExist));
    assert!(
        response
            .remark
            .unwrap()
            .starts_with("No topic route info in name server for the topic: TBW102")
    );

    invoke(
        &client,
        &addr,
        register_request("broker-a", "127.0.0.1:10911", 0, &["TBW102"]),
    )
    .await;
    let response = invoke(&client, &addr, route_request("TBW102", 63)).await;
    assert_eq!(response.code, i32::from(ResponseCode::Success));
    let route = TopicRouteData::decode(&response.body).unwrap();
    assert_eq!(route.queue_datas[0].perm, 7);
    assert_eq!(route.queue_datas[0].write_queue_nums, 8);
    assert_eq!(route.broker_datas[0].master_addr(), Some("127.0.0.1:10911"));

    server.shutdown().await;
}

#[tokio::test]
async fn a_slave_learns_its_master_and_cluster_info_lists_both() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = addr(&server);
    let client = Client::default();

    invoke(
        &client,
        &addr,
        register_request("broker-a", "127.0.0.1:10911", 0, &["T"]),
    )
    .await;
    let response = invoke(
        &client,
        &addr,
        register_request("broker-a", "127.0.0.1:20911", 1, &["T"]),
    )
    .await;
    let header: RegisterBrokerResponseHeader = response.decode_header().unwrap();
    assert_eq!(header.master_addr.as_deref(), Some("127.0.0.1:10911"));
    assert_eq!(header.ha_server_addr.as_deref(), Some("127.0.0.1:10911-ha"));

    let response = invoke(
        &client,
        &addr,
        RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
    )
    .await;
    let info = ClusterInfo::decode(&response.body).unwrap();
    assert_eq!(info.broker_addr_table["broker-a"].broker_addrs.len(), 2);

    server.shutdown().await;
}

#[tokio::test]
async fn closing_the_broker_connection_removes_its_routes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = addr(&server);
    let broker = Client::default();
    let client = Client::default();

    invoke(
        &broker,
        &addr,
        register_request("broker-a", "127.0.0.1:10911", 0, &["T"]),
    )
    .await;
    let response = invoke(&client, &addr, route_request("T", 63)).await;
    assert_eq!(response.code, i32::from(ResponseCode::Success));

    broker.close(&addr);
    eventually("the route of T is gone", || async {
        let response = invoke(&client, &addr, route_request("T", 63)).await;
        response.code == i32::from(ResponseCode::TopicNotExist)
    })
    .await;

    server.shutdown().await;
}

#[tokio::test]
async fn a_silent_broker_expires_after_its_timeout_and_its_connection_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.broker_channel_expired_time = Duration::from_millis(1500);
    config.scan_not_active_broker_interval = Duration::from_millis(50);
    let server = rmq_namesrv::start(config).await.unwrap();
    let addr = addr(&server);
    let client = Client::default();

    // The broker registers over a raw socket, answers nothing after, and keeps it open.
    let mut broker = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut frame = bytes::BytesMut::new();
    rmq_protocol::frame::encode(
        &register_request("broker-a", "127.0.0.1:10911", 0, &["T"]),
        &mut frame,
    )
    .unwrap();
    let registered = tokio::time::Instant::now();
    broker.write_all(&frame).await.unwrap();
    eventually("the broker is registered", || async {
        let response = invoke(&client, &addr, route_request("T", 63)).await;
        response.code == i32::from(ResponseCode::Success)
    })
    .await;

    eventually("the silent broker expired", || async {
        let response = invoke(&client, &addr, route_request("T", 63)).await;
        response.code == i32::from(ResponseCode::TopicNotExist)
    })
    .await;
    assert!(
        registered.elapsed() > Duration::from_millis(1500),
        "expired before its timeout"
    );
    // The name server closed the broker's connection: after the registration's answer, EOF.
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), broker.read_to_end(&mut seen)).await;
    assert!(matches!(read, Ok(Ok(_))), "{read:?}");
    assert!(!seen.is_empty(), "the registration was answered first");

    server.shutdown().await;
}
