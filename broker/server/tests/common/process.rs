#![allow(dead_code)] // shared by several test binaries, each using a subset
//! Child processes for the multi-process tests: where the binaries and the independent clients
//! are, logs on disk, readiness by log line, SIGTERM expecting exit code 0.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "ports.rs"]
mod ports;
pub use ports::free_port;

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A workspace binary built next to `rmq-broker` (`rmq-namesrv`, `rmqctl`, `rmq-bench`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_rmq-broker")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace (`cargo build --workspace`) before these tests",
        path.display()
    );
    path
}

/// The command running one of `tests/clients/*` against `namesrv`; the C++ client's logs go
/// under `home`.
pub fn client_command(program: &str, namesrv: &str, home: &Path, args: &[&str]) -> Command {
    let script = repo().join("tests/clients").join(program);
    let mut command = if program.ends_with(".py") {
        let python = repo().join(".tools/py/bin/python");
        assert!(
            python.exists(),
            "independent clients are not installed: run scripts/install-clients.sh"
        );
        let mut c = Command::new(python);
        c.arg(script).arg("--log-home").arg(home);
        c
    } else {
        let mut c = Command::new("node");
        c.arg(script);
        c
    };
    command.arg("--namesrv").arg(namesrv).args(args);
    command
}

/// A client program's JSON line and whether it succeeded: it exited with 0, or its line carries
/// no `error` (the C++ programs print their line before shutting the client down, and the C++
/// clients sometimes abort inside shutdown; see tests/clients/README.md).
pub fn parse_client_output(program: &str, output: &Output) -> (Value, bool) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "{program} printed no JSON (status {:?})\nstderr:\n{}",
                output.status,
                tail(&String::from_utf8_lossy(&output.stderr), 30)
            )
        });
    let value: Value = serde_json::from_str(line).unwrap();
    let ok = output.status.success() || value.get("error").is_none_or(Value::is_null);
    (value, ok)
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts `binary -c config` with its log (stderr) in `log`.
pub fn spawn_logged(binary: &Path, config: &Path, log: &Path) -> Child {
    let file = std::fs::File::create(log).unwrap();
    Command::new(binary)
        .arg("-c")
        .arg(config)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap()
}

/// Waits (30 s at most) until the log's text satisfies `ready`.
pub fn wait_until_log(log: &Path, ready: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(log) {
            let _ = file.read_to_string(&mut text);
        }
        if ready(&text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never got ready:\n{}",
            log.display(),
            tail(&text, 30)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the log contains `needle`.
pub fn wait_for_line(log: &Path, needle: &str) {
    wait_until_log(log, |text| text.contains(needle));
}

/// SIGTERM, then waits (20 s at most) for exit code 0.
pub fn terminate(child: &mut Child, name: &str) {
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "{name} exited with {status} after SIGTERM"
            );
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name} did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
