//! The process shell of the local runner: finding the server binaries, probing ports, spawning
//! with a log file, waiting for the `listening on` line, and stopping by signal with bounded
//! waits.
//!
//! Children run in their own process group: a Ctrl-C in the terminal reaches only `rmqctl up`,
//! which then stops the brokers before the name servers (so brokers can unregister), instead of
//! every process dying at once.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rmq_operator::build::security::{INNER_ACCESS_KEY_ENV, INNER_SECRET_KEY_ENV};
use rmq_protocol::acl::Credentials;

use crate::local::pids::ProcessRecord;
use crate::local::plan::{Kind, LOCAL_HOST, Node};

/// What both servers log once they accept connections.
pub const READY_LINE: &str = "listening on";
/// How often waits look again.
const POLL: Duration = Duration::from_millis(50);
/// How long a SIGKILLed process may take to disappear before it is reported as surviving.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// A server binary is not next to `rmqctl`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{binary} is not in {} (next to rmqctl): build it with `{build}`",
    .dir.display()
)]
pub struct MissingBinary {
    pub binary: &'static str,
    pub dir: PathBuf,
    /// The cargo command that puts it there.
    pub build: String,
}

/// The path of `kind`'s binary in `dir`, the directory of the running `rmqctl`.
pub fn locate(dir: &Path, kind: Kind) -> Result<PathBuf, MissingBinary> {
    let path = dir.join(kind.binary());
    if path.is_file() {
        return Ok(path);
    }
    let release = dir.file_name().is_some_and(|name| name == "release");
    Err(MissingBinary {
        binary: kind.binary(),
        dir: dir.to_path_buf(),
        build: format!(
            "cargo build{} -p rmq-namesrv -p rmq-broker",
            if release { " --release" } else { "" }
        ),
    })
}

/// Ports of the plan that something already listens on, with the node that wanted each.
pub fn busy_ports<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> Vec<(String, u16, io::Error)> {
    let mut busy = Vec::new();
    for node in nodes {
        for &port in &node.ports {
            // std sets SO_REUSEADDR, so only a live listener (on 127.0.0.1 or any address)
            // makes this fail, not connections lingering in TIME_WAIT.
            if let Err(error) = TcpListener::bind((LOCAL_HOST, port)) {
                busy.push((node.name.clone(), port, error));
            }
        }
    }
    busy
}

/// A process just started.
#[derive(Debug)]
pub struct Spawned {
    pub child: Child,
    /// Length of the log before this run's output: readiness and tails look after it.
    pub log_from: u64,
    /// `/proc/<pid>/stat` start time, when the platform has it.
    pub start_time: Option<u64>,
}

/// Starts `binary -c <config>` for `node`, in its home directory and its own process group,
/// with stdout and stderr appended to its log after a banner line. A broker gets `inner`, the
/// account it signs its own requests with, as the operator's pods get it from
/// `innerCredentialsSecret`; without one, none is inherited from this shell either.
pub fn spawn(binary: &Path, node: &Node, inner: Option<&Credentials>) -> io::Result<Spawned> {
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log)?;
    writeln!(
        log,
        "--- rmqctl up {}: {} -c {}",
        crate::time::format_millis(rmq_admin::now_millis()),
        binary.display(),
        node.config_path.display()
    )?;
    let log_from = log.metadata()?.len();
    let mut command = Command::new(binary);
    command
        .arg("-c")
        .arg(&node.config_path)
        .current_dir(&node.home)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // The logs are files: no colour escapes in them.
        .env("NO_COLOR", "1")
        .process_group(0);
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "info");
    }
    match inner.filter(|_| node.kind == Kind::Broker) {
        Some(account) => command
            .env(INNER_ACCESS_KEY_ENV, &account.access_key)
            .env(INNER_SECRET_KEY_ENV, &account.secret_key),
        None => command
            .env_remove(INNER_ACCESS_KEY_ENV)
            .env_remove(INNER_SECRET_KEY_ENV),
    };
    let child = command.spawn()?;
    let start_time = start_time(child.id());
    Ok(Spawned {
        child,
        log_from,
        start_time,
    })
}

/// How a wait for the ready line ended.
#[derive(Debug)]
pub enum Readiness {
    Ready,
    Exited(ExitStatus),
    TimedOut,
}

/// Waits until `log` (after `from`) holds [`READY_LINE`], the child exits, or `timeout`.
pub async fn wait_ready(child: &mut Child, log: &Path, from: u64, timeout: Duration) -> Readiness {
    let deadline = Instant::now() + timeout;
    loop {
        if read_from(log, from).is_ok_and(|text| text.contains(READY_LINE)) {
            return Readiness::Ready;
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Readiness::Exited(status);
        }
        if Instant::now() >= deadline {
            return Readiness::TimedOut;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The last `lines` lines of `log` after `from`, each indented, for error messages.
pub fn tail(log: &Path, from: u64, lines: usize) -> String {
    match read_from(log, from) {
        Ok(text) if text.trim().is_empty() => "    (nothing logged)".to_owned(),
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..]
                .iter()
                .map(|line| format!("    {line}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Err(error) => format!("    (cannot read it: {error})"),
    }
}

fn read_from(path: &Path, from: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A process to stop: a child of this `rmqctl` (reaped when it exits) or one read from
/// `pids.json`.
#[derive(Debug)]
pub struct Target {
    pub name: String,
    pub pid: u32,
    handle: Handle,
}

#[derive(Debug)]
enum Handle {
    Child(Child),
    Recorded { start_time: Option<u64> },
}

/// Whether a process is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Running,
    /// Exited (a zombie counts: it only waits to be reaped).
    Gone,
    /// The pid now belongs to a process started at another time: not ours, never signalled.
    Reused,
}

/// How stopping one process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// Exited after SIGTERM.
    Exited,
    /// Still running after the grace period: SIGKILLed, then gone.
    Killed,
    /// Already gone before anything was sent.
    NotRunning,
    /// The recorded pid belongs to another process now: left alone.
    PidReused,
    /// Still there even after SIGKILL.
    Survived,
}

impl Target {
    /// A process this `rmqctl` spawned.
    pub fn child(name: &str, child: Child) -> Target {
        Target {
            name: name.to_owned(),
            pid: child.id(),
            handle: Handle::Child(child),
        }
    }

    /// A process recorded in `pids.json`.
    pub fn recorded(record: &ProcessRecord) -> Target {
        Target::pid(&record.name, record.pid, record.start_time)
    }

    /// Any process by pid; with a start time, only the process that started then.
    pub fn pid(name: &str, pid: u32, start_time: Option<u64>) -> Target {
        Target {
            name: name.to_owned(),
            pid,
            handle: Handle::Recorded { start_time },
        }
    }

    /// Whether the process is still there.
    pub fn liveness(&mut self) -> Liveness {
        match &mut self.handle {
            Handle::Child(child) => match child.try_wait() {
                Ok(None) => Liveness::Running,
                Ok(Some(_)) => Liveness::Gone,
                Err(_) => liveness(self.pid, None),
            },
            Handle::Recorded { start_time } => liveness(self.pid, *start_time),
        }
    }

    /// The exit status of a child that has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        match &mut self.handle {
            Handle::Child(child) => child.try_wait().ok().flatten(),
            Handle::Recorded { .. } => None,
        }
    }
}

/// Stops `targets` together: SIGTERM to each running one, a wait of up to `grace` for all,
/// SIGKILL to those left, and a short wait for those. Outcomes are in `targets` order.
pub fn stop(targets: &mut [Target], grace: Duration) -> Vec<StopOutcome> {
    let mut outcomes: Vec<Option<StopOutcome>> = targets
        .iter_mut()
        .map(|target| match target.liveness() {
            Liveness::Gone => Some(StopOutcome::NotRunning),
            Liveness::Reused => Some(StopOutcome::PidReused),
            Liveness::Running => match send(target.pid, libc::SIGTERM) {
                // Exited between the look and the signal.
                Err(error) if error.raw_os_error() == Some(libc::ESRCH) => {
                    Some(StopOutcome::NotRunning)
                }
                _ => None,
            },
        })
        .collect();
    wait_gone(targets, &mut outcomes, grace, StopOutcome::Exited);
    for (target, outcome) in targets.iter().zip(&outcomes) {
        if outcome.is_none() {
            let _ = send(target.pid, libc::SIGKILL);
        }
    }
    wait_gone(targets, &mut outcomes, KILL_WAIT, StopOutcome::Killed);
    outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(StopOutcome::Survived))
        .collect()
}

/// Marks `done` every pending target that disappears within `limit`.
fn wait_gone(
    targets: &mut [Target],
    outcomes: &mut [Option<StopOutcome>],
    limit: Duration,
    done: StopOutcome,
) {
    let deadline = Instant::now() + limit;
    loop {
        for (target, outcome) in targets.iter_mut().zip(outcomes.iter_mut()) {
            if outcome.is_none() && target.liveness() != Liveness::Running {
                *outcome = Some(done);
            }
        }
        if outcomes.iter().all(Option::is_some) || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// Sends `signal` to `pid`. Pids 0 and 1 and negative ones (process groups, init, "every
/// process") are refused: a damaged pids.json must never turn into a broadcast.
fn send(pid: u32, signal: libc::c_int) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .ok()
        .filter(|&pid| pid > 1)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a process id"))?;
    // SAFETY: kill(2) reads no memory of ours; the pid was checked to name one process.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether `pid` runs, and is the process that started at `start_time` when that is known.
pub fn liveness(pid: u32, start_time: Option<u64>) -> Liveness {
    if pid <= 1 {
        return Liveness::Gone;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => match parse_stat(&stat) {
            Some(('Z' | 'X', _)) => Liveness::Gone,
            Some((_, now)) if start_time.is_some_and(|then| then != now) => Liveness::Reused,
            _ => Liveness::Running,
        },
        // A Linux without that pid.
        Err(_) if Path::new("/proc/self/stat").exists() => Liveness::Gone,
        // No procfs: ask the kernel whether the pid exists (EPERM: it does, not ours).
        Err(_) => match send_probe(pid) {
            Ok(()) => Liveness::Running,
            Err(error) if error.raw_os_error() == Some(libc::EPERM) => Liveness::Running,
            Err(_) => Liveness::Gone,
        },
    }
}

fn send_probe(pid: u32) -> io::Result<()> {
    send(pid, 0)
}

/// `/proc/<pid>/stat` start time of `pid`, if the platform has procfs.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).map(|(_, start)| start)
}

/// State letter and start time (field 22) of a `/proc/<pid>/stat` line. The command name
/// (field 2) is in parentheses and may itself hold spaces and parentheses, so fields are
/// counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Fields 4..=21 come between the state (3) and the start time (22).
    let start = fields.nth(22 - 4)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_from_the_last_parenthesis() {
        let line = "4242 (rmq (odd) name) S 1 4242 4242 0 -1 4194560 151 0 0 0 2 1 0 0 20 0 \
                    9 0 987654 123456789 1234 18446744073709551615";
        assert_eq!(parse_stat(line), Some(('S', 987_654)));
        assert_eq!(parse_stat("1 (x) Z 1 2"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn this_process_is_running_and_a_wrong_start_time_means_the_pid_was_reused() {
        let me = std::process::id();
        let started = start_time(me);
        assert!(started.is_some(), "these tests run on Linux");
        assert_eq!(liveness(me, started), Liveness::Running);
        assert_eq!(liveness(me, started.map(|t| t + 1)), Liveness::Reused);
        assert_eq!(liveness(0, None), Liveness::Gone);
        assert_eq!(liveness(1, None), Liveness::Gone);
    }

    #[test]
    fn signals_to_process_groups_init_or_everyone_are_refused() {
        for pid in [0, 1, u32::MAX] {
            let error = send(pid, 0).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "pid {pid}");
        }
    }

    #[test]
    fn a_missing_binary_names_the_cargo_command_for_that_profile() {
        let dir = tempfile::tempdir().unwrap();
        let release = dir.path().join("release");
        std::fs::create_dir(&release).unwrap();
        let error = locate(&release, Kind::Broker).unwrap_err();
        assert_eq!(error.binary, "rmq-broker");
        assert!(
            error
                .to_string()
                .ends_with("build it with `cargo build --release -p rmq-namesrv -p rmq-broker`"),
            "{error}"
        );
        std::fs::write(dir.path().join("rmq-namesrv"), "").unwrap();
        assert_eq!(
            locate(dir.path(), Kind::Namesrv).unwrap(),
            dir.path().join("rmq-namesrv")
        );
        assert_eq!(
            locate(dir.path(), Kind::Broker).unwrap_err().build,
            "cargo build -p rmq-namesrv -p rmq-broker"
        );
    }

    #[test]
    fn a_sleeping_child_is_stopped_by_sigterm_and_one_ignoring_it_is_killed() {
        let polite = Command::new("sleep").arg("30").spawn().unwrap();
        let stubborn = Command::new("sh")
            .args(["-c", "trap '' TERM; while :; do sleep 0.1; done"])
            .spawn()
            .unwrap();
        let gone = Command::new("true").spawn().unwrap();
        let mut targets = vec![
            Target::child("polite", polite),
            Target::child("stubborn", stubborn),
            Target::child("gone", gone),
        ];
        // Let `true` exit and the shell install its trap.
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let outcomes = stop(&mut targets, Duration::from_millis(500));
        assert_eq!(
            outcomes,
            [
                StopOutcome::Exited,
                StopOutcome::Killed,
                StopOutcome::NotRunning
            ]
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_recorded_pid_of_another_process_is_left_alone() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let record = ProcessRecord {
            name: "x".into(),
            kind: Kind::Broker,
            pid: child.id(),
            addr: String::new(),
            log: PathBuf::new(),
            start_time: start_time(child.id()).map(|t| t + 1),
        };
        let outcomes = stop(&mut [Target::recorded(&record)], Duration::from_millis(100));
        assert_eq!(outcomes, [StopOutcome::PidReused]);
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "the process was signalled"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn the_tail_shows_the_last_lines_after_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        std::fs::write(&log, "old run\nline 1\nline 2\nline 3\n").unwrap();
        assert_eq!(tail(&log, 8, 2), "    line 2\n    line 3");
        assert_eq!(tail(&log, 8 + 21, 2), "    (nothing logged)");
        assert!(tail(&dir.path().join("none"), 0, 2).starts_with("    (cannot read it: "));
    }
}
