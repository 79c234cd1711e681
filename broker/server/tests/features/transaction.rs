//! Transactional messages with Apache's C++ client 2.x `TransactionMQProducer`.

use super::*;

const TX_CONF: &str =
    "transactionCheckInterval=1000\ntransactionTimeOut=1000\ntransactionCheckMax=3";

fn tx_produce(cluster: &Cluster, group: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--topic", "Pay", "--group", group];
    args.extend_from_slice(extra);
    cluster.client("cpp5_transaction_produce.py", &args)
}

fn consumed_keys(cluster: &Cluster, group: &str, expect: usize) -> Vec<String> {
    let expect = expect.to_string();
    let consumed = cluster.client(
        "cpp_consume.py",
        &[
            "--topic", "Pay", "--group", group, "--expect", &expect, "--idle-s", "3",
        ],
    );
    let mut keys: Vec<String> = consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["keys"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

fn checks_of<'a>(produced: &'a Value, key: &str) -> Vec<&'a Value> {
    produced["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["key"] == key)
        .collect()
}

#[test]
fn cpp_transactions_commit_once_roll_back_never_and_are_checked_back_until_resolved() {
    let cluster = Cluster::start(TX_CONF);
    let produced = tx_produce(
        &cluster,
        "pg-tx",
        &[
            "--count",
            "4",
            "--plan",
            "commit,rollback,unknown,unknown",
            "--check-unknown-times",
            "2",
            "--check-answer",
            "commit",
            "--run-s",
            "8",
        ],
    );
    assert_eq!(produced["count"], 4, "{produced}");
    // Resolved at once: never asked about.
    assert!(checks_of(&produced, "tx-0").is_empty(), "{produced}");
    assert!(checks_of(&produced, "tx-1").is_empty(), "{produced}");
    // UNKNOW twice, then COMMIT on the third check; the broker counts its checks.
    for key in ["tx-2", "tx-3"] {
        let checks = checks_of(&produced, key);
        let answers: Vec<&str> = checks
            .iter()
            .map(|c| c["answer"].as_str().unwrap())
            .collect();
        assert_eq!(
            answers,
            ["unknown", "unknown", "commit"],
            "{key}: {checks:#?}"
        );
        let times: Vec<&str> = checks
            .iter()
            .map(|c| c["check_times"].as_str().unwrap())
            .collect();
        assert_eq!(times, ["1", "2", "3"]);
        let gap = checks[1]["at_ms"].as_i64().unwrap() - checks[0]["at_ms"].as_i64().unwrap();
        assert!(
            gap >= 800,
            "one check per transactionCheckInterval: {gap} ms"
        );
    }
    // Consumers see the committed messages once each, the rolled back one never.
    assert_eq!(
        consumed_keys(&cluster, "cg-tx", 3),
        ["tx-0", "tx-2", "tx-3"]
    );
    for system in ["RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC"] {
        let status = rmqctl_json(&cluster, &["topicStatus", "-t", system]);
        assert!(
            status["queues"][0]["maxOffset"].as_i64().unwrap() > 0,
            "{system}: {status}"
        );
    }
}

#[test]
fn cpp_unresolved_transaction_is_discarded_after_the_check_limit() {
    let cluster = Cluster::start(TX_CONF);
    let produced = tx_produce(
        &cluster,
        "pg-never",
        &[
            "--count",
            "1",
            "--plan",
            "unknown",
            "--check-answer",
            "unknown",
            "--run-s",
            "9",
        ],
    );
    let checks = checks_of(&produced, "tx-0");
    assert_eq!(
        checks.len(),
        3,
        "transactionCheckMax checks, no more: {checks:#?}"
    );
    assert_eq!(consumed_keys(&cluster, "cg-never", 0), Vec::<String>::new());
    let discarded = rmqctl_json(
        &cluster,
        &["topicStatus", "-t", "TRANS_CHECK_MAX_TIME_TOPIC"],
    );
    assert_eq!(discarded["queues"][0]["maxOffset"], 1, "{discarded}");
}

#[test]
fn cpp_half_message_survives_a_broker_restart_and_is_committed_by_a_later_producer() {
    // As in Apache, a check with no producer online still counts: allow plenty here.
    let mut cluster = Cluster::start(
        "transactionCheckInterval=1000\ntransactionTimeOut=1000\ntransactionCheckMax=60",
    );
    // The producer leaves at once: its transaction is still open.
    let first = tx_produce(
        &cluster,
        "pg-restart",
        &["--count", "1", "--plan", "unknown", "--run-s", "0"],
    );
    assert_eq!(first["count"], 1);
    cluster.restart_broker();
    // A producer of the same group (it sends one transaction of its own, so it learns the
    // broker's address and heartbeats to it) is asked about the open one and commits it.
    let second = tx_produce(
        &cluster,
        "pg-restart",
        &[
            "--count",
            "1",
            "--key-prefix",
            "later-",
            "--plan",
            "commit",
            "--check-answer",
            "commit",
            "--run-s",
            "5",
        ],
    );
    assert!(!checks_of(&second, "tx-0").is_empty(), "{second}");
    assert_eq!(
        consumed_keys(&cluster, "cg-restart", 2),
        ["later-0", "tx-0"]
    );
}

/// A half message sent by the test itself; returns (queue offset, commit log offset, msgId).
fn send_half(cluster: &Cluster, key: &str) -> (i64, i64, String) {
    use rmq_protocol::command::send_message::{
        SendMessageRequestHeader, SendMessageResponseHeader,
    };
    use rmq_protocol::message::msg_id::parse_offset_msg_id;
    let header = SendMessageRequestHeader {
        producer_group: "pg-wire".into(),
        sys_flag: 0x4,
        ..support::send_header(
            "Wire",
            format!(
                "KEYS\u{1}{key}\u{2}TRAN_MSG\u{1}true\u{2}PGROUP\u{1}pg-wire\u{2}UNIQ_KEY\u{1}U-{key}\u{2}"
            ),
        )
    };
    let response = request(cluster, support::send_request(&header, "b"));
    assert_eq!(response.code, ResponseCode::Success as i32, "{response:?}");
    let sent: SendMessageResponseHeader = response.decode_header().unwrap();
    let (_, offset) = parse_offset_msg_id(&sent.msg_id).unwrap();
    (sent.queue_offset, offset, sent.msg_id)
}

fn end(cluster: &Cluster, group: &str, half: &(i64, i64, String), state: i32) -> RemotingCommand {
    use rmq_protocol::command::end_transaction::EndTransactionRequestHeader;
    let header = EndTransactionRequestHeader {
        topic: Some("Wire".into()),
        producer_group: group.into(),
        tran_state_table_offset: half.0,
        commit_log_offset: half.1,
        commit_or_rollback: state,
        from_transaction_check: false,
        msg_id: half.2.clone(),
        transaction_id: None,
    };
    request(
        cluster,
        RemotingCommand::request_with_header(RequestCode::EndTransaction, &header),
    )
}

#[test]
fn end_transaction_checks_the_half_message_and_stores_a_commit_once() {
    use rmq_protocol::command::end_transaction::commit_or_rollback::{COMMIT, ROLLBACK};
    let cluster = Cluster::start("");
    let half = send_half(&cluster, "w-0");
    let wrong = end(&cluster, "other-group", &half, COMMIT);
    assert_eq!(wrong.code, ResponseCode::SystemError as i32);
    assert_eq!(wrong.remark.as_deref(), Some("The producer group wrong"));
    let moved = end(
        &cluster,
        "pg-wire",
        &(half.0 + 1, half.1, half.2.clone()),
        COMMIT,
    );
    assert_eq!(
        moved.remark.as_deref(),
        Some("The transaction state table offset wrong")
    );
    let nowhere = end(
        &cluster,
        "pg-wire",
        &(half.0, half.1 + 1, half.2.clone()),
        COMMIT,
    );
    assert_eq!(
        nowhere.remark.as_deref(),
        Some("Find prepared transaction message failed")
    );
    for _ in 0..2 {
        let ok = end(&cluster, "pg-wire", &half, COMMIT);
        assert_eq!(ok.code, ResponseCode::Success as i32, "{ok:?}");
    }
    let rolled = send_half(&cluster, "w-1");
    assert_eq!(
        end(&cluster, "pg-wire", &rolled, ROLLBACK).code,
        ResponseCode::Success as i32
    );
    let stored = super::retry::stored_by_key(&cluster, "Wire", "w-0");
    assert_eq!(stored.len(), 1, "committed once: {stored:#?}");
    assert_eq!(
        stored[0]["properties"]["TRAN_MSG"], "true",
        "as Apache stores it"
    );
    assert_eq!(
        stored[0]["sysFlag"].as_i64().unwrap() & 0xC,
        0x8,
        "COMMIT type"
    );
    assert!(super::retry::stored_by_key(&cluster, "Wire", "w-1").is_empty());
}
