#![allow(clippy::unwrap_used)]
//! Master/slave replication with real processes: `rmq-namesrv`, a master and a slave
//! `rmq-broker` of one broker group on 127.0.0.1, driven by the independent C++ client
//! (`scripts/install-clients.sh`) and by `rmq-bench`.
//!
//! 1. SYNC_MASTER + SYNC_FLUSH: every message acknowledged SEND_OK before the master is killed
//!    with SIGKILL is served, intact, by the slave; both commit logs are byte-identical up to the
//!    slave's end.
//! 2. With the slave stopped, SYNC_MASTER sends answer SLAVE_NOT_AVAILABLE at once (to remoting
//!    requests; the C++ client turns that answer into a retry and gives up at once); the
//!    restarted slave resumes from its own offset, catches up, and sends succeed again.
//! 3. ASYNC_MASTER: a burst is answered without waiting, the lag drains to zero, and the slave
//!    serves the data (to a direct pull while the master runs, to the C++ consumer after it
//!    stopped).
//! 4. The slave copies topic configs, consumer offsets, subscription groups and delay offsets
//!    from its master (every 10 s, and at once when replicated data opens a queue).
//! 6. A frozen slave (SIGSTOP): SYNC_MASTER sends are answered FLUSH_SLAVE_TIMEOUT within the
//!    wait, never hang, and succeed again once the slave runs; a slave killed with SIGKILL under
//!    load restarts, catches up, and holds a byte-identical log with no record twice.
//! 5. SYNC_MASTER killed right after topics and groups were created and written to: the slave
//!    serves every acknowledged message of each, under each group, with no metadata wait.

mod cluster;
mod faults;
#[path = "../support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cluster::{Pair, finish, sibling_binary};
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::topic_config::TopicConfigSerializeWrapper;
use rmq_protocol::body::topic_config::TopicFilterType;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use rmq_protocol::command::pull_message::PullMessageResponseHeader;
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use serde_json::Value;
use support::{pull_header, pull_request, send_keyed};

/// The body `cpp_produce.py` gives message `i`.
fn body_of(i: u64, size: usize) -> String {
    let mut body = format!("msg-{i}");
    while body.len() < size {
        body.push('.');
    }
    body
}

/// Keys of the messages a producer run got SEND_OK for, with their index; and the count of
/// every status it saw.
fn acknowledged(produced: &Value, prefix: &str) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut acked = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    for result in produced["results"].as_array().unwrap() {
        let status = result["status"].as_str().unwrap().to_owned();
        let i = result["i"].as_u64().unwrap();
        if status == "SEND_OK" {
            acked.insert(format!("{prefix}{i}"), i);
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    (acked, statuses)
}

fn produce_args<'a>(topic: &'a str, prefix: &'a str, count: &'a str) -> Vec<&'a str> {
    vec![
        "--topic",
        topic,
        "--group",
        "pg",
        "--count",
        count,
        "--key-prefix",
        prefix,
        "--body-size",
        "100",
        "--timeout-s",
        "300",
    ]
}

/// Waits until the slave's topic table (synced from the master) holds `topic`.
fn wait_topic_on_slave(pair: &Pair, topic: &str) {
    pair.wait_until(
        "the slave's metadata sync copies the topic",
        Duration::from_secs(30),
        || {
            let response = pair.request(
                &pair.slave.addr,
                RemotingCommand::request(RequestCode::GetAllTopicConfig),
            );
            TopicConfigSerializeWrapper::decode(&response.body)
                .unwrap()
                .topic_config_table
                .contains_key(topic)
        },
    );
}

/// Consumes `topic` with the C++ push consumer (which reads from the slave when the route
/// lists no master) and checks that every acknowledged key arrived with its body.
fn consume_and_check(pair: &Pair, topic: &str, acked: &BTreeMap<String, u64>) -> usize {
    consume_as_and_check(pair, topic, "cg-after-master", acked)
}

/// [`consume_and_check`] with consumer group `group`.
fn consume_as_and_check(
    pair: &Pair,
    topic: &str,
    group: &str,
    acked: &BTreeMap<String, u64>,
) -> usize {
    let expect = acked.len().to_string();
    let (consumed, ok) = pair.client(
        "cpp_consume.py",
        &[
            "--topic",
            topic,
            "--group",
            group,
            "--expect",
            &expect,
            "--timeout-s",
            "240",
            "--idle-s",
            "3",
        ],
    );
    assert!(ok, "consumer failed: {}", consumed["error"]);
    let mut got = BTreeMap::new();
    for message in consumed["received"].as_array().unwrap() {
        got.insert(
            message["keys"].as_str().unwrap().to_owned(),
            message["body"].as_str().unwrap().to_owned(),
        );
    }
    let missing: Vec<&String> = acked.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged messages missing on the slave, first: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    for (key, i) in acked {
        assert_eq!(got[key], body_of(*i, 100), "body of {key} changed");
    }
    got.len()
}

/// Master and slave commit logs are identical over the slave's whole range.
fn assert_logs_identical(pair: &Pair, slave_max: u64) {
    let from = pair.slave_min_offset();
    assert!(slave_max > from);
    let master = pair.master_bytes(from, slave_max);
    let slave = pair.slave_bytes(from, slave_max);
    if let Some(at) = master.iter().zip(&slave).position(|(a, b)| a != b) {
        panic!("commit logs differ at offset {}", from + at as u64);
    }
}

#[test]
fn sync_master_with_sync_flush_keeps_every_acknowledged_message_when_the_master_is_killed() {
    let started = Instant::now();
    let mut pair = Pair::start("SYNC_MASTER", "SYNC_FLUSH", "");

    // 10,000 messages with the slave connected: every one must be SEND_OK.
    let (first, ok) = pair.client("cpp_produce.py", &produce_args("Ha", "a-", "10000"));
    assert!(ok, "producer failed: {}", first["error"]);
    let (mut acked, statuses) = acknowledged(&first, "a-");
    assert_eq!(statuses.get("SEND_OK"), Some(&10_000), "{statuses:?}");
    wait_topic_on_slave(&pair, "Ha");
    let produced_a = started.elapsed();

    // More sends, and the master dies under them.
    let mut producer = pair.spawn_client("cpp_produce.py", &produce_args("Ha", "b-", "10000"));
    pair.wait_until(
        "the second producer is halfway",
        Duration::from_secs(120),
        || {
            // A producer that ended early is reported by `finish` below, with its own words.
            matches!(producer.try_wait(), Ok(Some(_)))
                || pair.runtime_info(&pair.master.addr)["msgPutTotalTodayNow"]
                    .parse::<u64>()
                    .unwrap()
                    >= 15_000
        },
    );
    pair.kill_master();
    let killed_at = started.elapsed();
    let (second, _failed) = finish("cpp_produce.py", producer);
    let (acked_b, statuses_b) = acknowledged(&second, "b-");
    assert!(acked_b.len() >= 5_000, "{statuses_b:?}");
    acked.extend(acked_b);

    // The slave holds everything acknowledged, byte for byte as the master wrote it.
    let slave_max = pair.max_offset(&pair.slave.addr);
    assert_logs_identical(&pair, slave_max);

    // And serves it: the route lists only the slave now, and the C++ consumer reads from it.
    let delivered = consume_and_check(&pair, "Ha", &acked);
    eprintln!(
        "acknowledged {} (second run: {statuses_b:?}); slave delivered {delivered}; slave log \
         end {slave_max}; 10,000 sends took {produced_a:?}; master killed at {killed_at:?}; \
         total {:?}",
        acked.len(),
        started.elapsed()
    );
}

#[test]
fn with_the_slave_stopped_sends_answer_slave_not_available_promptly_and_a_restarted_slave_catches_up()
 {
    let started = Instant::now();
    let mut pair = Pair::start("SYNC_MASTER", "ASYNC_FLUSH", "");
    let (before, ok) = pair.client("cpp_produce.py", &produce_args("Down", "before-", "300"));
    assert!(ok, "{}", before["error"]);
    assert_eq!(
        acknowledged(&before, "before-").1.get("SEND_OK"),
        Some(&300)
    );
    pair.wait_caught_up(Duration::from_secs(10));
    let slave_end = pair.max_offset(&pair.slave.addr);

    pair.stop_slave();
    pair.wait_until(
        "the master sees the slave go",
        Duration::from_secs(10),
        || pair.runtime_info(&pair.master.addr)["haConnectionCount"] == "0",
    );
    // Each send is stored and answered SLAVE_NOT_AVAILABLE at once, not after slaveTimeout.
    let mut slowest = Duration::ZERO;
    for i in 0..100 {
        let sending = Instant::now();
        let answer = pair.request(&pair.master.addr, send_keyed("Down", &format!("down-{i}")));
        slowest = slowest.max(sending.elapsed());
        assert_eq!(
            answer.code,
            ResponseCode::SlaveNotAvailable as i32,
            "{answer:?}"
        );
    }
    assert!(
        slowest < Duration::from_millis(500),
        "slowest send took {slowest:?}"
    );
    // The C++ client retries any status but SEND_OK on another broker group; with none, it
    // gives up ("No route info of this topic") at once rather than hang.
    let sending = Instant::now();
    let (cpp, ok) = pair.client("cpp_produce.py", &produce_args("Down", "cpp-down-", "10"));
    let cpp_took = sending.elapsed();
    assert!(
        !ok,
        "the C++ client reports a non-SEND_OK answer as a failed send"
    );
    assert!(
        cpp_took < Duration::from_secs(20),
        "C++ producer took {cpp_took:?}"
    );
    let master_end = pair.max_offset(&pair.master.addr);
    assert!(
        master_end > slave_end,
        "the sends were stored on the master"
    );

    pair.start_slave();
    // The restarted slave asks for the commit log from its own end, not from the start.
    pair.wait_until(
        "the slave reconnects from its offset",
        Duration::from_secs(10),
        || {
            pair.slave.log().lines().any(|l| {
                l.contains("replicating from our offset")
                    && l.ends_with(&format!(" offset={slave_end}"))
            })
        },
    );
    pair.wait_caught_up(Duration::from_secs(30));
    assert_eq!(pair.max_offset(&pair.slave.addr), master_end);
    let (after, ok) = pair.client("cpp_produce.py", &produce_args("Down", "after-", "100"));
    assert!(ok, "{}", after["error"]);
    let (_, statuses) = acknowledged(&after, "after-");
    assert_eq!(statuses.get("SEND_OK"), Some(&100), "{statuses:?}");
    pair.wait_caught_up(Duration::from_secs(10));
    let end = pair.max_offset(&pair.slave.addr);
    assert_logs_identical(&pair, end);
    eprintln!(
        "without the slave: slowest of 100 sends {slowest:?}, C++ producer gave up after \
         {cpp_took:?} ({}); slave resumed from {slave_end}, caught up to {master_end}; total {:?}",
        cpp["error"],
        started.elapsed()
    );
}

#[test]
fn async_master_answers_a_burst_at_once_and_the_slave_catches_up_and_serves_it() {
    let started = Instant::now();
    let mut pair = Pair::start("ASYNC_MASTER", "ASYNC_FLUSH", "");

    // Watch the lag while rmq-bench sends a burst with 256 requests in flight.
    let watching = Arc::new(AtomicBool::new(true));
    let max_lag = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (watching, max_lag) = (watching.clone(), max_lag.clone());
        let master = pair.master.addr.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = rmq_remoting::Client::default();
            while watching.load(Ordering::Relaxed) {
                let response = runtime.block_on(client.invoke(
                    &master,
                    RemotingCommand::request(RequestCode::GetBrokerRuntimeInfo),
                    Duration::from_secs(5),
                ));
                if let Ok(response) = response
                    && let Ok(info) = serde_json::from_slice::<rmq_protocol::body::kv_table::KvTable>(
                        &response.body,
                    )
                    && let Some(Ok(lag)) = info
                        .table
                        .get("haReplicationLagBytes")
                        .map(|l| l.parse::<u64>())
                {
                    max_lag.fetch_max(lag, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let bench = std::process::Command::new(sibling_binary("rmq-bench"))
        .args([
            "produce",
            "-n",
            &pair.namesrv,
            "-t",
            "Burst",
            "--mode",
            "async",
        ])
        .args([
            "--inflight",
            "256",
            "--count",
            "30000",
            "--size",
            "512",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        bench.status.success(),
        "rmq-bench failed: {}",
        String::from_utf8_lossy(&bench.stderr)
    );
    let burst: Value = serde_json::from_slice(&bench.stdout).unwrap();
    let burst = &burst["summary"];
    assert_eq!(&burst["error_count"], 0, "{burst}");
    let burst_done = Instant::now();
    pair.wait_caught_up(Duration::from_secs(60));
    let drained = burst_done.elapsed();
    watching.store(false, Ordering::Relaxed);
    watcher.join().unwrap();
    let end = pair.max_offset(&pair.master.addr);
    assert_eq!(pair.max_offset(&pair.slave.addr), end);
    assert_logs_identical(&pair, end);

    // Keyed messages to read back from the slave.
    let (keyed, ok) = pair.client("cpp_produce.py", &produce_args("Keyed", "k-", "2000"));
    assert!(ok, "{}", keyed["error"]);
    let (acked, statuses) = acknowledged(&keyed, "k-");
    assert_eq!(statuses.get("SEND_OK"), Some(&2000), "{statuses:?}");
    pair.wait_caught_up(Duration::from_secs(30));
    wait_topic_on_slave(&pair, "Keyed");

    // A pull straight to the slave while the master runs: the slave serves it from its own
    // store and, with slaveReadEnable off, points the consumer back to the master (id 0).
    let mut from_slave = BTreeSet::new();
    for queue_id in 0..4 {
        let mut offset = 0;
        loop {
            let response = pair.request(
                &pair.slave.addr,
                pull_request(&pull_header("direct", "Keyed", queue_id, offset)),
            );
            if response.code != ResponseCode::Success as i32 {
                break;
            }
            let header: PullMessageResponseHeader = response.decode_header().unwrap();
            assert_eq!(header.suggest_which_broker_id, 0);
            let mut at = 0;
            while at < response.body.len() {
                let size =
                    i32::from_be_bytes(response.body[at..at + 4].try_into().unwrap()) as usize;
                let view = RecordView::decode(&response.body[at..at + size]).unwrap();
                let key = properties::find(view.properties(), keys::KEYS).unwrap();
                from_slave.insert(key.to_owned());
                at += size;
            }
            offset = header.next_begin_offset;
        }
    }
    assert_eq!(from_slave.len(), 2000, "direct pulls from the slave");

    // With the master stopped, the C++ consumer reads from the slave.
    pair.stop_master();
    let delivered = consume_and_check(&pair, "Keyed", &acked);
    eprintln!(
        "burst: {} msg/s ({} messages); max lag seen {} bytes; drained {drained:?} after the \
         burst; slave delivered {delivered}; total {:?}",
        burst["msgs_per_sec"],
        burst["messages"],
        max_lag.load(Ordering::Relaxed),
        started.elapsed()
    );
}

#[test]
fn a_slave_copies_topics_consumer_offsets_groups_and_delay_offsets_from_its_master() {
    let started = Instant::now();
    let pair = Pair::start("ASYNC_MASTER", "ASYNC_FLUSH", "");
    let master = pair.master.addr.clone();
    let ok = |r: RemotingCommand| assert_eq!(r.code, ResponseCode::Success as i32, "{r:?}");
    let topic = CreateTopicRequestHeader {
        topic: "Meta".into(),
        default_topic: "TBW102".into(),
        read_queue_nums: 2,
        write_queue_nums: 2,
        perm: 6,
        topic_filter_type: TopicFilterType::SingleTag,
        topic_sys_flag: None,
        order: false,
        attributes: None,
        force: None,
    };
    ok(pair.request(
        &master,
        RemotingCommand::request_with_header(RequestCode::UpdateAndCreateTopic, &topic),
    ));
    ok(pair.request(
        &master,
        RemotingCommand::request(RequestCode::UpdateAndCreateSubscriptiongroup)
            .with_body("{\"groupName\":\"meta-group\",\"retryMaxTimes\":5}"),
    ));
    let commit = UpdateConsumerOffsetRequestHeader {
        consumer_group: "meta-group".into(),
        topic: "Meta".into(),
        queue_id: 1,
        commit_offset: 42,
    };
    ok(pair.request(
        &master,
        RemotingCommand::request_with_header(RequestCode::UpdateConsumerOffset, &commit),
    ));
    // A delayed message (level 1, 1 s): once delivered, level 1's offset is 1.
    let mut delayed = send_keyed("Meta", "later");
    let props = format!("{}DELAY\u{1}1\u{2}", &delayed.ext_fields["properties"]);
    delayed.ext_fields.insert("properties", props);
    ok(pair.request(&master, delayed));

    let slave = pair.slave.addr.clone();
    let text = |code| {
        let response = pair.request(&slave, RemotingCommand::request(code));
        String::from_utf8_lossy(&response.body).into_owned()
    };
    let delay_file = pair.slave.store.join("config/delayOffset.json");
    pair.wait_until(
        "the slave's metadata sync copies everything",
        Duration::from_secs(40),
        || {
            let topics = TopicConfigSerializeWrapper::decode(
                text(RequestCode::GetAllTopicConfig).as_bytes(),
            )
            .unwrap();
            let groups = text(RequestCode::GetAllSubscriptiongroupConfig);
            let offsets = text(RequestCode::GetAllConsumerOffset).replace(char::is_whitespace, "");
            let delays = std::fs::read_to_string(&delay_file)
                .unwrap_or_default()
                .replace(char::is_whitespace, "");
            topics
                .topic_config_table
                .get("Meta")
                .is_some_and(|t| t.read_queue_nums == 2)
                && groups.contains("\"meta-group\"")
                && groups.contains("\"retryMaxTimes\":5")
                && offsets.contains("\"Meta@meta-group\":{1:42}")
                && delays.contains("1:1")
        },
    );
    eprintln!("slave metadata in sync after {:?}", started.elapsed());
}
