//! The `rmq-namesrv` binary: starts from a config file, answers, stops cleanly on SIGTERM, and
//! refuses invalid config values.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use rmq_remoting::Client;

const BIN: &str = env!("CARGO_BIN_EXE_rmq-namesrv");
const READY_LINE: &str = "rmq-namesrv listening on ";

/// Waits up to `limit` for the process to exit; kills it and fails if it does not.
fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rmq-namesrv did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Forwards the child's stderr lines to a channel (also echoed, for failing-test output).
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("[rmq-namesrv] {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::test]
async fn the_binary_serves_from_a_config_file_and_exits_zero_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("namesrv.properties");
    std::fs::write(
        &config,
        format!(
            "# a free loopback port\nlistenPort=0\nbindAddress=127.0.0.1\nkvConfigPath={}\nrocketmqHome=/opt/unused\n",
            dir.path().join("kv").join("kvConfig.json").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("-c")
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);

    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(error) => {
                let _ = child.kill();
                panic!("no `{READY_LINE}` line from rmq-namesrv: {error}");
            }
        };
        if let Some(at) = line.find(READY_LINE) {
            let rest = &line[at + READY_LINE.len()..];
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let response = Client::default()
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(response.code, i32::from(ResponseCode::Success));

    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn an_invalid_config_value_fails_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("namesrv.properties");
    std::fs::write(&config, "listenPort=abc\n").unwrap();
    let mut child = Command::new(BIN)
        .arg("-c")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert!(!status.success(), "exit status {status:?}");
    let stderr: Vec<String> = lines.iter().collect();
    let stderr = stderr.join("\n");
    assert!(
        stderr.contains("listenPort") && stderr.contains("abc"),
        "stderr: {stderr}"
    );
}
