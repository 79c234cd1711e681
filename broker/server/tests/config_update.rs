#![allow(clippy::unwrap_used)]
//! UPDATE_BROKER_CONFIG over real sockets with the broker in-process: runtime keys take effect
//! at once, show in GET_BROKER_CONFIG and are written back to the config file; other keys and
//! bad values are refused by name, changing nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::properties;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::pull_message::sys_flag;
use rmq_remoting::Client;

mod support;

const T: Duration = Duration::from_secs(30);

/// A broker started from `dir/broker.conf`, as the binary starts from `-c`.
async fn broker(dir: &Path, config_file: Option<PathBuf>) -> RunningBroker {
    let text = format!(
        "# written by the test\nbrokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\n\
         fastListenEnable=false\nstorePathRootDir={}\nmappedFileSizeCommitLog=4194304\n",
        dir.join("store").display()
    );
    std::fs::write(dir.join("broker.conf"), &text).unwrap();
    let mut config = BrokerConfig::from_properties(&text).unwrap();
    config.config_file = config_file;
    rmq_broker::start(config).await.unwrap()
}

async fn update(client: &Client, addr: &str, body: &str) -> RemotingCommand {
    let request =
        RemotingCommand::request(RequestCode::UpdateBrokerConfig).with_body(body.to_owned());
    client.invoke(addr, request, T).await.unwrap()
}

async fn shown(client: &Client, addr: &str) -> Vec<(String, String)> {
    let answer = client
        .invoke(
            addr,
            RemotingCommand::request(RequestCode::GetBrokerConfig),
            T,
        )
        .await
        .unwrap();
    assert_eq!(answer.code, ResponseCode::Success as i32);
    properties::parse(&String::from_utf8_lossy(&answer.body))
}

fn value<'a>(shown: &'a [(String, String)], key: &str) -> Option<&'a str> {
    shown
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_keys_take_effect_at_once_show_in_the_config_and_are_written_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broker.conf");
    let running = broker(dir.path(), Some(file.clone())).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    let created = client
        .invoke(&addr, support::send_keyed("Quiet", "first"), T)
        .await
        .unwrap();
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");

    let answer = update(
        &client,
        &addr,
        "longPollingEnable=false\nshortPollingTimeMills=100\nfileReservedTime=1\ndeleteWhen=01;13\n\
         maxMessageSize=16\ntransactionCheckInterval=2000\n",
    )
    .await;
    assert_eq!(answer.code, ResponseCode::Success as i32, "{answer:?}");
    assert_eq!(answer.remark, None);

    // A pull that asks to be held 20 s at the end of the queue comes back after the short
    // polling time: long polling is off now.
    let mut header = support::pull_header("g", "Quiet", 0, 1);
    header.sys_flag |= sys_flag::SUSPEND;
    header.suspend_timeout_millis = 20_000;
    let started = Instant::now();
    let pulled = client
        .invoke(&addr, support::pull_request(&header), T)
        .await
        .unwrap();
    assert_eq!(pulled.code, ResponseCode::PullNotFound as i32, "{pulled:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // A body over the new maxMessageSize is refused; one within it is stored.
    let big = client
        .invoke(&addr, support::send_keyed("Quiet", "seventeen bytes!!"), T)
        .await
        .unwrap();
    assert_eq!(big.code, ResponseCode::MessageIllegal as i32, "{big:?}");
    let small = client
        .invoke(&addr, support::send_keyed("Quiet", "sixteen bytes!!!"), T)
        .await
        .unwrap();
    assert_eq!(small.code, ResponseCode::Success as i32, "{small:?}");

    let now = shown(&client, &addr).await;
    assert_eq!(value(&now, "maxMessageSize"), Some("16"));
    assert_eq!(value(&now, "transactionCheckInterval"), Some("2000"));
    assert_eq!(value(&now, "longPollingEnable"), Some("false"));
    assert_eq!(value(&now, "shortPollingTimeMills"), Some("100"));
    assert_eq!(value(&now, "fileReservedTime"), Some("1"));
    assert_eq!(value(&now, "deleteWhen"), Some("01;13"));
    let retention = running.broker().store.retention();
    assert_eq!(retention.file_reserved_time_hours, 1);
    assert_eq!(retention.delete_when, "01;13");

    // Written back beside what the file held: a restart starts with the change.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# written by the test\nbrokerName=broker-a\n"),
        "{text}"
    );
    let written = properties::parse(&text);
    assert_eq!(value(&written, "fileReservedTime"), Some("1"));
    assert_eq!(value(&written, "longPollingEnable"), Some("false"));
    let reread = BrokerConfig::from_properties(&text).unwrap();
    assert_eq!(reread.store.file_reserved_time_hours, 1);
    assert!(!reread.long_polling_enable);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_read_only_at_start_and_bad_values_are_refused_by_name_changing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broker.conf");
    let running = broker(dir.path(), Some(file.clone())).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    let before = std::fs::read_to_string(&file).unwrap();

    let refused = update(
        &client,
        &addr,
        "fileReservedTime=5\nlistenPort=1\nflushDiskType=SYNC_FLUSH\n",
    )
    .await;
    assert_eq!(refused.code, ResponseCode::SystemError as i32);
    let remark = refused.remark.unwrap_or_default();
    assert!(
        remark.contains("listenPort") && remark.contains("flushDiskType"),
        "{remark}"
    );
    assert!(
        !remark.contains("\"fileReservedTime\", \"listenPort"),
        "{remark}"
    );

    let bad = update(
        &client,
        &addr,
        "fileReservedTime=5\nlongPollingEnable=maybe\n",
    )
    .await;
    assert_eq!(bad.code, ResponseCode::SystemError as i32);
    assert!(bad.remark.unwrap_or_default().contains("longPollingEnable"));

    let now = shown(&client, &addr).await;
    assert_eq!(value(&now, "fileReservedTime"), Some("72"));
    assert_eq!(value(&now, "longPollingEnable"), Some("true"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_that_cannot_be_rewritten_leaves_the_change_in_force_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone/broker.conf");
    let running = broker(dir.path(), Some(missing.clone())).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());

    let answer = update(&client, &addr, "brokerPermission=4\n").await;
    assert_eq!(answer.code, ResponseCode::Success as i32);
    let remark = answer.remark.unwrap_or_default();
    assert!(
        remark.contains("not written") && remark.contains(&missing.display().to_string()),
        "{remark}"
    );
    assert_eq!(
        value(&shown(&client, &addr).await, "brokerPermission"),
        Some("4")
    );
    running.shutdown().await;
}
