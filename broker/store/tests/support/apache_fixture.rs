//! The stores written by the real Apache RocketMQ 4.9.4 broker in
//! `../shared/fixtures/apache-4.9.4-stores`: unpacking one, the list of every message its client
//! saw acknowledged, and the store settings Apache ran with. Shared by the store's and the
//! broker's tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One line of `acked.tsv`.
#[derive(Debug, Clone)]
pub struct Acked {
    pub kind: String,
    pub topic: String,
    pub queue_id: i32,
    pub queue_offset: u64,
    pub msg_id: String,
    pub keys: String,
    pub body_len: usize,
    pub body_sha256: String,
}

pub fn fixtures_dir() -> PathBuf {
    // Both users are crates two levels below the repository, which has `shared/` beside it.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/apache-4.9.4-stores")
}

/// Unpacks fixture `name` (`clean` or `killed`) into a new temp dir; returns it and its store.
pub fn unpack(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let archive = fixtures_dir().join(format!("apache-4.9.4-{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "tar xzf {}", archive.display());
    let store = dir.path().join("store");
    (dir, store)
}

pub fn acked(store: &Path) -> Vec<Acked> {
    std::fs::read_to_string(store.join("acked.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "{line}");
            Acked {
                kind: f[0].into(),
                topic: f[1].into(),
                queue_id: f[2].parse().unwrap(),
                queue_offset: f[3].parse().unwrap(),
                msg_id: f[4].into(),
                keys: f[5].into(),
                body_len: f[7].parse().unwrap(),
                body_sha256: f[8].into(),
            }
        })
        .collect()
}

/// The store keys of the `broker.conf` Apache ran with (`broker.conf.used`), without its paths:
/// file sizes, index sizes, delay levels, flush mode.
pub fn store_settings(store: &Path) -> Vec<(String, String)> {
    const STORE_KEYS: [&str; 6] = [
        "mappedFileSizeCommitLog",
        "mappedFileSizeConsumeQueue",
        "maxHashSlotNum",
        "maxIndexNum",
        "messageDelayLevel",
        "flushDiskType",
    ];
    std::fs::read_to_string(store.join("broker.conf.used"))
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| STORE_KEYS.contains(&key.trim()))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect()
}
