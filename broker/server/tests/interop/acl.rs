//! ACL with the independent clients: the C++ client (PyPI `rocketmq`) and ali-ons sign their
//! requests with an account's keys (both send and sign `OnsChannel` too); the broker lets them
//! do what the account allows and refuses a wrong secret and a topic the account may not write.

use rmq_protocol::code::ResponseCode;

use super::harness::{Cluster, finish, finish_any};
use super::support;

const RULES: &str = "\
accounts:
  - accessKey: writer01
    secretKey: writer-secret
    defaultTopicPerm: DENY
    topicPerms: [Secured=PUB]
  - accessKey: reader01
    secretKey: reader-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms: [Secured=SUB, '%RETRY%readers=SUB']
    groupPerms: [readers=SUB]
  - accessKey: admin001
    secretKey: admin-secret
    admin: true
";

fn acl_cluster(home: &std::path::Path) -> Cluster {
    std::fs::create_dir_all(home.join("conf")).unwrap();
    std::fs::write(home.join("conf/plain_acl.yml"), RULES).unwrap();
    Cluster::start(&format!(
        "aclEnable=true\nrocketmqHome={}\n",
        home.display()
    ))
}

/// The topic, created by the admin account (ali-ons does not create topics).
fn create_secured(cluster: &Cluster) {
    let mut create = support::create_topic("Secured");
    rmq_protocol::acl::sign(&mut create, "admin001", "admin-secret");
    let answer = cluster.request(&cluster.broker_addr, create).unwrap();
    assert_eq!(answer.code, ResponseCode::Success as i32, "{answer:?}");
}

#[test]
fn rmqctl_signs_with_the_account_it_is_given_and_is_refused_without_one() {
    let home = tempfile::tempdir().unwrap();
    let cluster = acl_cluster(home.path());
    let create = |keys: &[&str]| {
        let mut args = keys.to_vec();
        args.extend(["updateTopic", "-b", &cluster.broker_addr, "-t", "ByTool"]);
        cluster.rmqctl(&args)
    };
    let refused = create(&[]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("No accessKey is configured"), "{said}");
    let not_admin = create(&["--access-key", "writer01", "--secret-key", "writer-secret"]);
    assert!(!not_admin.status.success());
    let said = String::from_utf8_lossy(&not_admin.stderr);
    assert!(said.contains("Need admin permission"), "{said}");
    let made = create(&["--access-key", "admin001", "--secret-key", "admin-secret"]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

#[test]
fn signed_cpp_and_ali_ons_clients_get_their_accounts_permissions_and_nothing_more() {
    let home = tempfile::tempdir().unwrap();
    let cluster = acl_cluster(home.path());
    create_secured(&cluster);

    let produced = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Secured",
            "--group",
            "pg",
            "--count",
            "20",
            "--access-key",
            "writer01",
            "--secret-key",
            "writer-secret",
        ],
    );
    assert_eq!(produced["sent"], 20, "{produced}");

    // The same client with a wrong secret, and with a topic the account may not write.
    for (topic, secret) in [
        ("Secured", "not-the-secret"),
        ("Elsewhere", "writer-secret"),
    ] {
        let child = cluster.spawn_client(
            "cpp_produce.py",
            &[
                "--topic",
                topic,
                "--group",
                "pg2",
                "--count",
                "1",
                "--timeout-s",
                "40",
                "--access-key",
                "writer01",
                "--secret-key",
                secret,
            ],
        );
        let (refused, ok) = finish_any("cpp_produce.py", child);
        assert!(!ok, "{topic}/{secret}: {refused}");
        assert_eq!(refused["sent"], 0, "{refused}");
    }
    let log = cluster.broker_log();
    assert!(
        log.contains("Check signature failed for accessKey=writer01")
            && log.contains("No default permission for topic:Elsewhere"),
        "the broker says why it refused"
    );

    // ali-ons consumes with the reader account; it may read, not write.
    let consumer = cluster.spawn_client(
        "ons_consume.js",
        &[
            "--topic",
            "Secured",
            "--group",
            "readers",
            "--expect",
            "20",
            "--timeout-s",
            "60",
            "--access-key",
            "reader01",
            "--secret-key",
            "reader-secret",
        ],
    );
    let consumed = finish("ons_consume.js", consumer);
    assert_eq!(consumed["distinct"], 20, "{}", consumed["distinct"]);
    let child = cluster.spawn_client(
        "ons_produce.js",
        &[
            "--topic",
            "Secured",
            "--group",
            "pg3",
            "--count",
            "1",
            "--access-key",
            "reader01",
            "--secret-key",
            "reader-secret",
        ],
    );
    let (refused, ok) = finish_any("ons_produce.js", child);
    assert!(!ok, "{refused}");
    // ali-ons reports only that the send failed; the broker's log says why.
    assert!(
        cluster
            .broker_log()
            .contains("No default permission for topic:Secured"),
        "{refused}"
    );
}
