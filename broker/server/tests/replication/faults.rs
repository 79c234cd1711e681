//! Faults of a broker group: a master killed right after creating topics and groups, a frozen
//! slave, a slave killed under load (cases 5 and 6 of the binary's list).

use std::time::{Duration, Instant};

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};

use super::cluster::{Pair, finish};
use super::support::send_keyed;
use super::{acknowledged, assert_logs_identical, consume_as_and_check, produce_args};

#[test]
fn a_master_killed_right_after_creating_topics_and_groups_leaves_their_messages_readable_on_the_slave()
 {
    // Groups exist only where an admin created them: the slave cannot auto-create its way past
    // a group its metadata sync has not copied yet.
    let mut pair = Pair::start(
        "SYNC_MASTER",
        "SYNC_FLUSH",
        "autoCreateSubscriptionGroup=false",
    );
    let master = pair.master.addr.clone();
    let started = Instant::now();
    let mut acked_by_topic = Vec::new();
    for k in 0..3 {
        let topic = format!("Fresh{k}");
        let group = format!("fresh-group-{k}");
        let created = pair.request(
            &master,
            RemotingCommand::request(RequestCode::UpdateAndCreateSubscriptiongroup)
                .with_body(format!("{{\"groupName\":\"{group}\"}}")),
        );
        assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
        // The topic is auto-created by its first send.
        let prefix = format!("f{k}-");
        let (produced, ok) = pair.client("cpp_produce.py", &produce_args(&topic, &prefix, "300"));
        assert!(ok, "producer failed: {}", produced["error"]);
        let (acked, statuses) = acknowledged(&produced, &prefix);
        assert_eq!(statuses.get("SEND_OK"), Some(&300), "{statuses:?}");
        acked_by_topic.push((topic, group, acked));
    }
    // The last topic and group are a second or two old: no periodic sync has run since.
    pair.kill_master();
    let killed_at = started.elapsed();

    for (topic, group, acked) in &acked_by_topic {
        let delivered = consume_as_and_check(&pair, topic, group, acked);
        assert!(delivered >= acked.len());
    }
    eprintln!(
        "master killed {killed_at:?} after the first topic was created; the slave served all {} \
         acknowledged messages of {} topics in {:?}",
        acked_by_topic
            .iter()
            .map(|(_, _, a)| a.len())
            .sum::<usize>(),
        acked_by_topic.len(),
        started.elapsed()
    );
}

#[test]
fn a_frozen_slave_gets_sync_master_sends_answered_flush_slave_timeout_in_time_and_the_group_recovers()
 {
    let pair = Pair::start("SYNC_MASTER", "SYNC_FLUSH", "syncFlushTimeout=2000");
    let master = pair.master.addr.clone();
    let send = |key: &str| pair.request(&master, send_keyed("Frozen", key));
    assert_eq!(send("before").code, ResponseCode::Success as i32);

    pair.freeze_slave(true);
    let mut answers = Vec::new();
    for i in 0..3 {
        let started = Instant::now();
        let response = send(&format!("frozen-{i}"));
        let took = started.elapsed();
        answers.push((response.code, took));
        // The master waits syncFlushTimeout (2 s) for the slave, then answers; never longer.
        assert!(took < Duration::from_millis(3500), "send {i} took {took:?}");
        assert!(
            [
                ResponseCode::FlushSlaveTimeout as i32,
                ResponseCode::SlaveNotAvailable as i32
            ]
            .contains(&response.code),
            "send {i} to a frozen slave's master: {response:?}"
        );
    }
    assert_eq!(
        answers[0].0,
        ResponseCode::FlushSlaveTimeout as i32,
        "{answers:?}"
    );

    pair.freeze_slave(false);
    pair.wait_until(
        "sends succeed again once the slave runs",
        Duration::from_secs(30),
        || send("after").code == ResponseCode::Success as i32,
    );
    pair.wait_caught_up(Duration::from_secs(30));
    let slave_max = pair.max_offset(&pair.slave.addr);
    assert_logs_identical(&pair, slave_max);
    eprintln!("answers while the slave was frozen: {answers:?}");
}

#[test]
fn a_slave_killed_under_load_restarts_catches_up_and_holds_every_record_once() {
    let mut pair = Pair::start("ASYNC_MASTER", "ASYNC_FLUSH", "");
    let mut producer =
        pair.spawn_client("cpp_produce.py", &produce_args("SlaveKill", "s-", "6000"));
    pair.wait_until("the producer is under way", Duration::from_secs(60), || {
        // A producer that ended early is reported by `finish` below, with its own words.
        matches!(producer.try_wait(), Ok(Some(_)))
            || pair.runtime_info(&pair.master.addr)["msgPutTotalTodayNow"]
                .parse::<u64>()
                .unwrap()
                >= 1000
    });
    pair.kill_slave();
    std::thread::sleep(Duration::from_millis(500));
    pair.start_slave();
    let (produced, ok) = finish("cpp_produce.py", producer);
    assert!(ok, "producer failed: {}", produced["error"]);
    let (acked, statuses) = acknowledged(&produced, "s-");
    assert_eq!(statuses.get("SEND_OK"), Some(&6000), "{statuses:?}");
    pair.wait_caught_up(Duration::from_secs(60));
    let slave_max = pair.max_offset(&pair.slave.addr);
    assert_eq!(slave_max, pair.max_offset(&pair.master.addr));
    // Byte-identical logs: nothing the slave had was appended again after its restart.
    assert_logs_identical(&pair, slave_max);
    // And the slave serves every message once the master is gone.
    pair.kill_master();
    let delivered = consume_as_and_check(&pair, "SlaveKill", "after-slave-kill", &acked);
    assert_eq!(delivered, acked.len());
}
