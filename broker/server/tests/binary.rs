#![allow(clippy::unwrap_used)]
//! The `rmq-broker` binary: configuration errors stop it with the key named; SIGTERM stops it
//! cleanly (exit 0, no `abort` marker left, so the next start is a normal recovery); a broker
//! waiting for its `--broker-ip1-file` is alive, not ready, and stops on SIGTERM.

#[path = "common/ports.rs"]
mod ports;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
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
fn a_set_without_equals_sign_or_with_a_bad_value_stops_the_broker_saying_so() {
    let output = Command::new(env!("CARGO_BIN_EXE_rmq-broker"))
        .args(["--set", "novalue"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("novalue") && stderr.contains("key=value"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_rmq-broker"))
        .args(["--set", "listenPort=eleven"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("listenPort") && stderr.contains("eleven"),
        "{stderr}"
    );
}

/// Waits until the log at `log` contains `what`.
fn wait_for_log(log: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    while !text.contains(what) {
        assert!(Instant::now() < deadline, "never logged {what:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
        text.clear();
        std::fs::File::open(log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
    }
    text
}

/// SIGTERM to `child`, then its exit status.
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status line of `GET path` on 127.0.0.1:`port`.
fn http_status(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn a_broker_waiting_for_its_address_file_is_alive_not_ready_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let conf = dir.path().join("broker.conf");
    let health = ports::free_port();
    std::fs::write(
        &conf,
        format!(
            "listenPort={}\nbindAddress=127.0.0.1\nfastListenEnable=false\nhealthListenPort={health}\n\
             storePathRootDir={}\n",
            ports::free_port(),
            store.display()
        ),
    )
    .unwrap();
    let log = dir.path().join("broker.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rmq-broker"))
        .arg("-c")
        .arg(&conf)
        .arg("--broker-ip1-file")
        .arg(dir.path().join("address"))
        .env("NO_COLOR", "1")
        .stderr(std::fs::File::create(&log).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_log(&log, "waiting for brokerIP1");
    assert!(http_status(health, "/livez").contains("200"));
    assert!(http_status(health, "/readyz").contains("503"));
    let status = terminate(&mut child);
    assert!(status.success(), "{status}");
    assert!(!store.exists(), "nothing was started");
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
    let text = wait_for_log(&log, "listening on");
    assert!(
        text.contains("unknownFutureKey"),
        "unknown key not logged:\n{text}"
    );
    assert!(
        store.join("abort").exists(),
        "a running store keeps its abort marker"
    );
    let status = terminate(&mut child);
    assert!(status.success(), "{status}");
    assert!(
        !store.join("abort").exists(),
        "clean shutdown must remove the abort marker"
    );
}
