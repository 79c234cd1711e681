#![allow(clippy::unwrap_used)]
//! Master and slave brokers in one process over real sockets (the slave finds its master through
//! `haMasterAddress`, no name server): SYNC_MASTER answers, the slave refusing sends and serving
//! pulls, byte-identical commit logs, and the replication figures of GET_BROKER_RUNTIME_INFO.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_remoting::Client;

mod support;
use support::{pull_header, pull_request, send_keyed};

const T: Duration = Duration::from_secs(10);
const FILE_SIZE: usize = 1024 * 1024;

async fn start(dir: &Path, extra: &str) -> RunningBroker {
    let text = format!(
        "listenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\nstorePathRootDir={}\n\
         mappedFileSizeCommitLog={FILE_SIZE}\nmaxMessageSize=65536\n\
         cleanResourceInterval=3600000\n{extra}",
        dir.display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

async fn master(dir: &Path, role: &str) -> RunningBroker {
    start(
        &dir.join("master"),
        &format!("brokerRole={role}\nflushDiskType=SYNC_FLUSH\nslaveTimeout=1000\n"),
    )
    .await
}

async fn slave(dir: &Path, master: &RunningBroker) -> RunningBroker {
    let ha_port = master.broker().config.ha_listen_port;
    start(
        &dir.join("slave"),
        &format!("brokerRole=SLAVE\nbrokerId=1\nhaMasterAddress=127.0.0.1:{ha_port}\n"),
    )
    .await
}

async fn runtime_info(client: &Client, broker: &RunningBroker) -> BTreeMap<String, String> {
    let response = client
        .invoke(
            &broker.local_addr().to_string(),
            RemotingCommand::request(RequestCode::GetBrokerRuntimeInfo),
            T,
        )
        .await
        .unwrap();
    serde_json::from_slice::<KvTable>(&response.body)
        .unwrap()
        .table
}

/// Waits until the slave confirmed everything the master has.
async fn caught_up(client: &Client, master: &RunningBroker) {
    let deadline = Instant::now() + T;
    loop {
        let info = runtime_info(client, master).await;
        if info["haReplicationLagBytes"] == "0" {
            return;
        }
        assert!(Instant::now() < deadline, "slave never caught up: {info:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn commit_log(root: &Path) -> Vec<u8> {
    let mut files: Vec<_> = std::fs::read_dir(root.join("commitlog"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_master_answers_success_once_the_slave_confirmed_and_the_logs_match() {
    let dir = tempfile::tempdir().unwrap();
    let master = master(dir.path(), "SYNC_MASTER").await;
    let addr = master.local_addr().to_string();
    let client = Client::default();
    // No slave yet: stored, but the producer hears SLAVE_NOT_AVAILABLE at once.
    let started = Instant::now();
    let alone = client
        .invoke(&addr, send_keyed("Ha", "m-alone"), T)
        .await
        .unwrap();
    assert_eq!(
        alone.code,
        ResponseCode::SlaveNotAvailable as i32,
        "{alone:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(500));

    let slave = slave(dir.path(), &master).await;
    caught_up(&client, &master).await;
    for i in 0..300 {
        let body = format!("m-{i}-{}", "x".repeat(i * 13 % 2000));
        let sent = client
            .invoke(&addr, send_keyed("Ha", &body), T)
            .await
            .unwrap();
        assert_eq!(sent.code, ResponseCode::Success as i32, "{i}: {sent:?}");
    }
    let info = runtime_info(&client, &master).await;
    assert_eq!(info["haConnectionCount"], "1");
    assert_eq!(info["haReplicationLagBytes"], "0", "{info:?}");
    assert_eq!(info["haReplicationLagMillis"], "0", "{info:?}");
    assert_eq!(info["haSlaveAckOffset"], info["commitLogMaxOffset"]);
    let slave_info = runtime_info(&client, &slave).await;
    assert_eq!(slave_info["haConnected"], "true", "{slave_info:?}");
    assert_eq!(slave_info["commitLogMaxOffset"], info["commitLogMaxOffset"]);

    // The slave refuses sends with Apache's answer and serves pulls from its own store.
    let slave_addr = slave.local_addr().to_string();
    let refused = client
        .invoke(&slave_addr, send_keyed("Ha", "x"), T)
        .await
        .unwrap();
    assert_eq!(refused.code, ResponseCode::ServiceNotAvailable as i32);
    assert!(
        refused
            .remark
            .unwrap()
            .contains("messages are put to the slave")
    );
    // The topic reaches the slave's table by metadata sync, which needs the master's remoting
    // address from a name server; without one, create it on the slave as an admin would.
    let create = rmq_protocol::command::create_topic::CreateTopicRequestHeader {
        topic: "Ha".into(),
        default_topic: "TBW102".into(),
        read_queue_nums: 4,
        write_queue_nums: 4,
        perm: 6,
        topic_filter_type: rmq_protocol::body::topic_config::TopicFilterType::SingleTag,
        topic_sys_flag: None,
        order: false,
        attributes: None,
        force: None,
    };
    let created = client
        .invoke(
            &slave_addr,
            RemotingCommand::request_with_header(RequestCode::UpdateAndCreateTopic, &create),
            T,
        )
        .await
        .unwrap();
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
    let pulled = client
        .invoke(&slave_addr, pull_request(&pull_header("cg", "Ha", 0, 0)), T)
        .await
        .unwrap();
    assert_eq!(pulled.code, ResponseCode::Success as i32, "{pulled:?}");
    assert!(!pulled.body.is_empty());

    slave.shutdown().await;
    master.shutdown().await;
    let m = commit_log(&dir.path().join("master"));
    let s = commit_log(&dir.path().join("slave"));
    assert_eq!(m.len(), s.len());
    assert!(m == s, "master and slave commit logs differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_slave_makes_sends_answer_promptly_and_a_restarted_one_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let master = master(dir.path(), "SYNC_MASTER").await;
    let addr = master.local_addr().to_string();
    let client = Client::default();
    let slave1 = slave(dir.path(), &master).await;
    caught_up(&client, &master).await;
    for i in 0..20 {
        let sent = client
            .invoke(&addr, send_keyed("Ha", &format!("a-{i}")), T)
            .await
            .unwrap();
        assert_eq!(sent.code, ResponseCode::Success as i32);
    }
    slave1.shutdown().await;
    for i in 0..20 {
        let started = Instant::now();
        let sent = client
            .invoke(&addr, send_keyed("Ha", &format!("b-{i}")), T)
            .await
            .unwrap();
        let code = sent.code;
        assert!(
            code == ResponseCode::SlaveNotAvailable as i32
                || code == ResponseCode::FlushSlaveTimeout as i32,
            "{sent:?}"
        );
        // slaveTimeout is 1 s here; nothing may wait longer.
        assert!(started.elapsed() < Duration::from_millis(1500), "{i}");
    }
    let info = runtime_info(&client, &master).await;
    assert_eq!(info["haConnectionCount"], "0");

    let slave2 = slave(dir.path(), &master).await;
    caught_up(&client, &master).await;
    for i in 0..20 {
        let sent = client
            .invoke(&addr, send_keyed("Ha", &format!("c-{i}")), T)
            .await
            .unwrap();
        assert_eq!(sent.code, ResponseCode::Success as i32);
    }
    let slave_info = runtime_info(&client, &slave2).await;
    let master_info = runtime_info(&client, &master).await;
    assert_eq!(
        slave_info["commitLogMaxOffset"],
        master_info["commitLogMaxOffset"]
    );
    slave2.shutdown().await;
    master.shutdown().await;
    assert!(commit_log(&dir.path().join("master")) == commit_log(&dir.path().join("slave")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_master_answers_without_waiting_and_the_lag_drains_to_zero() {
    let dir = tempfile::tempdir().unwrap();
    let master = master(dir.path(), "ASYNC_MASTER").await;
    let addr = master.local_addr().to_string();
    let client = Client::default();
    let sent = client
        .invoke(&addr, send_keyed("Ha", "alone"), T)
        .await
        .unwrap();
    assert_eq!(sent.code, ResponseCode::Success as i32, "no slave needed");
    let slave = slave(dir.path(), &master).await;
    let burst: Vec<_> = (0..500)
        .map(|i| {
            let client = client.clone();
            let addr = addr.clone();
            tokio::spawn(async move {
                client
                    .invoke(&addr, send_keyed("Ha", &format!("burst-{i}")), T)
                    .await
                    .unwrap()
                    .code
            })
        })
        .collect();
    for sent in burst {
        assert_eq!(sent.await.unwrap(), ResponseCode::Success as i32);
    }
    caught_up(&client, &master).await;
    slave.shutdown().await;
    master.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_all_delay_offset_answers_the_schedulers_live_table() {
    let dir = tempfile::tempdir().unwrap();
    let master = master(dir.path(), "ASYNC_MASTER").await;
    let addr = master.local_addr().to_string();
    let client = Client::default();
    let request = || RemotingCommand::request(RequestCode::GetAllDelayOffset);
    let empty = client.invoke(&addr, request(), T).await.unwrap();
    assert_eq!(empty.code, ResponseCode::Success as i32);
    let text = String::from_utf8_lossy(&empty.body).replace(char::is_whitespace, "");
    assert_eq!(text, "{\"offsetTable\":{}}");
    let offsets = &master.broker().messaging.delay_offsets;
    offsets.set(1, 12);
    offsets.set(3, 7);
    let full = client.invoke(&addr, request(), T).await.unwrap();
    let text = String::from_utf8_lossy(&full.body).replace(char::is_whitespace, "");
    assert_eq!(
        text, "{\"offsetTable\":{1:12,3:7}}",
        "fastjson's bare integer keys"
    );
    master.shutdown().await;
}
