#![allow(clippy::unwrap_used)]
//! End to end: `rmqctl up` the "no message loss" example (3 name servers, 2 SYNC_MASTER groups
//! with a slave each, SYNC_FLUSH), produce and consume with an independent client (Apache's C++
//! client from PyPI, installed by `scripts/install-clients.sh`), `rmqctl down`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rmqctl::local::plan::{BROKER_PORT_OFFSET, BROKER_PORT_STEP};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rmqctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmqctl"))
        .args(args)
        .output()
        .unwrap()
}

/// A base port with 3 name-server ports and 4 brokers' ports (listen - 2, listen, listen + 1, and + 3 for health)
/// free right now.
fn free_base_port() -> u16 {
    let start = std::process::id() % 700 * 37;
    (0..300u32)
        .map(|i| u16::try_from(21_000 + (start + i * 997) % 38_000).unwrap())
        .find(|&base| {
            let mut ports = vec![base, base + 1, base + 2];
            for b in 0..4 {
                let listen = base + BROKER_PORT_OFFSET + BROKER_PORT_STEP * b;
                ports.extend([listen - 2, listen, listen + 1, listen + 3]);
            }
            ports
                .iter()
                .all(|&p| TcpListener::bind(("127.0.0.1", p)).is_ok())
        })
        .expect("no free block of ports")
}

fn client(program: &str, namesrv: &str, home: &Path, args: &[&str]) -> Value {
    let python = repo().join(".tools/py/bin/python");
    assert!(
        python.exists(),
        "independent clients are not installed: run scripts/install-clients.sh"
    );
    let output = Command::new(python)
        .arg(repo().join("tests/clients").join(program))
        .args(["--namesrv", namesrv, "--log-home"])
        .arg(home)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "{program} printed no JSON: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let value: Value = serde_json::from_str(line).unwrap();
    assert!(output.status.success(), "{program} failed: {value}");
    value
}

/// Stops the cluster even when an assertion fails.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = rmqctl(&["down", "--dir", self.0.to_str().unwrap()]);
    }
}

#[test]
fn up_the_no_message_loss_example_then_produce_consume_and_down() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let base = free_base_port().to_string();
    let manifest = repo().join("deploy/examples/no-message-loss.yaml");
    let up = rmqctl(&[
        "up",
        "-f",
        manifest.to_str().unwrap(),
        "--dir",
        state.to_str().unwrap(),
        "--base-port",
        &base,
        "--detach",
    ]);
    let _down = Down(state.clone());
    let summary = String::from_utf8_lossy(&up.stdout).into_owned();
    assert!(
        up.status.success(),
        "up failed:\n{summary}\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(summary.contains("SYNC_MASTER"), "{summary}");
    assert!(summary.contains("SLAVE"), "{summary}");
    let b: u16 = base.parse().unwrap();
    let namesrv = format!("127.0.0.1:{b};127.0.0.1:{};127.0.0.1:{}", b + 1, b + 2);

    let home = tmp.path().join("cpp-home");
    let produced = client(
        "cpp_produce.py",
        &namesrv,
        &home,
        &[
            "--topic",
            "Payments",
            "--group",
            "pg",
            "--count",
            "200",
            "--key-prefix",
            "pay-",
        ],
    );
    let results = produced["results"].as_array().unwrap();
    assert_eq!(results.len(), 200);
    for result in results {
        // SEND_OK only once the message is on the master's disk and on its slave.
        assert_eq!(result["status"], "SEND_OK", "{result}");
    }
    let consumed = client(
        "cpp_consume.py",
        &namesrv,
        &home,
        &[
            "--topic",
            "Payments",
            "--group",
            "cg",
            "--expect",
            "200",
            "--timeout-s",
            "90",
            "--idle-s",
            "2",
        ],
    );
    assert_eq!(consumed["distinct"], 200, "{consumed}");

    let down = rmqctl(&["down", "--dir", state.to_str().unwrap()]);
    assert!(down.status.success(), "{down:?}");
}
