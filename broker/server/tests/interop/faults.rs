//! Faults with real processes and independent clients, each asserting that every acknowledged
//! message is consumed intact and that nothing is stored twice except what a client resent:
//!
//! - `kill -9` of a SYNC_FLUSH broker at random points under load, many rounds on one store;
//! - a full disk: sends refused with SERVICE_NOT_AVAILABLE, pulls served, sends accepted again
//!   once space is freed;
//! - every name server stopped: clients that have routes keep sending and consuming, and the
//!   broker registers again when a name server returns.
//!
//! `FAULT_ROUNDS` (default 20) and `FAULT_SEED` (default: the clock, printed) steer the kill
//! rounds; `scripts/soak-kill.sh` runs many more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rmq_protocol::code::ResponseCode;
use serde_json::Value;

use crate::harness::{Cluster, finish_any};

/// A small deterministic generator (xorshift64*), so a failing round can be replayed.
struct Rng(u64);

impl Rng {
    fn from_env() -> Rng {
        let seed = std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("FAULT_SEED={seed}");
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// The body `cpp_produce.py` and `ons_produce.js` give message `i` with `--body-size size`.
fn body_of(i: u64, size: usize) -> String {
    let mut body = format!("msg-{i}");
    while body.len() < size {
        body.push('.');
    }
    body
}

/// Keys and bodies of the messages a producer run got SEND_OK for.
fn acknowledged(produced: &Value, prefix: &str, size: usize) -> BTreeMap<String, String> {
    produced["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|r| r["status"] == "SEND_OK")
        .map(|r| {
            let i = r["i"].as_u64().unwrap();
            (format!("{prefix}{i}"), body_of(i, size))
        })
        .collect()
}

/// What a consumer run shows about a set of acknowledged messages.
#[derive(Debug, Default)]
struct Tally {
    acked: usize,
    consumed: usize,
    lost: Vec<String>,
    changed: Vec<String>,
    /// Keys stored at more than one commit log offset (a resend by the client).
    stored_twice: usize,
    /// Deliveries of different queue positions that point at one record (never allowed).
    aliased: usize,
}

/// Consumes `topic` with a new C++ consumer group (`group`) from the first offset until every
/// acknowledged message arrived, and tallies the deliveries against `acked`.
fn consume_and_tally(
    cluster: &Cluster,
    topic: &str,
    group: &str,
    acked: &BTreeMap<String, String>,
) -> Tally {
    let expect = acked.len().to_string();
    let consumed = cluster.client(
        "cpp_consume.py",
        &[
            "--topic",
            topic,
            "--group",
            group,
            "--expect",
            &expect,
            "--timeout-s",
            "180",
            "--idle-s",
            "3",
        ],
    );
    let mut offsets_by_key: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut body_by_key = BTreeMap::new();
    let mut position_by_record: BTreeMap<i64, BTreeSet<(i64, i64)>> = BTreeMap::new();
    for m in consumed["received"].as_array().unwrap() {
        let key = m["keys"].as_str().unwrap_or("").to_owned();
        let record = m["commit_log_offset"].as_i64().unwrap();
        offsets_by_key
            .entry(key.clone())
            .or_default()
            .insert(record);
        body_by_key.insert(key, m["body"].as_str().unwrap_or("").to_owned());
        position_by_record.entry(record).or_default().insert((
            m["queue_id"].as_i64().unwrap(),
            m["offset"].as_i64().unwrap(),
        ));
    }
    let mut tally = Tally {
        acked: acked.len(),
        consumed: offsets_by_key.len(),
        ..Tally::default()
    };
    for (key, body) in acked {
        match body_by_key.get(key) {
            None => tally.lost.push(key.clone()),
            Some(got) if got != body => tally.changed.push(key.clone()),
            Some(_) => {}
        }
    }
    tally.stored_twice = offsets_by_key.values().filter(|o| o.len() > 1).count();
    tally.aliased = position_by_record.values().filter(|p| p.len() > 1).count();
    tally
}

fn assert_nothing_lost(what: &str, tally: &Tally) {
    eprintln!("{what}: {tally:?}");
    assert!(
        tally.lost.is_empty(),
        "{what}: {} acknowledged messages lost, first {:?}",
        tally.lost.len(),
        &tally.lost[..tally.lost.len().min(10)]
    );
    assert!(
        tally.changed.is_empty(),
        "{what}: bodies changed: {:?}",
        tally.changed
    );
    assert_eq!(
        tally.aliased, 0,
        "{what}: one record served at two queue positions"
    );
}

#[test]
fn sigkill_of_a_sync_flush_broker_at_random_points_under_load_loses_no_acknowledged_message() {
    let rounds: u64 = std::env::var("FAULT_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng::from_env();
    // Small commit log files, so that kills also land on file rolls.
    let mut cluster = Cluster::start("flushDiskType=SYNC_FLUSH\nmappedFileSizeCommitLog=1048576\n");
    // ali-ons creates no topics: the first round's C++ producer does.
    let mut acked = BTreeMap::new();
    let started = Instant::now();
    for round in 0..rounds {
        let prefix = format!("r{round}-");
        let size = rng.between(8, 3000) as usize;
        let program = if round % 2 == 0 || round == 0 {
            "cpp_produce.py"
        } else {
            "ons_produce.js"
        };
        let size_arg = size.to_string();
        let producer = cluster.spawn_client(
            program,
            &[
                "--topic",
                "Crash",
                "--group",
                "pg",
                "--count",
                "1000000",
                "--key-prefix",
                &prefix,
                "--body-size",
                &size_arg,
                "--timeout-s",
                "60",
            ],
        );
        // Producers take about a second to start; kill anywhere from before the first send to
        // deep into the stream.
        std::thread::sleep(Duration::from_millis(rng.between(300, 2500)));
        cluster.kill_broker();
        let (produced, _) = finish_any(program, producer);
        let got = acknowledged(&produced, &prefix, size);
        eprintln!(
            "round {round}: {program} acked {} before the kill",
            got.len()
        );
        acked.extend(got);
        cluster.start_broker();
        assert!(
            !cluster.broker_log().contains("refusing to start"),
            "recovery refused the store after a kill:\n{}",
            cluster.broker_log()
        );
    }
    let tally = consume_and_tally(&cluster, "Crash", "after-kills", &acked);
    assert_nothing_lost(&format!("{rounds} kill -9 rounds"), &tally);
    // Sends in flight at a kill were stored but never acknowledged: they may arrive, once.
    eprintln!(
        "{rounds} rounds: acked {}, consumed {} (unacknowledged in-flight sends delivered: {}), \
         lost 0, stored twice {}, {:?}",
        tally.acked,
        tally.consumed,
        tally.consumed - tally.acked,
        tally.stored_twice,
        started.elapsed()
    );
}

/// A size-limited tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, mib: u64) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mounting a {mib} MiB tmpfs at {} failed: this test needs root",
            dir.display()
        );
        SmallDisk {
            dir: dir.to_path_buf(),
        }
    }

    /// Writes zeroes to `name` until the disk is full or `max_mib` are written.
    fn fill(&self, name: &str, max_mib: u64) {
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=1M"])
            .arg(format!("of={}", self.dir.join(name).display()))
            .arg(format!("count={max_mib}"))
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_refuses_sends_keeps_serving_pulls_and_takes_sends_again_once_space_is_freed() {
    let base = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&base.path().join("disk"), 48);
    let store = disk.dir.join("store");
    let mut cluster = Cluster::start(&format!(
        "storePathRootDir={}\nflushDiskType=SYNC_FLUSH\nmappedFileSizeCommitLog=4194304\n\
         mappedFileSizeConsumeQueue=60000\nmaxHashSlotNum=1000\nmaxIndexNum=4000\n\
         cleanResourceInterval=200\n",
        store.display()
    ));
    let send = |cluster: &mut Cluster, i: u64| {
        let header = crate::support::send_header("Full", format!("KEYS\u{1}k{i}\u{2}"));
        let request = crate::support::send_request(&header, &body_of(i, 2000));
        match cluster.request(&cluster.broker_addr, request) {
            Ok(response) => response,
            Err(error) => panic!(
                "send {i}: {error}; broker exit status: {:?}",
                cluster.broker_exit()
            ),
        }
    };
    // Some messages while there is room.
    let mut acked = BTreeMap::new();
    for i in 0..200 {
        let response = send(&mut cluster, i);
        assert_eq!(response.code, ResponseCode::Success as i32, "{response:?}");
        acked.insert(format!("k{i}"), body_of(i, 2000));
    }
    // Something else takes the rest of the disk.
    disk.fill("filler", 48);
    let mut refused = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 200;
    while refused.is_none() && Instant::now() < deadline {
        let response = send(&mut cluster, i);
        if response.code == ResponseCode::Success as i32 {
            acked.insert(format!("k{i}"), body_of(i, 2000));
        } else {
            refused = Some(response);
        }
        i += 1;
    }
    let refused = refused.expect("sends were never refused on a full disk");
    assert_eq!(
        refused.code,
        ResponseCode::ServiceNotAvailable as i32,
        "{refused:?}"
    );
    assert_eq!(
        cluster.broker_exit(),
        None,
        "the broker died on a full disk"
    );
    // Acknowledged messages are still served while the disk is full.
    let tally = consume_and_tally(&cluster, "Full", "while-full", &acked);
    assert_nothing_lost("disk full", &tally);

    // Space comes back: sends are taken again.
    std::fs::remove_file(disk.dir.join("filler")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = send(&mut cluster, i);
        if response.code == ResponseCode::Success as i32 {
            acked.insert(format!("k{i}"), body_of(i, 2000));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sends still refused 30 s after space was freed: {response:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
        i += 1;
    }
    cluster.stop_broker();
    cluster.start_broker();
    let tally = consume_and_tally(&cluster, "Full", "after-freed", &acked);
    assert_nothing_lost("after the disk was freed and the broker restarted", &tally);
}

#[test]
fn with_every_name_server_stopped_routed_clients_keep_working_and_the_broker_registers_again() {
    let mut cluster = Cluster::start("registerNameServerPeriod=2000\n");
    // A consumer and a producer that have their routes before the name server goes.
    let first = cluster.client(
        "cpp_produce.py",
        &[
            "--topic",
            "NoNs",
            "--group",
            "pg",
            "--count",
            "10",
            "--key-prefix",
            "first-",
        ],
    );
    let mut acked = acknowledged(&first, "first-", 0);
    // Several seconds of sends. Between the clients' route refreshes: the C++ client 1.2
    // refreshes 3 s after it starts and every 30 s after, and drops a topic's route when a
    // refresh fails ("No route info of this topic", with any broker), so the name server stops
    // after the first refresh and the sends end before the second; an outage across a refresh
    // measures the client.
    const COUNT: usize = 20_000;
    let expect = (COUNT + 10).to_string();
    let count = COUNT.to_string();
    let consumer = cluster.spawn_client(
        "cpp_consume.py",
        &[
            "--topic",
            "NoNs",
            "--group",
            "during-outage",
            "--expect",
            &expect,
            "--timeout-s",
            "240",
            "--idle-s",
            "2",
        ],
    );
    let producer = cluster.spawn_client(
        "cpp_produce.py",
        &[
            "--topic",
            "NoNs",
            "--group",
            "pg",
            "--count",
            &count,
            "--key-prefix",
            "n-",
            "--body-size",
            "100",
            "--timeout-s",
            "200",
        ],
    );
    std::thread::sleep(Duration::from_secs(6));
    cluster.stop_namesrv();
    let outage = Instant::now();
    let (produced, ok) = finish_any("cpp_produce.py", producer);
    assert!(
        ok,
        "the producer failed without a name server: {}",
        produced["error"]
    );
    let sent = acknowledged(&produced, "n-", 100);
    assert_eq!(sent.len(), COUNT);
    acked.extend(sent);
    let (consumed, ok) = finish_any("cpp_consume.py", consumer);
    assert!(
        ok,
        "the consumer failed without a name server: {}",
        consumed["error"]
    );
    let during: BTreeSet<&str> = consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["keys"].as_str())
        .collect();
    assert!(acked.keys().all(|k| during.contains(k.as_str())));
    eprintln!(
        "name server down for {:?}; {} sent and consumed meanwhile",
        outage.elapsed(),
        acked.len()
    );

    // The name server returns with an empty table; the broker registers again by itself, and a
    // client that needs a route gets one.
    cluster.start_namesrv();
    crate::harness::process::wait_until_log(&cluster.namesrv_log(), |text| {
        text.contains("new broker registered")
    });
    let tally = consume_and_tally(&cluster, "NoNs", "after-outage", &acked);
    assert_nothing_lost("name server stopped and restarted", &tally);
}
