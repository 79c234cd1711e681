use super::*;

const MIB: u64 = 1 << 20;

fn master() -> Master<u32> {
    Master::new(MasterConfig {
        file_size: 64 * MIB,
        fall_behind_max: 256 * MIB,
        wait_timeout: Duration::from_secs(3),
        heartbeat_interval: Duration::from_secs(5),
    })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_waiter_completes_when_a_slave_reports_its_end_offset() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    assert!(m.on_report(s, 0, 0).unwrap().is_empty());
    assert_eq!(
        m.register_wait(100, t0, 1),
        Registered::Waiting(t0 + ms(3000))
    );
    assert_eq!(
        m.register_wait(200, t0, 2),
        Registered::Waiting(t0 + ms(3000))
    );
    assert_eq!(m.on_report(s, 99, 200).unwrap(), vec![]);
    assert_eq!(
        m.on_report(s, 150, 200).unwrap(),
        vec![(1, ReplicaStatus::Replicated)]
    );
    assert_eq!(m.waiting(), 1);
    assert_eq!(
        m.on_report(s, 200, 200).unwrap(),
        vec![(2, ReplicaStatus::Replicated)]
    );
    assert_eq!(m.waiting(), 0);
}

#[test]
fn waiters_complete_in_end_offset_order_whatever_order_they_registered_in() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 0).unwrap();
    for (token, end) in [(3, 300), (1, 100), (2, 200), (4, 300)] {
        assert!(matches!(
            m.register_wait(end, t0, token),
            Registered::Waiting(_)
        ));
    }
    let done: Vec<u32> = m
        .on_report(s, 300, 300)
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(done, [1, 2, 3, 4]);
}

#[test]
fn an_offset_already_confirmed_is_decided_at_once() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 500, 500).unwrap();
    assert_eq!(
        m.register_wait(400, t0, 7),
        Registered::Decided(7, ReplicaStatus::Replicated)
    );
}

#[test]
fn without_a_connected_slave_a_wait_is_slave_not_available() {
    let t0 = Instant::now();
    let mut m = master();
    assert_eq!(
        m.register_wait(10, t0, 1),
        Registered::Decided(1, ReplicaStatus::SlaveNotAvailable)
    );
    // Connected but silent: where it is is unknown, so it does not count yet.
    let s = m.connect(t0);
    assert_eq!(
        m.register_wait(10, t0, 2),
        Registered::Decided(2, ReplicaStatus::SlaveNotAvailable)
    );
    m.on_report(s, 0, 10).unwrap();
    assert!(matches!(m.register_wait(10, t0, 3), Registered::Waiting(_)));
}

#[test]
fn a_slave_further_behind_than_ha_slave_fallbehind_max_is_not_available() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    let master_max = 1024 * MIB;
    m.on_report(s, 100 * MIB, master_max).unwrap();
    // 356 MiB + 1 byte behind the append's end.
    assert_eq!(
        m.register_wait(356 * MIB + 1, t0, 1),
        Registered::Decided(1, ReplicaStatus::SlaveNotAvailable)
    );
    // Exactly the limit is already too far (Apache: `<`).
    assert_eq!(
        m.register_wait(356 * MIB, t0, 2),
        Registered::Decided(2, ReplicaStatus::SlaveNotAvailable)
    );
    assert!(matches!(
        m.register_wait(356 * MIB - 1, t0, 3),
        Registered::Waiting(_)
    ));
    // Catching up makes it available again.
    m.on_report(s, 900 * MIB, master_max).unwrap();
    assert!(m.slave_available(master_max));
}

#[test]
fn a_waiter_past_its_deadline_times_out_and_a_later_report_does_not_complete_it_again() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 0).unwrap();
    m.register_wait(100, t0, 1);
    m.register_wait(100, t0 + ms(1000), 2);
    assert_eq!(m.next_deadline(), Some(t0 + ms(3000)));
    assert!(m.expire(t0 + ms(2999)).is_empty());
    assert_eq!(m.expire(t0 + ms(3000)), vec![(1, ReplicaStatus::Timeout)]);
    assert_eq!(m.next_deadline(), Some(t0 + ms(4000)));
    assert_eq!(
        m.on_report(s, 100, 100).unwrap(),
        vec![(2, ReplicaStatus::Replicated)]
    );
    assert!(m.expire(t0 + ms(10_000)).is_empty());
}

#[test]
fn after_a_dropped_connection_waiters_time_out_and_new_waits_are_not_available() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 50).unwrap();
    m.register_wait(100, t0, 1);
    m.disconnect(s);
    assert_eq!(m.slaves(), 0);
    assert_eq!(
        m.register_wait(120, t0, 2),
        Registered::Decided(2, ReplicaStatus::SlaveNotAvailable)
    );
    assert!(matches!(
        m.on_report(s, 100, 100),
        Err(ReportError::UnknownSlave(_))
    ));
    assert_eq!(m.expire(t0 + ms(3000)), vec![(1, ReplicaStatus::Timeout)]);
}

#[test]
fn a_slave_that_reconnects_in_time_completes_the_waiters_of_its_old_connection() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 50).unwrap();
    m.register_wait(100, t0, 1);
    m.disconnect(s);
    let again = m.connect(t0 + ms(500));
    assert_ne!(again, s);
    assert!(m.on_report(again, 50, 100).unwrap().is_empty());
    assert_eq!(
        m.next_transfer(again),
        Some(50),
        "resumes from its own offset"
    );
    assert_eq!(
        m.on_report(again, 100, 100).unwrap(),
        vec![(1, ReplicaStatus::Replicated)]
    );
}

#[test]
fn a_slave_reconnecting_from_an_older_offset_is_sent_from_there_and_confirms_only_that() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 9000).unwrap();
    m.on_report(s, 9000, 9000).unwrap();
    m.disconnect(s);
    // Same slave, its store restored from an older copy.
    let again = m.connect(t0);
    m.on_report(again, 4000, 9000).unwrap();
    assert_eq!(m.requested(again), Some(4000));
    assert_eq!(m.next_transfer(again), Some(4000));
    assert_eq!(
        m.best_ack(),
        Some(4000),
        "the old connection's 9000 is gone"
    );
    assert!(matches!(
        m.register_wait(9000, t0, 1),
        Registered::Waiting(_)
    ));
}

#[test]
fn a_new_slave_is_sent_the_masters_last_file_from_its_start() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    assert_eq!(
        m.next_transfer(s),
        None,
        "nothing is sent before the first report"
    );
    m.on_report(s, 0, 3 * 64 * MIB + 777).unwrap();
    assert_eq!(m.next_transfer(s), Some(3 * 64 * MIB));
    m.on_sent(s, 3 * 64 * MIB, 32_768, t0);
    assert_eq!(m.next_transfer(s), Some(3 * 64 * MIB + 32_768));
    // Later reports confirm; they do not move where the stream is.
    m.on_report(s, 3 * 64 * MIB + 100, 3 * 64 * MIB + 777)
        .unwrap();
    assert_eq!(m.next_transfer(s), Some(3 * 64 * MIB + 32_768));
}

#[test]
fn a_slave_ahead_of_the_master_is_refused_even_on_its_first_report() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    assert_eq!(
        m.on_report(s, 101, 100),
        Err(ReportError::SlaveAhead {
            offset: 101,
            master_max: 100
        })
    );
    assert_eq!(m.best_ack(), None, "a refused report confirms nothing");
}

#[test]
fn any_one_slave_confirming_is_enough() {
    let t0 = Instant::now();
    let mut m = master();
    let slow = m.connect(t0);
    let fast = m.connect(t0);
    m.on_report(slow, 0, 100).unwrap();
    m.on_report(fast, 0, 100).unwrap();
    m.register_wait(100, t0, 1);
    assert_eq!(
        m.on_report(fast, 100, 100).unwrap(),
        vec![(1, ReplicaStatus::Replicated)]
    );
    assert_eq!(m.best_ack(), Some(100));
}

#[test]
fn heartbeats_fall_due_after_the_interval_without_writes() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    assert!(
        !m.heartbeat_due(s, t0 + ms(6000)),
        "not before the first report"
    );
    m.on_report(s, 0, 0).unwrap();
    assert!(!m.heartbeat_due(s, t0 + ms(4999)));
    assert!(m.heartbeat_due(s, t0 + ms(5000)));
    m.on_sent(s, 0, 0, t0 + ms(5000));
    assert!(!m.heartbeat_due(s, t0 + ms(9999)));
    assert_eq!(m.heartbeat_at(s), Some(t0 + ms(10_000)));
}

#[test]
fn lag_is_bytes_behind_the_best_slave_and_the_age_of_the_oldest_unconfirmed_append() {
    let t0 = Instant::now();
    let mut m = master();
    assert_eq!(m.lag(100, t0).bytes, None, "no slave: unknown");
    let s = m.connect(t0);
    m.on_report(s, 0, 0).unwrap();
    m.on_append(100, t0);
    m.on_append(200, t0 + ms(10));
    m.on_append(300, t0 + ms(20));
    let lag = m.lag(300, t0 + ms(50));
    assert_eq!(lag.slaves, 1);
    assert_eq!(lag.bytes, Some(300));
    assert_eq!(lag.millis, Some(50));
    m.on_report(s, 150, 300).unwrap();
    let lag = m.lag(300, t0 + ms(50));
    assert_eq!(lag.bytes, Some(150));
    assert_eq!(
        lag.millis,
        Some(40),
        "the append ending at 200 is the oldest unconfirmed"
    );
    m.on_report(s, 300, 300).unwrap();
    assert_eq!(
        m.lag(300, t0 + ms(60)),
        Lag {
            slaves: 1,
            acked: Some(300),
            bytes: Some(0),
            millis: Some(0)
        }
    );
}

#[test]
fn appends_within_a_millisecond_share_one_sample_with_the_older_time() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 0).unwrap();
    for i in 0..100 {
        m.on_append(i * 10 + 10, t0);
    }
    assert_eq!(m.samples.len(), 1);
    m.on_report(s, 500, 1000).unwrap();
    assert_eq!(m.lag(1000, t0 + ms(7)).millis, Some(7));
}

#[test]
fn drain_completes_every_waiter_with_the_given_status() {
    let t0 = Instant::now();
    let mut m = master();
    let s = m.connect(t0);
    m.on_report(s, 0, 0).unwrap();
    m.register_wait(5, t0, 1);
    m.register_wait(6, t0, 2);
    assert_eq!(
        m.drain(ReplicaStatus::Timeout),
        vec![(1, ReplicaStatus::Timeout), (2, ReplicaStatus::Timeout)]
    );
    assert_eq!(m.waiting(), 0);
}
