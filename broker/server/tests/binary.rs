#![allow(clippy::unwrap_used)]
//! The `rmq-broker` binary: configuration errors stop it with the key named; SIGTERM stops it
//! cleanly (exit 0, no `abort` marker left, so the next start is a normal recovery).

#[path = "common/ports.rs"]
mod ports;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn an_invalid_config_value_stops_the_broker_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("broker.conf");
    std::fs::write(&conf, "brokerName=b\nflushDiskType=SOMETIMES\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rmq-broker"))
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("flushDiskType"), "{stderr}");
    assert!(stderr.contains("SOMETIMES"), "{stderr}");
}

#[test]
fn a_missing_config_file_is_named_in_the_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_rmq-broker"))
        .args(["-c", "/nonexistent/broker.conf"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/broker.conf"));
}

#[test]
fn sigterm_shuts_the_broker_down_cleanly_and_removes_the_abort_marker() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let conf = dir.path().join("broker.conf");
    let port = ports::free_port();
    std::fs::write(
        &conf,
        format!(
            "listenPort={port}\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
             storePathRootDir={}\nmappedFileSizeCommitLog=1048576\nunknownFutureKey=1\n",
            store.display()
        ),
    )
    .unwrap();
    let log = dir.path().join("broker.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rmq-broker"))
        .arg("-c")
        .arg(&conf)
        .env("NO_COLOR", "1")
        .stderr(std::fs::File::create(&log).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    while !text.contains("listening on") {
        assert!(Instant::now() < deadline, "never listened:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
        text.clear();
        std::fs::File::open(&log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
    }
    assert!(
        text.contains("unknownFutureKey"),
        "unknown key not logged:\n{text}"
    );
    assert!(
        store.join("abort").exists(),
        "a running store keeps its abort marker"
    );
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(
        !store.join("abort").exists(),
        "clean shutdown must remove the abort marker"
    );
}
