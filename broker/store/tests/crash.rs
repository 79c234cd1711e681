//! Real crash test: a child process appends under SYNC_FLUSH and reports each acknowledged
//! message; it is killed with SIGKILL at random moments; after each kill the store is reopened and
//! every acknowledged message must be there, byte for byte, and nothing past the valid end served.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rmq_protocol::message::record::RecordView;
use rmq_store::{GetRequest, GetStatus, MessageStore, StoreConfig};

fn body(seq: u64) -> Vec<u8> {
    let unit = format!("msg-{seq}-");
    unit.as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(64 + (seq % 200) as usize)
        .collect()
}

fn config(root: &std::path::Path) -> StoreConfig {
    let mut config = StoreConfig::new(root);
    config.commit_log_file_size = 64 * 1024;
    config.consume_queue_file_size = 100 * 20;
    config.max_index_num = 10_000;
    config.max_hash_slot_num = 1_000;
    config
}

/// Runs the writer until `after` elapsed, SIGKILLs it, returns the acknowledged (seq → offset).
fn run_and_kill(root: &std::path::Path, first: u64, after: Duration) -> BTreeMap<u64, u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-crash-writer"))
        .args([root.to_str().unwrap(), &first.to_string(), "1000000", "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split(' ');
            if parts.next() == Some("ACK") {
                let seq: u64 = parts.next().unwrap().parse().unwrap();
                let off: u64 = parts.next().unwrap().parse().unwrap();
                if tx.send((seq, off)).is_err() {
                    break;
                }
            }
        }
    });
    std::thread::sleep(after);
    // SIGKILL: no destructor, no flush, no clean shutdown.
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    rx.try_iter().collect()
}

#[test]
fn every_acknowledged_message_survives_sigkill_and_nothing_past_the_torn_tail_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut first = 0u64;
    // A small deterministic pseudo-random sequence of kill delays.
    let mut seed = 0x9E37_79B9_u64;
    for round in 0..5 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_millis(300 + (seed >> 33) % 700);
        let got = run_and_kill(dir.path(), first, delay);
        assert!(
            !got.is_empty(),
            "round {round}: the writer acknowledged nothing"
        );
        first = got.keys().max().unwrap() + 1_000_000;
        acked.extend(got);

        let started = Instant::now();
        let (store, report) = MessageStore::open_with_report(config(dir.path())).unwrap();
        assert!(
            report.abnormal,
            "round {round}: a SIGKILL must be seen as a crash"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        for (seq, offset) in &acked {
            let raw = store.read_record(*offset).unwrap_or_else(|| {
                panic!("round {round}: acked message {seq} at {offset} is gone")
            });
            let view = RecordView::decode(&raw).unwrap();
            view.verify().unwrap();
            assert_eq!(
                view.body(),
                body(*seq).as_slice(),
                "round {round}: message {seq} differs"
            );
        }
        // Everything the consume queue serves is a valid record below the recovered end.
        assert!(store.wait_dispatched(Duration::from_secs(10)));
        let max = store.max_offset_in_queue("CrashTopic", 0);
        let mut offset = 0;
        let mut served = 0u64;
        while offset < max {
            let r = store.get_message(&GetRequest {
                topic: "CrashTopic",
                queue_id: 0,
                offset,
                max_count: 32,
                max_bytes: 1 << 20,
                filter: None,
            });
            assert_eq!(r.status, GetStatus::Found, "round {round} at {offset}");
            for raw in &r.messages {
                let view = RecordView::decode(raw).unwrap();
                view.verify().unwrap();
                assert!((view.physical_offset() as u64) < store.commit_log_max_offset());
                served += 1;
            }
            offset = r.next_begin_offset;
        }
        assert!(
            served >= acked.len() as u64,
            "round {round}: served {served} < acked {}",
            acked.len()
        );
        assert!(store.read_record(store.commit_log_max_offset()).is_none());
        store.shutdown();
    }
}
