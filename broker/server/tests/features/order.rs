//! Ordered consumption: the C++ client's orderly producer and orderly push consumer, which locks
//! its queues with LOCK_BATCH_MQ; and the lock requests themselves over the wire.

use super::*;
use rmq_protocol::body::MessageQueue;
use rmq_protocol::command::lock_batch_mq::{LockBatchRequestBody, LockBatchResponseBody};

/// Message index (from its body `msg-<i>`) per queue, in delivery order.
fn per_queue(consumed: &Value) -> BTreeMap<i64, Vec<i64>> {
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for d in deliveries(consumed) {
        let body = d["body"].as_str().unwrap();
        let i: i64 = body.trim_start_matches("msg-").parse().unwrap();
        out.entry(d["queue_id"].as_i64().unwrap())
            .or_default()
            .push(i);
    }
    out
}

fn orderly_consume(cluster: &Cluster, expect: usize) -> Value {
    let expect = expect.to_string();
    cluster.client(
        "cpp_retry_consume.py",
        &[
            "--topic",
            "Orders",
            "--group",
            "cg-order",
            "--orderly",
            "--expect-deliveries",
            &expect,
            "--idle-s",
            "3",
        ],
    )
}

#[test]
fn cpp_orderly_consumer_sees_each_queue_in_order_across_a_consumer_restart() {
    // The C++ client does not always unlock every queue when it shuts down; the next consumer
    // then waits for the lock to expire (60 s by default, 5 s here).
    let cluster = Cluster::start("rebalanceLockMaxLiveTime=5000");
    produce(&cluster, "Orders", 20, &["--orderly-keys", "4"]);
    let first = orderly_consume(&cluster, 20);
    // Another 20 while no consumer runs; a new consumer process continues where it stopped.
    produce(&cluster, "Orders", 20, &["--orderly-keys", "4"]);
    let second = orderly_consume(&cluster, 20);

    for (name, run) in [("first", &first), ("second", &second)] {
        for (queue, seq) in per_queue(run) {
            assert!(
                seq.windows(2).all(|w| w[0] < w[1]),
                "{name} consumer, queue {queue}: out of order {seq:?}"
            );
            assert!(
                seq.iter().all(|i| i % 4 == queue),
                "queue {queue} holds i % 4 == {queue}"
            );
        }
    }
    // The second producer run numbers its bodies from 0 again; the new consumer must resume at
    // the stored offsets, i.e. deliver only the second batch (queue offsets 5..9).
    let first_count = deliveries(&first).len();
    let second_offsets: BTreeSet<i64> = deliveries(&second)
        .iter()
        .map(|d| d["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(first_count, 20, "{first}");
    assert!(
        second_offsets.iter().all(|o| *o >= 5),
        "each queue resumes after its first 5 messages: {second_offsets:?}"
    );
    assert!(
        cluster.broker_log().contains("queue locked"),
        "the orderly consumer locked its queues with LOCK_BATCH_MQ"
    );
}

fn lock(cluster: &Cluster, code: RequestCode, client: &str, queues: &[i32]) -> Vec<i32> {
    let body = LockBatchRequestBody {
        client_id: client.into(),
        consumer_group: "cg-lock".into(),
        mq_set: queues
            .iter()
            .map(|q| MessageQueue {
                broker_name: "broker-a".into(),
                queue_id: *q,
                topic: "Locked".into(),
            })
            .collect(),
        only_this_broker: false,
    };
    let response = request(
        cluster,
        RemotingCommand::request(code).with_body(body.to_json().unwrap()),
    );
    assert_eq!(response.code, ResponseCode::Success as i32, "{response:?}");
    if code == RequestCode::UnlockBatchMq {
        return Vec::new();
    }
    let answer = LockBatchResponseBody::decode(&response.body).unwrap();
    let mut locked: Vec<i32> = answer.lock_ok_mq_set.iter().map(|m| m.queue_id).collect();
    locked.sort();
    locked
}

#[test]
fn queue_locks_are_exclusive_per_group_released_by_unlock_and_expire_unrenewed() {
    let cluster = Cluster::start("rebalanceLockMaxLiveTime=1500");
    assert_eq!(
        lock(&cluster, RequestCode::LockBatchMq, "A", &[0, 1]),
        [0, 1]
    );
    assert_eq!(lock(&cluster, RequestCode::LockBatchMq, "B", &[1, 2]), [2]);
    lock(&cluster, RequestCode::UnlockBatchMq, "A", &[1]);
    assert_eq!(
        lock(&cluster, RequestCode::LockBatchMq, "B", &[1, 2]),
        [1, 2]
    );
    // A stops renewing queue 0; after the live time B may take it.
    std::thread::sleep(Duration::from_millis(1800));
    assert_eq!(lock(&cluster, RequestCode::LockBatchMq, "B", &[0]), [0]);
    assert_eq!(
        lock(&cluster, RequestCode::LockBatchMq, "A", &[0]),
        Vec::<i32>::new()
    );
}
