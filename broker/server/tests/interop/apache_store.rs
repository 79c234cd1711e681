//! `rmq-broker` started on stores written by the real Apache RocketMQ 4.9.4 broker
//! (`../shared/fixtures/apache-4.9.4-stores`, a clean stop and a `kill -9`), as the master and as a
//! slave: an independent client (the Apache C++ client; ali-ons from the slave) consumes every message the Java client saw acknowledged, with the
//! body it was sent with, and the admin tool finds them by key and by id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::harness::Cluster;

#[path = "../../../store/tests/support/apache_fixture.rs"]
mod apache_fixture;

use apache_fixture::{Acked, acked, store_settings, unpack};

/// broker.conf lines: the store settings Apache ran with, plus `role`.
fn broker_conf(store: &Path, role: &str) -> String {
    let mut conf: String = store_settings(store)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    conf.push_str(role);
    conf
}

/// The independent client that consumes.
#[derive(Clone, Copy)]
enum Consumer {
    /// The Apache C++ client: it heartbeats to masters only, so it cannot consume from a group
    /// whose master is gone.
    Cpp,
    /// ali-ons, which heartbeats to slaves too when it has consumers, as the Java client does.
    AliOns,
}

/// Consumes `topic` from the first offset with a new group until every acknowledged message of
/// it arrived (more may come: sends acknowledged after the list's last write); returns the
/// deliveries by unique key (the id the producer printed).
fn consume_all(
    cluster: &Cluster,
    consumer: Consumer,
    topic: &str,
    expected: &[&Acked],
) -> BTreeMap<String, Value> {
    let expect = expected.len().to_string();
    let group = format!("apache-store-{topic}");
    let (program, id_field) = match consumer {
        Consumer::Cpp => ("cpp_consume.py", "msg_id"),
        Consumer::AliOns => ("ons_consume.js", "uniq_key"),
    };
    let consumed = cluster.client(
        program,
        &[
            "--topic",
            topic,
            "--group",
            &group,
            "--expect",
            &expect,
            "--from",
            "first",
            "--timeout-s",
            "120",
            "--idle-s",
            "2",
        ],
    );
    consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m[id_field].as_str().unwrap_or("").to_owned(), m.clone()))
        .collect()
}

/// Every acknowledged message of the fixture reaches the C++ client intact; rolled-back
/// transactional sends never do; the admin tool finds messages by key and by offset id.
fn serves_every_acknowledged_message(name: &str, role: &str, consumer: Consumer) {
    let (_dir, store) = unpack(name);
    let acked = acked(&store);
    let cluster = Cluster::start_on_store(&broker_conf(&store, role), Some(&store));
    let slave = role.contains("SLAVE");
    // A slave does not run the schedule service (nor does Apache's): delayed messages that
    // Apache had not delivered yet stay in SCHEDULE_TOPIC_XXXX for a master to deliver (the
    // store's fixture tests find every one of them there). So from a slave, FixDelay is not
    // consumed whole.
    let topics: BTreeSet<&str> = acked
        .iter()
        .map(|a| a.topic.as_str())
        .filter(|t| !(slave && *t == "FixDelay"))
        .collect();
    let mut delivered_any = None;
    for topic in topics {
        let expected: Vec<&Acked> = acked.iter().filter(|a| a.topic == topic).collect();
        let got = consume_all(&cluster, consumer, topic, &expected);
        for a in &expected {
            let m = got
                .get(&a.msg_id)
                .unwrap_or_else(|| panic!("{name}: acknowledged {a:?} was not delivered"));
            assert_eq!(m["body_len"].as_u64(), Some(a.body_len as u64), "{a:?}");
            assert_eq!(
                m["body_sha256"].as_str(),
                Some(a.body_sha256.as_str()),
                "{a:?}"
            );
            assert_eq!(m["topic"].as_str(), Some(topic));
        }
        if topic == "FixTx" {
            let committed: BTreeSet<&str> = expected.iter().map(|a| a.msg_id.as_str()).collect();
            let delivered: BTreeSet<&str> = got.keys().map(String::as_str).collect();
            assert_eq!(
                delivered, committed,
                "only committed transactional sends are delivered"
            );
        }
        if topic == "FixPlain" {
            delivered_any = Some((expected[0].clone(), got[&expected[0].msg_id].clone()));
        }
    }

    // The admin tool finds a message by its key, through the index Apache wrote or the one
    // recovery rebuilt, and by an offset id naming this broker.
    let (a, m) = delivered_any.expect("FixPlain has acknowledged messages");
    let key = a.keys.split(' ').next().unwrap();
    let out = cluster.rmqctl(&["queryMsgByKey", "-t", "FixPlain", "-k", key, "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&a.msg_id),
        "{key}: {out:?}"
    );
    let broker: std::net::SocketAddr = cluster.broker_addr.parse().unwrap();
    let offset = m["commit_log_offset"].as_i64().unwrap();
    let id = rmq_protocol::message::msg_id::offset_msg_id(broker, offset);
    let out = cluster.rmqctl(&["queryMsgById", "-i", &id, "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&a.msg_id),
        "{id}: {out:?}"
    );
    assert!(
        !cluster.broker_log().contains("truncating"),
        "recovery cut written data:\n{}",
        cluster.broker_log()
    );
}

#[test]
fn a_cleanly_stopped_apache_4_9_4_store_serves_every_acknowledged_message_to_the_cpp_client() {
    serves_every_acknowledged_message("clean", "", Consumer::Cpp);
}

#[test]
fn a_killed_apache_4_9_4_store_serves_every_acknowledged_message_to_the_cpp_client() {
    serves_every_acknowledged_message("killed", "", Consumer::Cpp);
}

#[test]
fn a_killed_apache_4_9_4_store_under_a_slave_serves_every_acknowledged_message_to_ali_ons() {
    // A slave whose master is gone: the route names only broker id 1, and the client reads there.
    serves_every_acknowledged_message("killed", "brokerRole=SLAVE\nbrokerId=1\n", Consumer::AliOns);
}
