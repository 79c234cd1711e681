#![allow(clippy::unwrap_used)]
//! A broker that starts before its name server registers within seconds of the name server
//! coming up, not a whole `registerNameServerPeriod` (30 s) later; its `/readyz` says so, and a
//! slave's follows its replication.

use std::time::{Duration, Instant};

use rmq_broker::BrokerConfig;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::RequestCode;
use rmq_remoting::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "common/ports.rs"]
mod ports;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_started_before_its_name_server_is_routable_within_seconds_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let ns_port = ports::free_port();
    let text = format!(
        "brokerName=early-bird\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         namesrvAddr=127.0.0.1:{ns_port}\nstorePathRootDir={}\nmappedFileSizeCommitLog=1048576\n",
        dir.path().join("store").display()
    );
    let broker = rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap();
    // Two rounds go unheard (at 0 s and 1 s) before the name server comes up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ns_conf = format!(
        "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
        dir.path().join("kv.json").display()
    );
    let namesrv =
        rmq_namesrv::start(rmq_namesrv::NamesrvConfig::from_properties_text(&ns_conf).unwrap())
            .await
            .unwrap();
    let up = Instant::now();
    let client = Client::default();
    loop {
        let info = client
            .invoke(
                &namesrv.local_addr().to_string(),
                RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        if String::from_utf8_lossy(&info.body).contains("early-bird") {
            break;
        }
        assert!(
            up.elapsed() < Duration::from_secs(8),
            "not registered 8 s after the name server came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broker.shutdown().await;
    namesrv.shutdown().await;
}

/// `GET path` on `port`: status line and body.
async fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: probe\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

async fn until_ready(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(port, "/readyz").await;
        if status.contains("200") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never ready: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_waits_for_a_name_server_and_a_slaves_follows_its_replication() {
    let dir = tempfile::tempdir().unwrap();
    let (ns_port, master_health, slave_health) =
        (ports::free_port(), ports::free_port(), ports::free_port());
    let conf = |name: &str, health: u16, extra: &str| {
        format!(
            "brokerName=probed\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
             namesrvAddr=127.0.0.1:{ns_port}\nstorePathRootDir={}\nmappedFileSizeCommitLog=1048576\n\
             healthListenPort={health}\nhaHousekeepingInterval=2000\nhaSendHeartbeatInterval=500\n{extra}",
            dir.path().join(name).display()
        )
    };
    let master = rmq_broker::start(
        BrokerConfig::from_properties(&conf("master", master_health, "brokerRole=SYNC_MASTER\n"))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(master.health_addr().map(|a| a.port()), Some(master_health));
    let (status, _) = get(master_health, "/livez").await;
    assert!(status.contains("200"), "{status}");
    let (status, body) = get(master_health, "/readyz").await;
    assert!(
        status.contains("503") && body.contains("registration"),
        "{status} {body}"
    );
    assert!(get(master_health, "/nothing").await.0.contains("404"));

    let ns_conf = format!(
        "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
        dir.path().join("kv.json").display()
    );
    let namesrv =
        rmq_namesrv::start(rmq_namesrv::NamesrvConfig::from_properties_text(&ns_conf).unwrap())
            .await
            .unwrap();
    until_ready(master_health, "the master").await;

    let ha_port = master.broker().config.ha_listen_port;
    let slave = rmq_broker::start(
        BrokerConfig::from_properties(&conf(
            "slave",
            slave_health,
            &format!("brokerRole=SLAVE\nbrokerId=1\nhaMasterAddress=127.0.0.1:{ha_port}\n"),
        ))
        .unwrap(),
    )
    .await
    .unwrap();
    until_ready(slave_health, "the slave").await;

    // The master goes: the slave stops being ready and says why.
    master.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(slave_health, "/readyz").await;
        if status.contains("503") {
            assert!(body.contains("slave:"), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slave stayed ready without its master"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    slave.shutdown().await;
    namesrv.shutdown().await;
}
