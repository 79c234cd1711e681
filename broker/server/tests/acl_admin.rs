#![allow(clippy::unwrap_used)]
//! The ACL admin codes mqadmin's ACL subcommands send, against a broker in process with
//! `aclEnable=true`: accounts created, changed and deleted take effect at once and survive a
//! restart, the file keeps Apache's shape (with its `dataVersion`), secrets are listed to admin
//! accounts only, and a broker without ACL answers each with its failure code.

use std::path::Path;
use std::time::Duration;

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::acl_config::{
    AclConfigBody, CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use rmq_remoting::Client;

mod support;

const T: Duration = Duration::from_secs(10);

const RULES: &str = "\
# accounts of the test
accounts:
  - accessKey: admin001
    secretKey: admin-secret
    admin: true
  - accessKey: reader01
    secretKey: reader-secret
    defaultTopicPerm: SUB
";

async fn broker(home: &Path, store: &Path, acl: bool) -> RunningBroker {
    let text = format!(
        "brokerName=broker-a\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         storePathRootDir={}\nmappedFileSizeCommitLog=4194304\naclEnable={acl}\nrocketmqHome={}\n",
        store.display(),
        home.display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

fn signed(mut request: RemotingCommand, key: &str, secret: &str) -> RemotingCommand {
    rmq_protocol::acl::sign(&mut request, key, secret);
    request
}

fn as_admin(request: RemotingCommand) -> RemotingCommand {
    signed(request, "admin001", "admin-secret")
}

fn create(access_key: &str, secret: Option<&str>, topic_perms: Option<&str>) -> RemotingCommand {
    RemotingCommand::request(RequestCode::UpdateAndCreateAclConfig).with_header(
        &CreateAccessConfigRequestHeader {
            access_key: access_key.into(),
            secret_key: secret.map(Into::into),
            white_remote_address: None,
            admin: false,
            default_topic_perm: Some("DENY".into()),
            default_group_perm: None,
            topic_perms: topic_perms.map(Into::into),
            group_perms: None,
        },
    )
}

fn delete(access_key: &str) -> RemotingCommand {
    RemotingCommand::request(RequestCode::DeleteAclConfig).with_header(
        &DeleteAccessConfigRequestHeader {
            access_key: access_key.into(),
        },
    )
}

fn send_as(topic: &str, key: &str, secret: &str) -> RemotingCommand {
    signed(support::send_keyed(topic, "body"), key, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_accounts_that_apply_at_once_and_survive_a_restart() {
    let (home, store) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = home.path().join("conf/plain_acl.yml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, RULES).unwrap();
    let running = broker(home.path(), store.path(), true).await;
    let client = Client::default();
    let addr = running.local_addr().to_string();
    let ask = |request: RemotingCommand| {
        let (client, addr) = (client.clone(), addr.clone());
        async move { client.invoke(&addr, request, T).await.unwrap() }
    };
    let made = ask(as_admin(support::create_topic("Orders"))).await;
    assert_eq!(made.code, ResponseCode::Success as i32, "{made:?}");

    // Not an admin: refused (Apache would let any signed account do it).
    let by_reader = ask(signed(
        create("sneaky01", Some("sneaky-secret"), None),
        "reader01",
        "reader-secret",
    ))
    .await;
    assert_eq!(by_reader.code, ResponseCode::SystemError as i32);
    assert!(
        by_reader
            .remark
            .unwrap()
            .contains("Need admin permission for request code=50")
    );

    let created = ask(as_admin(create(
        "writer01",
        Some("writer-secret"),
        Some("Orders=PUB"),
    )))
    .await;
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
    let sent = ask(send_as("Orders", "writer01", "writer-secret")).await;
    assert_eq!(
        sent.code,
        ResponseCode::Success as i32,
        "in force at once: {sent:?}"
    );

    // An update without a secret keeps it; its list replaces the old one.
    let changed = ask(as_admin(create("writer01", None, Some("Payments=PUB")))).await;
    assert_eq!(changed.code, ResponseCode::Success as i32, "{changed:?}");
    let now_denied = ask(send_as("Orders", "writer01", "writer-secret")).await;
    assert_eq!(
        now_denied.code,
        ResponseCode::SystemError as i32,
        "{now_denied:?}"
    );

    // A change that would not load is refused with 209 and the file is untouched.
    let before = std::fs::read_to_string(&file).unwrap();
    let bad = ask(as_admin(create("shortkey", Some("short"), None))).await;
    assert_eq!(bad.code, 209, "{bad:?}");
    assert!(
        !bad.remark.unwrap_or_default().contains("short\""),
        "no secret in the remark"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    let white = RemotingCommand::request(RequestCode::UpdateGlobalWhiteAddrsConfig).with_header(
        &UpdateGlobalWhiteAddrsConfigRequestHeader {
            global_white_addrs: "10.9.9.*,192.168.0.*".into(),
            acl_file_full_path: None,
        },
    );
    assert_eq!(
        ask(as_admin(white)).await.code,
        ResponseCode::Success as i32
    );

    let listed = ask(as_admin(RemotingCommand::request(
        RequestCode::GetBrokerClusterAclConfig,
    )))
    .await;
    let body: AclConfigBody = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(body.global_white_addrs, ["10.9.9.*", "192.168.0.*"]);
    let writer = body
        .plain_access_configs
        .iter()
        .find(|a| a.access_key == "writer01")
        .unwrap();
    assert_eq!(writer.secret_key.as_deref(), Some("writer-secret"));
    assert_eq!(
        writer.topic_perms.as_deref(),
        Some(&["Payments=PUB".to_owned()][..])
    );
    let by_reader = ask(signed(
        RemotingCommand::request(RequestCode::GetBrokerClusterAclConfig),
        "reader01",
        "reader-secret",
    ))
    .await;
    assert!(
        by_reader.body.is_empty(),
        "secrets are not listed to a non-admin"
    );

    let deleted = ask(as_admin(delete("writer01"))).await;
    assert_eq!(deleted.code, ResponseCode::Success as i32);
    let gone = ask(send_as("Payments", "writer01", "writer-secret")).await;
    assert_eq!(
        gone.remark.as_deref(),
        Some("org.apache.rocketmq.acl.common.AclException: No acl config for writer01")
    );
    assert_eq!(ask(as_admin(delete("writer01"))).await.code, 210);

    // Four changes were written (create, update, white list, delete); versions are readable by
    // any signed account.
    let info = ask(signed(
        RemotingCommand::request(RequestCode::GetBrokerClusterAclInfo),
        "reader01",
        "reader-secret",
    ))
    .await;
    assert_eq!(info.code, ResponseCode::Success as i32);
    let version: serde_json::Value =
        serde_json::from_str(info.ext_fields.get("version").unwrap()).unwrap();
    assert_eq!(version["counter"], 4);
    let all = info.ext_fields.get("allAclFileVersion").unwrap();
    assert!(all.contains("plain_acl.yml"), "{all}");
    assert_eq!(info.ext_fields.get("brokerName"), Some("broker-a"));

    running.shutdown().await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("dataVersion:\n- counter: 4\n"), "{text}");
    let again = broker(home.path(), store.path(), true).await;
    let addr = again.local_addr().to_string();
    let listed = client
        .invoke(
            &addr,
            as_admin(RemotingCommand::request(
                RequestCode::GetBrokerClusterAclConfig,
            )),
            T,
        )
        .await
        .unwrap();
    let body: AclConfigBody = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(body.global_white_addrs, ["10.9.9.*", "192.168.0.*"]);
    assert!(
        body.plain_access_configs
            .iter()
            .all(|a| a.access_key != "writer01")
    );
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_without_acl_answers_each_acl_admin_code_with_its_failure() {
    let (home, store) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let running = broker(home.path(), store.path(), false).await;
    let client = Client::default();
    let addr = running.local_addr().to_string();
    let codes = [
        (create("writer01", Some("writer-secret"), None), 209),
        (delete("writer01"), 210),
        (
            RemotingCommand::request(RequestCode::GetBrokerClusterAclConfig),
            1,
        ),
        (
            RemotingCommand::request(RequestCode::GetBrokerClusterAclInfo),
            1,
        ),
    ];
    for (request, code) in codes {
        let answer = client.invoke(&addr, request, T).await.unwrap();
        assert_eq!(answer.code, code, "{answer:?}");
        assert!(answer.remark.unwrap().contains("aclEnable=false"));
    }
    running.shutdown().await;
}
