#![allow(clippy::unwrap_used)]
//! A broker that starts before its name server registers within seconds of the name server
//! coming up, not a whole `registerNameServerPeriod` (30 s) later.

use std::time::{Duration, Instant};

use rmq_broker::BrokerConfig;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::RequestCode;
use rmq_remoting::Client;

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
