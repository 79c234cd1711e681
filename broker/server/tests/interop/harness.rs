#![allow(dead_code)] // shared by several test binaries, each using a subset
//! Real processes for interoperability tests: `rmq-namesrv` and `rmq-broker` on 127.0.0.1 with
//! temp dirs, and the independent clients installed by `scripts/install-clients.sh`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

#[path = "../common/process.rs"]
pub mod process;

use process::{
    client_command, free_port, sibling_binary, spawn_logged, tail, terminate, wait_for_line,
};

/// A name server and one broker, as child processes.
pub struct Cluster {
    pub dir: TempDir,
    pub namesrv: String,
    /// The broker's `127.0.0.1:port`, for requests a test makes itself.
    pub broker_addr: String,
    namesrv_proc: Option<Child>,
    namesrv_conf: PathBuf,
    namesrv_starts: u32,
    broker_proc: Option<Child>,
    broker_conf: PathBuf,
    broker_starts: u32,
    runtime: tokio::runtime::Runtime,
    remoting: rmq_remoting::Client,
}

impl Cluster {
    /// Starts both servers; `extra` is appended to broker.conf.
    pub fn start(extra: &str) -> Cluster {
        Cluster::start_on_store(extra, None)
    }

    /// Like [`Cluster::start`], with the broker's store a copy of `seed` (a store directory
    /// another broker wrote) when given.
    pub fn start_on_store(extra: &str, seed: Option<&Path>) -> Cluster {
        Cluster::start_with("", extra, seed)
    }

    /// Like [`Cluster::start_on_store`], with `namesrv_extra` lines in `namesrv.properties`
    /// too.
    pub fn start_with(namesrv_extra: &str, extra: &str, seed: Option<&Path>) -> Cluster {
        Cluster::start_full(
            namesrv_extra,
            extra,
            seed,
            rmq_remoting::ClientConfig::default(),
        )
    }

    /// Like [`Cluster::start_with`], with the test's own requests ([`Cluster::request`]) made
    /// as `remoting` says (TLS, an ACL account).
    pub fn start_full(
        namesrv_extra: &str,
        extra: &str,
        seed: Option<&Path>,
        remoting: rmq_remoting::ClientConfig,
    ) -> Cluster {
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
                "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n{namesrv_extra}\n",
                dir.path().join("kv.json").display()
            ),
        )
        .unwrap();
        let namesrv_proc = spawn_logged(
            &sibling_binary("rmq-namesrv"),
            &ns_conf,
            &dir.path().join("namesrv-1.log"),
        );
        wait_for_line(&dir.path().join("namesrv-1.log"), "listening on");
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
            namesrv_proc: Some(namesrv_proc),
            namesrv_conf: ns_conf,
            namesrv_starts: 1,
            broker_proc: None,
            broker_conf,
            broker_starts: 0,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            remoting: rmq_remoting::Client::new(remoting),
        };
        cluster.start_broker();
        cluster
    }

    /// Starts the broker (again) on the same store and port, and waits until it is listening
    /// and has registered with the name server.
    pub fn start_broker(&mut self) {
        let registered = self.registrations();
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
        process::wait_until_log(&self.namesrv_log(), |text| {
            text.matches("new broker registered").count() > registered
        });
    }

    /// The current name server's log.
    pub fn namesrv_log(&self) -> PathBuf {
        self.dir
            .path()
            .join(format!("namesrv-{}.log", self.namesrv_starts))
    }

    /// How many registrations of a new broker the current name server has logged.
    fn registrations(&self) -> usize {
        std::fs::read_to_string(self.namesrv_log())
            .unwrap_or_default()
            .matches("new broker registered")
            .count()
    }

    /// SIGKILL: no shutdown hook runs, nothing is flushed beyond what the store already did.
    pub fn kill_broker(&mut self) {
        if let Some(mut child) = self.broker_proc.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// How the broker process ended, or `None` while it runs.
    pub fn broker_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.broker_proc
            .as_mut()
            .and_then(|c| c.try_wait().unwrap())
    }

    /// SIGTERM the name server and wait for its clean exit.
    pub fn stop_namesrv(&mut self) {
        if let Some(mut child) = self.namesrv_proc.take() {
            terminate(&mut child, "rmq-namesrv");
        }
    }

    /// Starts the name server again on its port, with an empty route table.
    pub fn start_namesrv(&mut self) {
        self.namesrv_starts += 1;
        let log = self.namesrv_log();
        self.namesrv_proc = Some(spawn_logged(
            &sibling_binary("rmq-namesrv"),
            &self.namesrv_conf,
            &log,
        ));
        wait_for_line(&log, "listening on");
    }

    /// Sends `request` to `addr` and returns the response (10 s at most).
    pub fn request(
        &self,
        addr: &str,
        request: rmq_protocol::RemotingCommand,
    ) -> Result<rmq_protocol::RemotingCommand, rmq_remoting::InvokeError> {
        self.request_within(addr, request, std::time::Duration::from_secs(10))
    }

    /// Sends `request` to `addr` and returns the response (`timeout` at most).
    pub fn request_within(
        &self,
        addr: &str,
        request: rmq_protocol::RemotingCommand,
        timeout: std::time::Duration,
    ) -> Result<rmq_protocol::RemotingCommand, rmq_remoting::InvokeError> {
        self.runtime
            .block_on(self.remoting.invoke(addr, request, timeout))
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
            for child in [self.broker_proc.as_mut(), self.namesrv_proc.as_mut()]
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
        if let Some(mut namesrv) = self.namesrv_proc.take() {
            terminate(&mut namesrv, "rmq-namesrv");
        }
    }
}

/// Waits for a background client and returns its JSON line and whether it exited with 0 (a
/// producer whose broker was killed under it fails, with the results it got).
pub fn finish_any(program: &str, child: Child) -> (Value, bool) {
    let output = child.wait_with_output().unwrap();
    process::parse_client_output(program, &output)
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
