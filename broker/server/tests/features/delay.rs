//! Delay levels with the C++ producer's `set_delay_time_level`.

use super::*;

fn consume(cluster: &Cluster, topic: &str, group: &str, expect: usize, extra: &[&str]) -> Value {
    let expect = expect.to_string();
    let mut args = vec!["--topic", topic, "--group", group, "--expect", &expect];
    args.extend_from_slice(extra);
    cluster.client("cpp_consume.py", &args)
}

/// Sum of max offsets of a topic's queues (messages stored in it).
fn stored_count(cluster: &Cluster, topic: &str) -> i64 {
    let status = rmqctl_json(cluster, &["topicStatus", "-t", topic]);
    status["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["maxOffset"].as_i64().unwrap())
        .sum()
}

#[test]
fn cpp_delayed_messages_arrive_within_their_levels_window() {
    let cluster = Cluster::start("messageDelayLevel=1s 3s 5s");
    let consumer = cluster.spawn_client(
        "cpp_consume.py",
        &[
            "--topic", "Later", "--group", "cg-delay", "--expect", "4", "--idle-s", "2", "--from",
            "first",
        ],
    );
    produce(
        &cluster,
        "Later",
        2,
        &["--delay-level", "2", "--key-prefix", "l2-"],
    );
    produce(&cluster, "Later", 2, &["--key-prefix", "now-"]);
    let consumed = finish("cpp_consume.py", consumer);
    let received = consumed["received"].as_array().unwrap();
    assert_eq!(consumed["distinct"], 4, "{received:#?}");
    for m in received {
        let waited = m["store_timestamp"].as_i64().unwrap() - m["born_timestamp"].as_i64().unwrap();
        let key = m["keys"].as_str().unwrap();
        if key.starts_with("l2-") {
            // Level 2 = 3 s; the scheduler looks every 100 ms.
            assert!((3000..4500).contains(&waited), "{key} waited {waited} ms");
        } else {
            assert!(waited < 1000, "{key} was not delayed: {waited} ms");
        }
    }
    assert_eq!(stored_count(&cluster, "Later"), 4, "each delivered once");
}

#[test]
fn cpp_delayed_message_due_while_the_broker_is_down_is_delivered_once_after_restart() {
    let mut cluster = Cluster::start("messageDelayLevel=1s 3s 5s");
    produce(
        &cluster,
        "Parked",
        1,
        &["--delay-level", "1", "--key-prefix", "early-"],
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        stored_count(&cluster, "Parked"),
        1,
        "level 1 delivered before the stop"
    );
    produce(
        &cluster,
        "Parked",
        1,
        &["--delay-level", "2", "--key-prefix", "late-"],
    );
    cluster.stop_broker();
    std::thread::sleep(Duration::from_secs(4));
    cluster.start_broker();
    let consumed = consume(&cluster, "Parked", "cg-parked", 2, &["--idle-s", "4"]);
    let keys: Vec<&str> = consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["keys"].as_str().unwrap())
        .collect();
    assert_eq!(consumed["count"], 2, "no duplicates: {keys:?}");
    assert_eq!(stored_count(&cluster, "Parked"), 2);
    let delay_offsets =
        std::fs::read_to_string(cluster.dir.path().join("store/config/delayOffset.json")).unwrap();
    assert!(delay_offsets.contains("offsetTable"), "{delay_offsets}");
}
