//! Timer messages (`TIMER_DELIVER_MS`, `TIMER_DELAY_SEC`, `TIMER_DELAY_MS`), which the 5.x
//! clients set to deliver a message at a given time: with no timing wheel, the broker refuses
//! each with Apache 5's answer to `timerWheelEnable=false`, stores none, and a message with a
//! delay level keeps working.

use super::harness::{Cluster, received_by_key};

#[test]
fn a_timer_message_from_the_cpp_client_is_refused_with_apaches_answer_and_never_delivered() {
    let cluster = Cluster::start("");
    let deliver_at = (std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let props = serde_json::json!([
        {"TIMER_DELAY_SEC": "5"},
        {"TIMER_DELAY_MS": "5000"},
        {"TIMER_DELIVER_MS": deliver_at},
    ])
    .to_string();
    let produced = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Timers",
            "--group",
            "timer-pg",
            "--count",
            "3",
            "--key-prefix",
            "timer-",
            "--props",
            &props,
            "--keep-going",
        ],
    );
    let results = produced["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{produced}");
    for result in results {
        assert_eq!(result["status"], "EXCEPTION", "{produced}");
        // The client's exception names no cause once its retries are spent; its log has the
        // broker's answer.
        let log = result["cpp_log_tail"].to_string();
        assert!(
            log.contains("accurate timer message is not enabled, timerWheelEnable is false"),
            "{log}"
        );
    }

    // The topic takes ordinary sends; only those are ever consumed.
    let plain = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "Timers",
            "--group",
            "timer-pg",
            "--count",
            "2",
            "--key-prefix",
            "plain-",
        ],
    );
    assert_eq!(plain["sent"], 2, "{plain}");
    let consumed = cluster.client(
        "cpp_consume.py",
        &[
            "--topic",
            "Timers",
            "--group",
            "timer-cg",
            "--expect",
            "2",
            "--timeout-s",
            "60",
            "--idle-s",
            "3",
        ],
    );
    let keys: Vec<String> = received_by_key(&consumed).into_keys().collect();
    assert_eq!(keys, ["plain-0", "plain-1"], "{consumed}");
}
