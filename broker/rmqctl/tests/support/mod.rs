//! A fake RocketMQ server answering canned replies on 127.0.0.1:0 (its own thread and runtime),
//! a runner for the real `rmqctl` binary with a deadline, and builders of canned bodies.
//!
//! Shared by several test crates, each using a part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::route::{BrokerData, ClusterInfo, QueueData, TopicRouteData};
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::message::properties;
use rmq_protocol::message::record::{RecordFields, encode};
use rmq_remoting::{ConnHandle, Handler, ServerConfig, serve};
use tokio::sync::oneshot;

/// Builds the answer to a request; `None` never answers.
type Reply = Box<dyn Fn(&RemotingCommand) -> Option<RemotingCommand> + Send + Sync>;

/// The replies of a fake server, by request code; other codes get REQUEST_CODE_NOT_SUPPORTED.
#[derive(Default)]
pub struct Replies(HashMap<i32, Reply>);

impl Replies {
    pub fn new() -> Replies {
        Replies::default()
    }

    /// Answers `code` with whatever `reply` builds.
    pub fn on(
        mut self,
        code: RequestCode,
        reply: impl Fn(&RemotingCommand) -> Option<RemotingCommand> + Send + Sync + 'static,
    ) -> Replies {
        self.0.insert(code.code(), Box::new(reply));
        self
    }

    /// Answers `code` with SUCCESS and `body`.
    pub fn ok(self, code: RequestCode, body: Vec<u8>) -> Replies {
        self.on(code, move |request| Some(success(request, body.clone())))
    }

    /// Answers `code` with `response` and `remark`.
    pub fn refuse(self, code: RequestCode, response: ResponseCode, remark: &str) -> Replies {
        let remark = remark.to_owned();
        self.on(code, move |request| {
            Some(RemotingCommand::response_to(request, response).with_remark(remark.clone()))
        })
    }

    /// Never answers `code`.
    pub fn silent(self, code: RequestCode) -> Replies {
        self.on(code, |_| None)
    }
}

/// SUCCESS with a body.
pub fn success(request: &RemotingCommand, body: Vec<u8>) -> RemotingCommand {
    RemotingCommand::response_to(request, ResponseCode::Success).with_body(body)
}

struct Canned {
    replies: Replies,
    seen: Arc<Mutex<Vec<RemotingCommand>>>,
}

impl Handler for Canned {
    async fn handle(
        &self,
        _conn: &ConnHandle,
        request: RemotingCommand,
    ) -> Option<RemotingCommand> {
        self.seen.lock().unwrap().push(request.clone());
        let answer = match self.replies.0.get(&request.code) {
            Some(reply) => reply(&request),
            None => Some(RemotingCommand::request_code_not_supported(&request)),
        };
        if answer.is_none() {
            std::future::pending::<()>().await;
        }
        answer
    }
}

/// A running fake server; stopped on drop.
pub struct FakeServer {
    pub addr: String,
    seen: Arc<Mutex<Vec<RemotingCommand>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Binds 127.0.0.1:0, builds the replies knowing the address, serves.
    pub fn start(replies: impl FnOnce(&str) -> Replies) -> FakeServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(Canned {
            replies: replies(&addr),
            seen: seen.clone(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let config = ServerConfig {
                    shutdown_grace: Duration::from_millis(100),
                    ..ServerConfig::default()
                };
                serve(listener, handler, config, async {
                    let _ = stopped.await;
                })
                .await;
            });
        });
        FakeServer {
            addr,
            seen,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The requests received so far, in arrival order.
    pub fn seen(&self) -> Vec<RemotingCommand> {
        self.seen.lock().unwrap().clone()
    }

    /// The codes of the requests received so far.
    pub fn seen_codes(&self) -> Vec<i32> {
        self.seen().iter().map(|request| request.code).collect()
    }

    /// The first request with `code`.
    pub fn request(&self, code: RequestCode) -> RemotingCommand {
        self.seen()
            .into_iter()
            .find(|request| request.code == code.code())
            .unwrap_or_else(|| panic!("no {code} request; saw {:?}", self.seen_codes()))
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An address nothing listens on (bound, then released).
pub fn dead_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    pub fn success(&self) -> &str {
        assert_eq!(self.code, Some(0), "rmqctl failed: {self:#?}");
        assert_eq!(self.stderr, "", "unexpected stderr");
        &self.stdout
    }

    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.success()).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// Lines of stdout split into whitespace-separated cells.
    pub fn rows(&self) -> Vec<Vec<String>> {
        self.success()
            .lines()
            .map(|line| line.split_whitespace().map(str::to_owned).collect())
            .collect()
    }
}

/// Runs `rmqctl args` with NAMESRV_ADDR unset; killed after 30 s.
pub fn rmqctl(args: &[&str]) -> Run {
    rmqctl_with_env(args, &[])
}

/// Runs `rmqctl args` with NAMESRV_ADDR unset, then `env` set; killed after 30 s.
pub fn rmqctl_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rmqctl"));
    command
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        text
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = started + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rmqctl {args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        elapsed: started.elapsed(),
    }
}

pub fn group(cluster: &str, name: &str, addrs: &[(i64, &str)]) -> BrokerData {
    BrokerData {
        broker_addrs: addrs
            .iter()
            .map(|(id, addr)| (*id, (*addr).to_owned()))
            .collect(),
        broker_name: name.to_owned(),
        cluster: cluster.to_owned(),
        enable_acting_master: None,
        zone_name: None,
    }
}

/// Cluster info in fastjson's form (bare broker ids), as an Apache name server sends it.
pub fn cluster_info(groups: &[BrokerData]) -> Vec<u8> {
    let mut info = ClusterInfo::default();
    for group in groups {
        info.cluster_addr_table
            .entry(group.cluster.clone())
            .or_insert_with(BTreeSet::new)
            .insert(group.broker_name.clone());
        info.broker_addr_table
            .insert(group.broker_name.clone(), group.clone());
    }
    info.to_fastjson().unwrap()
}

/// A route in fastjson's form, four queues on each group.
pub fn route(groups: &[BrokerData]) -> Vec<u8> {
    TopicRouteData {
        broker_datas: groups.to_vec(),
        filter_server_table: BTreeMap::new(),
        order_topic_conf: None,
        queue_datas: groups
            .iter()
            .map(|group| QueueData {
                broker_name: group.broker_name.clone(),
                perm: 6,
                read_queue_nums: 4,
                topic_sys_flag: 0,
                write_queue_nums: 4,
            })
            .collect(),
    }
    .to_fastjson()
    .unwrap()
}

pub fn runtime_info() -> Vec<u8> {
    let mut kv = KvTable::default();
    kv.table.insert("brokerVersionDesc".into(), "V4_9_4".into());
    kv.table.insert("putTps".into(), "12.5 11.0 10.0".into());
    kv.table
        .insert("getTransferredTps".into(), "3.0 2.0 1.0".into());
    serde_json::to_vec(&kv).unwrap()
}

/// A stored record of TopicTest as the broker at `store_host` keeps it at `offset`.
pub fn record(
    store_host: &str,
    offset: i64,
    queue_offset: i64,
    keys: &str,
    body: &[u8],
) -> Vec<u8> {
    let props = properties::encode([("TAGS", "TagA"), ("KEYS", keys)]);
    encode(&RecordFields {
        queue_id: 2,
        flag: 0,
        queue_offset,
        physical_offset: offset,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        born_host: "127.0.0.1:50000".parse().unwrap(),
        store_timestamp: 1_700_000_000_123,
        store_host: store_host.parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body,
        topic: "TopicTest",
        properties: &props,
    })
    .unwrap()
}

pub fn cells(row: &[&str]) -> Vec<String> {
    row.iter().map(|cell| (*cell).to_owned()).collect()
}
