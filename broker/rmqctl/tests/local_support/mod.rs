//! What the `rmqctl up`/`down` tests share: running `rmqctl` within a bound, and killing what a
//! failed test's cluster left running.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rmqctl::local::pids::PidsFile;
use rmqctl::local::plan::{BROKER_PORT_OFFSET, BROKER_PORT_STEP};
use rmqctl::local::process::{Liveness, liveness};
use serde_json::Value;

/// Longest a single `rmqctl` run may take: `up` waits at most 30 s for listening, 30 s for
/// registration and 30 s for replication; `down` at most 2 × (20 s + 5 s).
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

pub fn rmqctl_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rmqctl"))
}

/// Runs `command` to completion within [`RUN_LIMIT`], output captured; SIGKILL past it.
pub fn run_bounded(command: &mut Command) -> Output {
    run_within(command, RUN_LIMIT)
}

/// Runs `command` to completion within `limit`, output captured; SIGKILL past it.
pub fn run_within(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match result.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{command:?} still running after {limit:?}");
        }
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kills (SIGKILL) every process of the state directory's pids.json that still runs, when a
/// test ends early; `down` is what the tests check, this only keeps a failure from leaking.
pub struct Leftovers(pub PathBuf);

impl Drop for Leftovers {
    fn drop(&mut self) {
        let Ok(Some(pids)) = PidsFile::read(&self.0.join("pids.json")) else {
            return;
        };
        for p in &pids.processes {
            if liveness(p.pid, p.start_time) == Liveness::Running {
                let _ = Command::new("kill")
                    .args(["-9", &p.pid.to_string()])
                    .status();
            }
        }
    }
}

/// The checkout.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `rmqctl` to completion within [`RUN_LIMIT`].
pub fn rmqctl(args: &[&str]) -> Output {
    run_bounded(Command::new(rmqctl_bin()).args(args))
}

/// A base port with 4 name servers' ports (and their metrics ports, + 10) and `brokers`
/// brokers' ports (listen - 2, listen, listen + 1, + 2 for metrics, + 3 for health) free now.
pub fn free_base_port(brokers: u16) -> u16 {
    // Tests of one process (`cargo test`) each get their own start as well.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A cluster spans ~1,100 ports, and restarts its processes on them: it lives in 10,000..
    // 19,000, below both the kernel's ephemeral range (where any client's outgoing connection
    // can take a port between a stop and a start) and the 20,000.. range other tests' servers
    // use (`broker/server/tests/common/ports.rs`). 8 slots of 1,117, one per test process
    // (and call), so tests started together do not pick overlapping blocks.
    let slot = (std::process::id() + call * 7) % 8;
    (0..8u32)
        .map(|i| u16::try_from(10_000 + ((slot + i) % 8) * 1_117).unwrap())
        .find(|&base| {
            let mut ports: Vec<u16> = (0..4).flat_map(|i| [base + i, base + 10 + i]).collect();
            for b in 0..brokers {
                let listen = base + BROKER_PORT_OFFSET + BROKER_PORT_STEP * b;
                ports.extend([listen - 2, listen, listen + 1, listen + 2, listen + 3]);
            }
            ports
                .iter()
                .all(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        })
        .expect("no free block of ports")
}

/// The command line of an independent client of tests/clients.
pub fn client_command(program: &str, namesrv: &str, home: &Path, args: &[&str]) -> Command {
    let python = repo().join(".tools/py/bin/python");
    assert!(
        python.exists(),
        "independent clients are not installed: run scripts/install-clients.sh"
    );
    let mut command = Command::new(python);
    command
        .arg(repo().join("tests/clients").join(program))
        .args(["--namesrv", namesrv, "--log-home"])
        .arg(home)
        .args(args);
    command
}

/// The JSON line a client printed last; it must have succeeded.
pub fn client_result(program: &str, output: &Output) -> Value {
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

/// Runs a client to completion.
pub fn client(program: &str, namesrv: &str, home: &Path, args: &[&str]) -> Value {
    let output = client_command(program, namesrv, home, args)
        .output()
        .unwrap();
    client_result(program, &output)
}

/// Stops the cluster even when an assertion fails.
pub struct Down(pub PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = rmqctl(&["down", "--dir", self.0.to_str().unwrap()]);
    }
}

/// `rmqctl up -f <manifest> --dir <dir> --base-port <base> --detach`.
pub fn up_detached(manifest: &Path, dir: &Path, base: u16) -> Output {
    rmqctl(&[
        "up",
        "-f",
        manifest.to_str().unwrap(),
        "--dir",
        dir.to_str().unwrap(),
        "--base-port",
        &base.to_string(),
        "--detach",
    ])
}
