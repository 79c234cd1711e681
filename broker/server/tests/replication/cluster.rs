//! A name server, a master and a slave of one broker group as child processes on 127.0.0.1, each
//! with its own temp store and log; the independent C++ client (`scripts/install-clients.sh`);
//! remoting requests the tests make themselves.
//!
//! Process helpers (binaries, logs, readiness, SIGTERM) are shared with the interop harness in
//! `tests/common/process.rs`; SIGKILL when a test says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::code::RequestCode;
use serde_json::Value;
use tempfile::TempDir;

#[path = "../common/process.rs"]
mod process;

use process::{
    client_command, free_port, parse_client_output, spawn_logged, wait_for_line, wait_until_log,
};
pub use process::{sibling_binary, tail};

/// Commit log file size of every node: small, so a run rolls files several times.
pub const FILE_SIZE: u64 = 1024 * 1024;
/// `cleanResourceInterval` of every node: no retention pass during a test. Retention deletes
/// every file but the newest when the disk is more than 85% used (`diskSpaceCleanForciblyRatio`),
/// which a shared test machine can be; these tests are about replication, not retention.
const NO_RETENTION_MS: u64 = 3_600_000;

/// One broker process (master or slave) and what it needs to start again.
pub struct Node {
    pub name: &'static str,
    /// `127.0.0.1:listenPort`.
    pub addr: String,
    pub store: PathBuf,
    conf: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl Node {
    fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{}-{}.log", self.name, self.starts))
    }

    /// The log of the latest start.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

/// The processes of one test.
pub struct Pair {
    pub dir: TempDir,
    pub namesrv: String,
    namesrv_proc: Option<Child>,
    pub master: Node,
    pub slave: Node,
    runtime: tokio::runtime::Runtime,
    client: rmq_remoting::Client,
}

impl Pair {
    /// Starts the name server, the master (`brokerRole=master_role`) and the slave, with
    /// `flushDiskType=flush` on both and `extra` appended to both configs, and waits until the
    /// slave has reported to the master.
    pub fn start(master_role: &str, flush: &str, extra: &str) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let ns_port = free_port();
        let ns_conf = dir.path().join("namesrv.properties");
        std::fs::write(
            &ns_conf,
            format!(
                "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
                dir.path().join("kv.json").display()
            ),
        )
        .unwrap();
        let ns_log = dir.path().join("namesrv.log");
        let namesrv_proc = spawn_logged(&sibling_binary("rmq-namesrv"), &ns_conf, &ns_log);
        wait_for_line(&ns_log, "listening on");
        let namesrv = format!("127.0.0.1:{ns_port}");
        let node = |name: &'static str, id: u32, role: &str| {
            let port = free_port();
            let ha_port = free_port();
            let store = dir.path().join(format!("store-{name}"));
            let conf = dir.path().join(format!("{name}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "brokerClusterName=DefaultCluster\nbrokerName=broker-a\nbrokerId={id}\n\
                     brokerRole={role}\nflushDiskType={flush}\nnamesrvAddr={namesrv}\n\
                     brokerIP1=127.0.0.1\nlistenPort={port}\nhaListenPort={ha_port}\n\
                     bindAddress=127.0.0.1\nfastListenEnable=false\nstorePathRootDir={}\n\
                     mappedFileSizeCommitLog={FILE_SIZE}\nflushConsumerOffsetInterval=1000\n\
                     registerNameServerPeriod=5000\ncleanResourceInterval={NO_RETENTION_MS}\n\
                     {extra}\n",
                    store.display()
                ),
            )
            .unwrap();
            Node {
                name,
                addr: format!("127.0.0.1:{port}"),
                store,
                conf,
                dir: dir.path().to_path_buf(),
                child: None,
                starts: 0,
            }
        };
        let master = node("master", 0, master_role);
        let slave = node("slave", 1, "SLAVE");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut pair = Pair {
            dir,
            namesrv,
            namesrv_proc: Some(namesrv_proc),
            master,
            slave,
            runtime,
            client: rmq_remoting::Client::default(),
        };
        pair.start_master();
        pair.start_slave();
        pair.wait_slave_connected();
        pair
    }

    pub fn start_master(&mut self) {
        start_node(&mut self.master, &self.dir.path().join("namesrv.log"));
    }

    pub fn start_slave(&mut self) {
        start_node(&mut self.slave, &self.dir.path().join("namesrv.log"));
    }

    /// SIGTERM the slave and wait for its clean exit.
    pub fn stop_slave(&mut self) {
        terminate(&mut self.slave);
    }

    /// SIGKILL the slave.
    pub fn kill_slave(&mut self) {
        let mut child = self.slave.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`) the slave: a peer that stops answering without
    /// closing its connections.
    pub fn freeze_slave(&self, frozen: bool) {
        let pid = self.slave.child.as_ref().unwrap().id();
        let signal = if frozen { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
        if frozen {
            // kill(2) returns before every thread has stopped: a busy thread can still ack a
            // replicated message for a moment. Wait until all of them show state T.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !all_threads_stopped(pid) {
                assert!(
                    Instant::now() < deadline,
                    "the slave did not stop on SIGSTOP"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// SIGTERM the master and wait for its clean exit.
    pub fn stop_master(&mut self) {
        terminate(&mut self.master);
    }

    /// SIGKILL the master: no shutdown, no flush beyond what the store already did.
    pub fn kill_master(&mut self) {
        let mut child = self.master.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits until the master counts a slave that reported its offset.
    pub fn wait_slave_connected(&self) {
        self.wait_until(
            "the slave reports to the master",
            Duration::from_secs(30),
            || {
                let info = self.runtime_info(&self.master.addr);
                info["haConnectionCount"] == "1" && info["haSlaveAckOffset"] != "-1"
            },
        );
    }

    /// Waits until the slave confirmed everything the master holds.
    pub fn wait_caught_up(&self, timeout: Duration) {
        self.wait_until("the slave catches up", timeout, || {
            let info = self.runtime_info(&self.master.addr);
            info["haReplicationLagBytes"] == "0"
        });
    }

    /// Sends a request without header and returns the response.
    pub fn request(&self, addr: &str, request: RemotingCommand) -> RemotingCommand {
        self.runtime
            .block_on(self.client.invoke(addr, request, Duration::from_secs(10)))
            .unwrap()
    }

    /// GET_BROKER_RUNTIME_INFO of the broker at `addr`.
    pub fn runtime_info(&self, addr: &str) -> BTreeMap<String, String> {
        let response = self.request(
            addr,
            RemotingCommand::request(RequestCode::GetBrokerRuntimeInfo),
        );
        serde_json::from_slice::<KvTable>(&response.body)
            .unwrap()
            .table
    }

    /// `commitLogMaxOffset` of the broker at `addr`.
    pub fn max_offset(&self, addr: &str) -> u64 {
        self.runtime_info(addr)["commitLogMaxOffset"]
            .parse()
            .unwrap()
    }

    /// Polls `ready` every 50 ms until it holds; fails the test after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting until {what}\nmaster log tail:\n{}\nslave log tail:\n{}",
                tail(&self.master.log(), 20),
                tail(&self.slave.log(), 20)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a client program to its end; returns its JSON line and whether it exited with 0.
    pub fn client(&self, program: &str, args: &[&str]) -> (Value, bool) {
        let output = self.client_command(program, args).output().unwrap();
        parse_client_output(program, &output)
    }

    /// Starts a client program in the background.
    pub fn spawn_client(&self, program: &str, args: &[&str]) -> Child {
        self.client_command(program, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn client_command(&self, program: &str, args: &[&str]) -> Command {
        client_command(
            program,
            &self.namesrv,
            &self.dir.path().join("cpp-home"),
            args,
        )
    }

    /// The master's commit log bytes `[from, to)`, read from its files.
    pub fn master_bytes(&self, from: u64, to: u64) -> Vec<u8> {
        read_range(&self.master.store, from, to)
    }

    /// The slave's commit log bytes `[from, to)`, read from its files.
    pub fn slave_bytes(&self, from: u64, to: u64) -> Vec<u8> {
        read_range(&self.slave.store, from, to)
    }

    /// Start offset of the slave's first commit log file.
    pub fn slave_min_offset(&self) -> u64 {
        first_file_offset(&self.slave.store)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for node in [&mut self.slave, &mut self.master] {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if let Some(mut ns) = self.namesrv_proc.take() {
            let _ = ns.kill();
            let _ = ns.wait();
        }
    }
}

/// Waits for a background client and returns its JSON line and whether it exited with 0.
pub fn finish(program: &str, child: Child) -> (Value, bool) {
    let output = child.wait_with_output().unwrap();
    parse_client_output(program, &output)
}

fn start_node(node: &mut Node, namesrv_log: &Path) {
    node.starts += 1;
    let log = node.log_path();
    node.child = Some(spawn_logged(
        Path::new(env!("CARGO_BIN_EXE_rmq-broker")),
        &node.conf,
        &log,
    ));
    wait_for_line(&log, "listening on");
    let registered = format!("addr={}", node.addr);
    wait_until_log(namesrv_log, |text| {
        text.lines()
            .filter(|l| l.contains("new broker registered"))
            .filter(|l| l.contains(&registered))
            .count()
            >= 1
    });
}

fn terminate(node: &mut Node) {
    let mut child = node.child.take().unwrap();
    process::terminate(&mut child, node.name);
}

fn commit_log_files(store: &Path) -> Vec<(u64, PathBuf)> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(store.join("commitlog"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let start = p.file_name()?.to_str()?.parse().ok()?;
            Some((start, p))
        })
        .collect();
    files.sort();
    files
}

fn first_file_offset(store: &Path) -> u64 {
    commit_log_files(store)
        .first()
        .map_or(0, |(start, _)| *start)
}

fn read_range(store: &Path, from: u64, to: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity((to - from) as usize);
    for (start, path) in commit_log_files(store) {
        let end = start + FILE_SIZE;
        if end <= from || start >= to {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let lo = from.max(start) - start;
        let hi = to.min(end) - start;
        out.extend_from_slice(&bytes[lo as usize..hi as usize]);
    }
    assert_eq!(
        out.len() as u64,
        to - from,
        "files of {} cover [{from}, {to})",
        store.display()
    );
    out
}

/// Whether every thread of process `pid` is stopped (state `T` in `/proc/<pid>/task/*/stat`).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|stat| {
                let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
                Some(matches!(state, 'T' | 't'))
            })
            .unwrap_or(true)
    })
}
