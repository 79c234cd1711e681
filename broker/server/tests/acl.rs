#![allow(clippy::unwrap_used)]
//! ACL over real sockets with the broker in-process (`aclEnable=true`, `rocketmqHome` holding
//! `conf/plain_acl.yml`): signed requests pass as their account allows, forged, unsigned and
//! forbidden ones get Apache 4.9.7's answer, white-listed addresses need no signature, and a
//! change of the file applies without a restart.

use std::path::Path;
use std::time::Duration;

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_remoting::Client;

mod support;

const T: Duration = Duration::from_secs(10);

const RULES: &str = "\
accounts:
  - accessKey: producer1
    secretKey: producer-secret
    defaultTopicPerm: DENY
    topicPerms: [Orders=PUB]
  - accessKey: reader01
    secretKey: reader-secret
    defaultTopicPerm: SUB
    defaultGroupPerm: SUB
  - accessKey: admin001
    secretKey: admin-secret
    admin: true
";

async fn broker(home: &Path, store: &Path) -> RunningBroker {
    let text = format!(
        "brokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         storePathRootDir={}\nmappedFileSizeCommitLog=4194304\naclEnable=true\nrocketmqHome={}\n",
        store.display(),
        home.display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

fn write_rules(home: &Path, text: &str) {
    std::fs::create_dir_all(home.join("conf")).unwrap();
    std::fs::write(home.join("conf/plain_acl.yml"), text).unwrap();
}

fn send(topic: &str, key: &str, secret: &str) -> RemotingCommand {
    let mut request = support::send_keyed(topic, "body");
    rmq_protocol::acl::sign(&mut request, key, secret);
    request
}

fn create_topic(key: &str, secret: &str) -> RemotingCommand {
    let mut request = support::create_topic("Made");
    rmq_protocol::acl::sign(&mut request, key, secret);
    request
}

fn refused_with(answer: &RemotingCommand, reason: &str) {
    assert_eq!(answer.code, ResponseCode::SystemError as i32, "{answer:?}");
    assert_eq!(
        answer.remark.as_deref(),
        Some(format!("org.apache.rocketmq.acl.common.AclException: {reason}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_get_what_their_permissions_say_and_nothing_else() {
    let (home, store) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_rules(home.path(), RULES);
    let running = broker(home.path(), store.path()).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    let ask = |request: RemotingCommand| {
        let (client, addr) = (client.clone(), addr.clone());
        async move { client.invoke(&addr, request, T).await.unwrap() }
    };

    let ok = ask(send("Orders", "producer1", "producer-secret")).await;
    assert_eq!(ok.code, ResponseCode::Success as i32, "{ok:?}");
    refused_with(
        &ask(send("Orders", "producer1", "not-the-secret")).await,
        "Check signature failed for accessKey=producer1",
    );
    refused_with(
        &ask(send("Payments", "producer1", "producer-secret")).await,
        "No default permission for topic:Payments",
    );
    refused_with(
        &ask(send("Orders", "reader01", "reader-secret")).await,
        "No default permission for topic:Orders",
    );
    refused_with(
        &ask(send("Orders", "stranger", "whatever1")).await,
        "No acl config for stranger",
    );
    refused_with(
        &ask(support::send_keyed("Orders", "unsigned")).await,
        "No accessKey is configured",
    );
    refused_with(
        &ask(create_topic("producer1", "producer-secret")).await,
        "Need admin permission for request code=17, but accessKey=producer1 is not",
    );
    let made = ask(create_topic("admin001", "admin-secret")).await;
    assert_eq!(made.code, ResponseCode::Success as i32, "{made:?}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_white_listed_address_needs_no_signature_and_a_changed_file_applies_without_restart() {
    let (home, store) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_rules(home.path(), RULES);
    let running = broker(home.path(), store.path()).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    let unsigned = client
        .invoke(&addr, support::send_keyed("Orders", "unsigned"), T)
        .await
        .unwrap();
    refused_with(&unsigned, "No accessKey is configured");

    // The rules are swapped for ones that white-list this address; a bad version in between
    // is refused and the rules before it stay.
    write_rules(home.path(), "accounts: [");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = client
        .invoke(&addr, send("Orders", "producer1", "producer-secret"), T)
        .await
        .unwrap();
    assert_eq!(still.code, ResponseCode::Success as i32, "{still:?}");
    write_rules(
        home.path(),
        &format!("globalWhiteRemoteAddresses: [127.0.0.1]\n{RULES}"),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let answer = client
            .invoke(&addr, support::send_keyed("Orders", "unsigned"), T)
            .await
            .unwrap();
        if answer.code == ResponseCode::Success as i32 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running.shutdown().await;
}

#[tokio::test]
async fn acl_on_without_a_file_stops_the_start_naming_it() {
    let (home, store) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let text = format!(
        "brokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\nstorePathRootDir={}\n\
         aclEnable=true\nrocketmqHome={}\n",
        store.path().display(),
        home.path().display()
    );
    let error = rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap_err();
    let text = rmq_protocol::error_remark(&error);
    assert!(text.contains("conf/plain_acl.yml"), "{text}");
}
