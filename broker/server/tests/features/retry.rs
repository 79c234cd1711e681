//! Retry and dead-letter queues with the C++ push consumer answering RECONSUME_LATER.

use super::*;

/// The message of `key` as stored in `topic`, through `rmqctl queryMsgByKey` + `queryMsgById`.
/// Waits up to 3 s for the index to list it; empty if it never does.
pub(crate) fn stored_by_key(cluster: &Cluster, topic: &str, key: &str) -> Vec<Value> {
    // The index is written by the dispatch right after the append: poll until the key shows up
    // (or the deadline says it never will).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let hits = loop {
        let out = cluster.rmqctl(&["--json", "queryMsgByKey", "-t", topic, "-k", key]);
        let hits: Vec<Value> = if out.status.success() {
            serde_json::from_slice::<Value>(&out.stdout)
                .ok()
                .and_then(|v| v["hits"].as_array().cloned())
                .unwrap_or_default()
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("no message"),
                "queryMsgByKey failed: {stderr}"
            );
            Vec::new()
        };
        if !hits.is_empty() || std::time::Instant::now() >= deadline {
            break hits;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    hits.iter()
        .map(|hit| {
            let id = hit["offsetMsgId"].as_str().unwrap();
            let view = rmqctl_json(cluster, &["queryMsgById", "-i", id]);
            view["messages"][0].clone()
        })
        .collect()
}

#[test]
fn cpp_consumer_gets_failed_messages_again_from_its_retry_topic_then_the_dead_letter_queue() {
    let cluster = Cluster::start(FAST_LEVELS);
    // The C++ client sends request version 63 (< 3.4.9), so the group's limit applies.
    set_retry_max_times(&cluster, "cg-dead", 3);
    // The C++ client fails a whole pulled batch when one message fails: one message per topic.
    produce(
        &cluster,
        "PayOk",
        1,
        &["--key-prefix", "ok-", "--tags", "t"],
    );
    produce(
        &cluster,
        "PayDead",
        1,
        &["--key-prefix", "dead-", "--tags", "t"],
    );
    // ok-0 fails twice then succeeds; dead-0 always fails: 1 + 3 retries, then the DLQ.
    let ok_consumer = cluster.spawn_client(
        "cpp_retry_consume.py",
        &[
            "--topic",
            "PayOk",
            "--group",
            "cg-ok",
            "--fail-prefix",
            "ok-",
            "--fail-times",
            "2",
            "--expect-deliveries",
            "3",
            "--idle-s",
            "4",
        ],
    );
    let dead_consumer = cluster.spawn_client(
        "cpp_retry_consume.py",
        &[
            "--topic",
            "PayDead",
            "--group",
            "cg-dead",
            "--always-fail-prefix",
            "dead-",
            "--expect-deliveries",
            "4",
            "--idle-s",
            "4",
        ],
    );
    let ok = deliveries(&finish("cpp_retry_consume.py", ok_consumer));
    let dead = deliveries(&finish("cpp_retry_consume.py", dead_consumer));

    let times: Vec<i64> = ok
        .iter()
        .map(|d| d["reconsume_times"].as_i64().unwrap())
        .collect();
    assert_eq!(times, [0, 1, 2], "first delivery, two retries: {ok:#?}");
    assert!(ok.last().unwrap()["ok"].as_bool().unwrap());
    for pair in ok.windows(2) {
        let gap = pair[1]["at_ms"].as_i64().unwrap() - pair[0]["at_ms"].as_i64().unwrap();
        assert!(
            gap >= 900,
            "a retry waits for its delay level (1 s here): {gap} ms"
        );
    }
    for retry in &ok[1..] {
        assert_eq!(
            retry["topic"], "PayOk",
            "the client restores the original topic"
        );
        assert_eq!(retry["body"], ok[0]["body"]);
        assert_eq!(retry["keys"], "ok-0");
    }
    let times: Vec<i64> = dead
        .iter()
        .map(|d| d["reconsume_times"].as_i64().unwrap())
        .collect();
    assert_eq!(
        times,
        [0, 1, 2, 3],
        "1 + retryMaxTimes deliveries: {dead:#?}"
    );

    // The DLQ holds dead-0 once, with its origin; it is write-only, as Apache creates it.
    let in_dlq = stored_by_key(&cluster, "%DLQ%cg-dead", "dead-0");
    assert_eq!(in_dlq.len(), 1, "{in_dlq:#?}");
    let props = &in_dlq[0]["properties"];
    assert_eq!(props["RETRY_TOPIC"], "PayDead");
    assert_eq!(props["KEYS"], "dead-0");
    let origin = props["ORIGIN_MESSAGE_ID"].as_str().unwrap();
    let first = stored_by_key(&cluster, "PayDead", "dead-0");
    assert_eq!(
        origin, first[0]["offsetMsgId"],
        "ORIGIN_MESSAGE_ID is the first offset msgId"
    );
    assert_eq!(in_dlq[0]["reconsumeTimes"], 4);
    assert_eq!(in_dlq[0]["body"], dead[0]["body"]);
    assert!(
        rmqctl_json(&cluster, &["topicList"])
            .to_string()
            .contains("%DLQ%cg-dead")
    );
    let route = rmqctl_json(&cluster, &["topicRoute", "-t", "%DLQ%cg-dead"]);
    assert_eq!(route["queueDatas"][0]["perm"], 2, "{route}");
    let retry_route = rmqctl_json(&cluster, &["topicRoute", "-t", "%RETRY%cg-ok"]);
    assert_eq!(retry_route["queueDatas"][0]["perm"], 6);
    assert!(
        rmqctl_json(&cluster, &["topicList"])
            .to_string()
            .contains("%DLQ%cg-dead")
            && !rmqctl_json(&cluster, &["topicList"])
                .to_string()
                .contains("%DLQ%cg-ok"),
        "no dead letter for the group whose message succeeded"
    );
}

/// A send straight to `%RETRY%<group>` (what clients fall back to when the send-back fails).
fn send_to_retry(
    cluster: &Cluster,
    group: &str,
    key: &str,
    reconsume_times: i32,
) -> RemotingCommand {
    use rmq_protocol::command::send_message::SendMessageRequestHeader;
    let header = SendMessageRequestHeader {
        reconsume_times: Some(reconsume_times),
        ..support::send_header(
            &format!("%RETRY%{group}"),
            format!("KEYS\u{1}{key}\u{2}RETRY_TOPIC\u{1}Orig\u{2}DELAY\u{1}3\u{2}"),
        )
    };
    request(cluster, support::send_request(&header, "b"))
}

#[test]
fn a_plain_send_to_a_retry_topic_past_the_limit_goes_to_the_dead_letter_queue() {
    let cluster = Cluster::start(FAST_LEVELS);
    set_retry_max_times(&cluster, "cg-fallback", 2);
    let under = send_to_retry(&cluster, "cg-fallback", "under", 1);
    assert_eq!(under.code, ResponseCode::Success as i32, "{under:?}");
    let over = send_to_retry(&cluster, "cg-fallback", "over", 2);
    assert_eq!(over.code, ResponseCode::Success as i32, "{over:?}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(stored_by_key(&cluster, "%DLQ%cg-fallback", "over").len(), 1);
    assert!(stored_by_key(&cluster, "%DLQ%cg-fallback", "under").is_empty());
    // Under the limit it waits for its DELAY, then lands in the retry topic.
    assert_eq!(
        stored_by_key(&cluster, "%RETRY%cg-fallback", "under").len(),
        1
    );
}
