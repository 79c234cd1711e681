//! The name server's `/metrics` endpoint, scraped over HTTP while brokers register and clients
//! read routes through the real transport.
#![allow(clippy::unwrap_used)]

mod common;

use common::{addr, invoke, register_request, route_request};
use rmq_protocol::ResponseCode;
use rmq_remoting::Client;
use rmq_remoting::prometheus::Exporter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    tokio::time::timeout(common::TIMEOUT, stream.read_to_string(&mut reply))
        .await
        .unwrap()
        .unwrap();
    reply
}

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
}

#[tokio::test]
async fn registrations_and_route_lookups_show_in_the_scrape_by_code_and_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.metrics_exporter = Exporter::Prom;
    config.metrics_prom_port = 0;
    let server = rmq_namesrv::start(config).await.unwrap();
    let metrics = server.metrics_addr().expect("PROM serves an endpoint");
    let (addr, client) = (addr(&server), Client::default());

    for (name, id) in [("broker-a", 0), ("broker-a", 1), ("broker-b", 0)] {
        let broker_addr = format!("127.0.0.1:{}", 10911 + id + 100 * name.len() as i64);
        let response = invoke(
            &client,
            &addr,
            register_request(name, &broker_addr, id, &["T1", "T2"]),
        )
        .await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
    }
    for topic in ["T1", "T1", "missing"] {
        invoke(&client, &addr, route_request(topic, 63)).await;
    }

    let reply = get(metrics, "/metrics").await;
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    let node = format!("node_type=\"nameserver\",node_id=\"{addr}\"");
    let rpc = |code: u16, result: u16| {
        format!(
            "rocketmq_rpc_latency_count{{{node},protocol_type=\"remoting\",request_code=\"{code}\",response_code=\"{result}\"}}"
        )
    };
    assert_eq!(sample(&reply, &rpc(103, 0)), Some(3.0), "{reply}");
    assert_eq!(sample(&reply, &rpc(105, 0)), Some(2.0), "{reply}");
    assert_eq!(sample(&reply, &rpc(105, 17)), Some(1.0), "{reply}");
    let cluster = format!("{{{node},cluster=\"DefaultCluster\"}}");
    assert_eq!(
        sample(&reply, &format!("rocketmq_namesrv_broker_groups{cluster}")),
        Some(2.0)
    );
    assert_eq!(
        sample(&reply, &format!("rocketmq_namesrv_brokers{cluster}")),
        Some(3.0)
    );
    assert_eq!(
        sample(&reply, &format!("rocketmq_namesrv_topics{{{node}}}")),
        Some(2.0)
    );

    let other = get(metrics, "/").await;
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");
    server.shutdown().await;
}

#[tokio::test]
async fn without_prom_the_name_server_opens_no_metrics_port() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start(dir.path()).await;
    assert_eq!(server.metrics_addr(), None);
    server.shutdown().await;
}
