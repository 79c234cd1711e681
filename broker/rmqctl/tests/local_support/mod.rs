//! What the `rmqctl up`/`down` tests share: running `rmqctl` within a bound, and killing what a
//! failed test's cluster left running.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rmqctl::local::pids::PidsFile;
use rmqctl::local::process::{Liveness, liveness};

/// Longest a single `rmqctl` run may take: `up` waits at most 30 s for listening, 30 s for
/// registration and 30 s for replication; `down` at most 2 × (20 s + 5 s).
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

pub fn rmqctl_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rmqctl"))
}

/// Runs `command` to completion within [`RUN_LIMIT`], output captured; SIGKILL past it.
pub fn run_bounded(command: &mut Command) -> Output {
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
    match result.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{command:?} still running after {RUN_LIMIT:?}");
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
