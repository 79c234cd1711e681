#![allow(clippy::unwrap_used)]
//! Wire compatibility with clients written outside this project: the Apache C++ client (through
//! PyPI `rocketmq==0.4.4`) and Alibaba's `ali-ons` (npm), against `rmq-namesrv` and `rmq-broker`
//! running as real processes. Install the clients with `scripts/install-clients.sh`.

mod acl;
mod apache_store;
mod faults;
mod harness;
#[path = "../support/mod.rs"]
mod support;
mod timer;
mod tls;
mod tools;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use harness::{Cluster, finish, received_by_key};
use serde_json::Value;

fn sent_count(produced: &Value) -> u64 {
    produced["sent"].as_u64().unwrap()
}

fn bodies_by_key(consumed: &Value) -> BTreeMap<String, String> {
    received_by_key(consumed)
        .into_iter()
        .map(|(k, m)| (k, m["body"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn cpp_client_moves_a_thousand_tagged_keyed_messages_intact_through_an_auto_created_topic() {
    let cluster = Cluster::start("");
    let produced = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Orders",
            "--group",
            "pg",
            "--count",
            "1000",
            "--tags",
            "a,b,c",
            "--key-prefix",
            "order-",
            "--body-size",
            "100",
        ],
    );
    assert_eq!(sent_count(&produced), 1000);
    let consumed = cluster.client(
        "cpp_consume.py",
        &[
            "--topic",
            "Orders",
            "--group",
            "cg",
            "--expect",
            "1000",
            "--timeout-s",
            "90",
            "--idle-s",
            "2",
        ],
    );
    let got = received_by_key(&consumed);
    for i in 0..1000 {
        let message = got
            .get(&format!("order-{i}"))
            .unwrap_or_else(|| panic!("order-{i} was not delivered"));
        let body = message["body"].as_str().unwrap();
        assert!(body.starts_with(&format!("msg-{i}")), "{body}");
        assert_eq!(body.len(), 100, "body of order-{i} changed length");
        assert_eq!(message["tags"], ["a", "b", "c"][i % 3], "order-{i}");
        assert_eq!(message["topic"], "Orders");
    }
    assert_eq!(got.len(), 1000);

    // The admin tool finds a produced message by key through the index.
    let found = cluster.rmqctl(&["queryMsgByKey", "-t", "Orders", "-k", "order-7", "--json"]);
    assert!(found.status.success(), "{found:?}");
    let text = String::from_utf8_lossy(&found.stdout);
    assert!(text.contains("order-7"), "{text}");
    assert!(!text.contains("order-70"), "a longer key matched: {text}");
}

#[test]
fn a_restarted_consumer_resumes_from_its_committed_offset() {
    let cluster = Cluster::start("");
    let args = |prefix: &'static str| {
        [
            "--topic",
            "Resume",
            "--group",
            "pg",
            "--count",
            "60",
            "--key-prefix",
            prefix,
        ]
    };
    cluster.client("cpp_produce.py", &args("first-"));
    let consume = |expect: &str| {
        cluster.client(
            "cpp_consume.py",
            &[
                "--topic",
                "Resume",
                "--group",
                "cg",
                "--expect",
                expect,
                "--timeout-s",
                "60",
                "--idle-s",
                "3",
                // The client commits offsets every 5 s and at shutdown, and its shutdown
                // sometimes aborts (see tests/clients/cpp_consume.py): run past one commit.
                "--min-run-s",
                "6",
            ],
        )
    };
    let first = bodies_by_key(&consume("60"));
    assert_eq!(first.len(), 60);
    cluster.client("cpp_produce.py", &args("second-"));
    let second = bodies_by_key(&consume("60"));
    let redelivered: Vec<&String> = second.keys().filter(|k| k.starts_with("first-")).collect();
    assert!(
        redelivered.is_empty(),
        "committed messages delivered again: {redelivered:?}"
    );
    assert_eq!(
        second.keys().filter(|k| k.starts_with("second-")).count(),
        60
    );
}

#[test]
fn a_tag_subscription_delivers_only_matching_messages() {
    let cluster = Cluster::start("");
    cluster.client(
        "cpp_produce.py",
        &[
            "--topic", "Tagged", "--group", "pg", "--count", "90", "--tags", "a,b,c",
        ],
    );
    let consumed = cluster.client(
        "cpp_consume.py",
        &[
            "--topic",
            "Tagged",
            "--group",
            "cg",
            "--expect",
            "60",
            "--expression",
            "a || b",
            "--timeout-s",
            "60",
            "--idle-s",
            "3",
        ],
    );
    let got = received_by_key(&consumed);
    assert_eq!(got.len(), 60);
    for (key, message) in &got {
        let tag = message["tags"].as_str().unwrap();
        assert!(tag == "a" || tag == "b", "{key} has tag {tag}");
    }
}

#[test]
fn two_consumers_of_one_group_split_the_queues() {
    let cluster = Cluster::start("");
    // Create the topic (4 queues: the C++ client's default for auto-creation).
    cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Split",
            "--group",
            "pg",
            "--count",
            "40",
            "--key-prefix",
            "warm-",
        ],
    );
    let consumers = cluster.spawn_client(
        "cpp_consume.py",
        &[
            "--topic",
            "Split",
            "--group",
            "cg",
            "--consumers",
            "2",
            "--expect",
            "120",
            "--timeout-s",
            "90",
            "--idle-s",
            "3",
        ],
    );
    // Let both members join and rebalance before the measured messages.
    std::thread::sleep(Duration::from_secs(8));
    cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Split",
            "--group",
            "pg",
            "--count",
            "80",
            "--key-prefix",
            "late-",
        ],
    );
    let consumed = finish("cpp_consume.py", consumers);
    let got = received_by_key(&consumed);
    assert_eq!(got.len(), 120, "every message once at least");
    let mut owner: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for message in consumed["received"].as_array().unwrap() {
        if message["keys"].as_str().unwrap().starts_with("late-") {
            owner
                .entry(message["queue_id"].as_i64().unwrap())
                .or_default()
                .insert(message["consumer"].as_i64().unwrap());
        }
    }
    for (queue, consumers) in &owner {
        assert_eq!(
            consumers.len(),
            1,
            "queue {queue} consumed by {consumers:?}"
        );
    }
    let members: BTreeSet<i64> = owner.values().flatten().copied().collect();
    assert_eq!(members.len(), 2, "queues were not split: {owner:?}");
}

#[test]
fn a_clean_broker_restart_mid_stream_loses_no_acknowledged_message() {
    let mut cluster = Cluster::start("flushDiskType=SYNC_FLUSH\n");
    let consumer = cluster.spawn_client(
        "cpp_consume.py",
        &[
            "--topic",
            "Restart",
            "--group",
            "cg",
            "--expect",
            "400",
            "--timeout-s",
            "120",
            "--idle-s",
            "3",
        ],
    );
    let before = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Restart",
            "--group",
            "pg",
            "--count",
            "200",
            "--key-prefix",
            "before-",
        ],
    );
    assert_eq!(sent_count(&before), 200);
    cluster.restart_broker();
    let after = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Restart",
            "--group",
            "pg",
            "--count",
            "200",
            "--key-prefix",
            "after-",
        ],
    );
    assert_eq!(sent_count(&after), 200);
    let got = received_by_key(&finish("cpp_consume.py", consumer));
    for prefix in ["before-", "after-"] {
        for i in 0..200 {
            assert!(
                got.contains_key(&format!("{prefix}{i}")),
                "{prefix}{i} lost"
            );
        }
    }
}

#[test]
fn ali_ons_and_the_cpp_client_read_each_others_messages() {
    let cluster = Cluster::start("");
    // ali-ons does not auto-create topics: create it with the admin tool, as users do.
    let created = cluster.rmqctl(&[
        "updateTopic",
        "-t",
        "Mixed",
        "-c",
        "DefaultCluster",
        "-r",
        "4",
        "-w",
        "4",
    ]);
    assert!(created.status.success(), "{created:?}");
    let from_ons = cluster.client(
        "ons_produce.js",
        &[
            "--topic",
            "Mixed",
            "--group",
            "pg-ons",
            "--count",
            "100",
            "--tags",
            "x,y",
            "--key-prefix",
            "ons-",
        ],
    );
    assert_eq!(sent_count(&from_ons), 100);
    let cpp_read = cluster.client(
        "cpp_consume.py",
        &[
            "--topic",
            "Mixed",
            "--group",
            "cg-cpp",
            "--expect",
            "100",
            "--timeout-s",
            "60",
            "--idle-s",
            "2",
        ],
    );
    let got = bodies_by_key(&cpp_read);
    assert_eq!(got.len(), 100);
    assert!(got["ons-42"].starts_with("msg-42"));

    let from_cpp = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Mixed",
            "--group",
            "pg-cpp",
            "--count",
            "100",
            "--key-prefix",
            "cpp-",
        ],
    );
    assert_eq!(sent_count(&from_cpp), 100);
    let ons_read = cluster.client(
        "ons_consume.js",
        &[
            "--topic",
            "Mixed",
            "--group",
            "cg-ons",
            "--expect",
            "200",
            "--timeout-s",
            "60",
            "--idle-s",
            "2",
        ],
    );
    let got = bodies_by_key(&ons_read);
    assert_eq!(got.keys().filter(|k| k.starts_with("cpp-")).count(), 100);
    assert_eq!(got.keys().filter(|k| k.starts_with("ons-")).count(), 100);
}
