#![allow(dead_code)] // shared by several test binaries, each using a subset
//! Real processes for interoperability tests: `rmq-namesrv` and `rmq-broker` on 127.0.0.1 with
//! temp dirs, and the independent clients installed by `scripts/install-clients.sh`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

#[path = "../common/process.rs"]
mod process;

use process::{
    client_command, free_port, sibling_binary, spawn_logged, tail, terminate, wait_for_line,
};

/// A name server and one broker, as child processes.
pub struct Cluster {
    pub dir: TempDir,
    pub namesrv: String,
    /// The broker's `127.0.0.1:port`, for requests a test makes itself.
    pub broker_addr: String,
    namesrv_proc: Child,
    broker_proc: Option<Child>,
    broker_conf: PathBuf,
    broker_starts: u32,
}

impl Cluster {
    /// Starts both servers; `extra` is appended to broker.conf.
    pub fn start(extra: &str) -> Cluster {
        Cluster::start_on_store(extra, None)
    }

    /// Like [`Cluster::start`], with the broker's store a copy of `seed` (a store directory
    /// another broker wrote) when given.
    pub fn start_on_store(extra: &str, seed: Option<&Path>) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        if let Some(seed) = seed {
            let status = Command::new("cp")
                .arg("-a")
                .arg(seed)
                .arg(dir.path().join("store"))
                .status()
                .unwrap();
            assert!(status.success(), "cp -a {}", seed.display());
        }
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
        let namesrv_proc = spawn_logged(
            &sibling_binary("rmq-namesrv"),
            &ns_conf,
            &dir.path().join("namesrv.log"),
        );
        wait_for_line(&dir.path().join("namesrv.log"), "listening on");
        let broker_port = free_port();
        // Explicit, so the default (listenPort + 1) cannot collide with another test's ports.
        let ha_port = free_port();
        let broker_conf = dir.path().join("broker.conf");
        std::fs::write(
            &broker_conf,
            format!(
                "brokerClusterName=DefaultCluster\nbrokerName=broker-a\nbrokerId=0\n\
                 namesrvAddr=127.0.0.1:{ns_port}\nbrokerIP1=127.0.0.1\nlistenPort={broker_port}\n\
                 haListenPort={ha_port}\nbindAddress=127.0.0.1\nfastListenEnable=false\nstorePathRootDir={}\n\
                 mappedFileSizeCommitLog=67108864\nflushConsumerOffsetInterval=1000\n{extra}\n",
                dir.path().join("store").display()
            ),
        )
        .unwrap();
        let mut cluster = Cluster {
            dir,
            namesrv: format!("127.0.0.1:{ns_port}"),
            broker_addr: format!("127.0.0.1:{broker_port}"),
            namesrv_proc,
            broker_proc: None,
            broker_conf,
            broker_starts: 0,
        };
        cluster.start_broker();
        cluster
    }

    /// Starts the broker (again) on the same store and port.
    pub fn start_broker(&mut self) {
        self.broker_starts += 1;
        let log = self
            .dir
            .path()
            .join(format!("broker-{}.log", self.broker_starts));
        let child = spawn_logged(
            Path::new(env!("CARGO_BIN_EXE_rmq-broker")),
            &self.broker_conf,
            &log,
        );
        self.broker_proc = Some(child);
        wait_for_line(&log, "listening on");
        // The first registration goes out right after the listener is up.
        wait_for_line(
            &self.dir.path().join("namesrv.log"),
            "new broker registered",
        );
    }

    /// SIGTERM and wait for a clean exit (code 0).
    pub fn stop_broker(&mut self) {
        if let Some(mut child) = self.broker_proc.take() {
            terminate(&mut child, "rmq-broker");
        }
    }

    /// The broker's log of its latest start.
    pub fn broker_log(&self) -> String {
        let log = self
            .dir
            .path()
            .join(format!("broker-{}.log", self.broker_starts));
        std::fs::read_to_string(log).unwrap_or_default()
    }

    /// SIGTERM, wait for a clean exit (code 0), start again on the same store.
    pub fn restart_broker(&mut self) {
        let mut child = self.broker_proc.take().unwrap();
        terminate(&mut child, "rmq-broker");
        self.start_broker();
    }

    /// Runs a client program; returns its JSON line.
    pub fn client(&self, program: &str, args: &[&str]) -> Value {
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

    /// Runs `rmqctl` with `-n <namesrv>` appended.
    pub fn rmqctl(&self, args: &[&str]) -> Output {
        Command::new(sibling_binary("rmqctl"))
            .args(args)
            .arg("-n")
            .arg(&self.namesrv)
            .output()
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- broker log (last start) ---\n{}",
                tail(&self.broker_log(), 60)
            );
            // No second panic while unwinding: just stop the processes.
            for child in [self.broker_proc.as_mut(), Some(&mut self.namesrv_proc)]
                .into_iter()
                .flatten()
            {
                let _ = child.kill();
                let _ = child.wait();
            }
            return;
        }
        if let Some(mut broker) = self.broker_proc.take() {
            terminate(&mut broker, "rmq-broker");
        }
        terminate(&mut self.namesrv_proc, "rmq-namesrv");
    }
}

/// Waits for a background client and returns its JSON line.
pub fn finish(program: &str, child: Child) -> Value {
    let output = child.wait_with_output().unwrap();
    parse_client_output(program, &output)
}

/// A client's JSON line; the client must have exited with 0.
fn parse_client_output(program: &str, output: &Output) -> Value {
    let (value, ok) = process::parse_client_output(program, output);
    assert!(
        ok,
        "{program} failed ({:?}): {}\nstderr tail:\n{}",
        output.status,
        value.get("error").unwrap_or(&Value::Null),
        tail(&String::from_utf8_lossy(&output.stderr), 30)
    );
    value
}

/// Bodies of received messages, by their `keys`.
pub fn received_by_key(consumed: &Value) -> std::collections::BTreeMap<String, Value> {
    consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["keys"].as_str().unwrap_or("").to_owned(), m.clone()))
        .collect()
}
