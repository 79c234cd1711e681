#![allow(clippy::unwrap_used)]
//! `rmq-bench` against real `rmq-namesrv` and `rmq-broker` processes on 127.0.0.1: every send mode
//! delivers what it reports, and the consumer gets every message exactly once.
//!
//! The servers are the workspace's binaries next to `rmq-bench` in the target directory: build
//! them first (`cargo build -p rmq-namesrv -p rmq-broker`, or the whole workspace).

#[path = "../../server/tests/common/ports.rs"]
mod ports;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use ports::free_port;

/// Longest any rmq-bench invocation of these tests may take before it is killed.
const BENCH_TIMEOUT: Duration = Duration::from_secs(60);

fn bench_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rmq-bench"))
}

fn server_binary(name: &str) -> PathBuf {
    let path = bench_binary().with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the servers first (`cargo build -p rmq-namesrv -p rmq-broker`, \
         or `cargo build --workspace`)",
        path.display()
    );
    path
}

/// A name server and a broker as child processes, stopped on drop.
struct Cluster {
    dir: TempDir,
    namesrv: String,
    /// Port of the name server's `/metrics`.
    namesrv_metrics: u16,
    children: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn start() -> Cluster {
        Cluster::start_with("").0
    }

    /// A cluster whose broker.conf has `extra` lines too; with `metrics`, the broker serves
    /// Prometheus metrics on the port returned.
    fn start_with(extra: &str) -> (Cluster, u16) {
        Cluster::start_full("", extra)
    }

    /// [`Cluster::start_with`] with `ns_extra` lines in namesrv.properties too.
    fn start_full(ns_extra: &str, extra: &str) -> (Cluster, u16) {
        let dir = tempfile::tempdir().unwrap();
        let (ns_port, namesrv_metrics) = (free_port(), free_port());
        let ns_conf = dir.path().join("namesrv.properties");
        std::fs::write(
            &ns_conf,
            format!(
                "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n\
                 metricsExporterType=PROM\nmetricsPromExporterPort={namesrv_metrics}\n{ns_extra}\n",
                dir.path().join("kv.json").display()
            ),
        )
        .unwrap();
        let mut cluster = Cluster {
            namesrv: format!("127.0.0.1:{ns_port}"),
            namesrv_metrics,
            children: Vec::new(),
            dir,
        };
        cluster.spawn("rmq-namesrv", &ns_conf);
        cluster.wait_for_log("rmq-namesrv", "listening on");
        let broker_conf = cluster.dir.path().join("broker.conf");
        let metrics_port = free_port();
        std::fs::write(
            &broker_conf,
            format!(
                "brokerClusterName=DefaultCluster\nbrokerName=broker-a\nbrokerId=0\n\
                 namesrvAddr={}\nbrokerIP1=127.0.0.1\nlistenPort={}\nbindAddress=127.0.0.1\n\
                 storePathRootDir={}\nmappedFileSizeCommitLog=67108864\n\
                 metricsExporterType=PROM\nmetricsPromExporterPort={metrics_port}\n{extra}\n",
                cluster.namesrv,
                free_port(),
                cluster.dir.path().join("store").display()
            ),
        )
        .unwrap();
        cluster.spawn("rmq-broker", &broker_conf);
        cluster.wait_for_log("rmq-broker", "listening on");
        cluster.wait_for_log("rmq-namesrv", "new broker registered");
        (cluster, metrics_port)
    }

    fn spawn(&mut self, name: &'static str, config: &Path) {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let child = Command::new(server_binary(name))
            .arg("-c")
            .arg(config)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.push((name, child));
    }

    fn wait_for_log(&self, name: &str, needle: &str) {
        let path = self.dir.path().join(format!("{name}.log"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut text = String::new();
            if let Ok(mut file) = std::fs::File::open(&path) {
                let _ = file.read_to_string(&mut text);
            }
            if text.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never logged {needle:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `rmq-bench <args> -n <namesrv> --json` (`args` split at spaces); returns its JSON
    /// document.
    fn bench(&self, args: &str) -> Value {
        let mut all: Vec<&str> = args.split_whitespace().collect();
        all.extend(["-n", &self.namesrv, "--json"]);
        let (status, stdout, stderr) = run_bench(&all);
        assert!(
            status == Some(0),
            "rmq-bench {all:?} exited with {status:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|error| panic!("stdout is not one JSON document ({error}):\n{stdout}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        for (name, child) in self.children.iter_mut().rev() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    eprintln!("{name} ignored SIGTERM for 20 s; killed");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Runs rmq-bench with a time limit; returns its exit code, stdout and stderr.
fn run_bench(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(bench_binary())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + BENCH_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "rmq-bench {args:?} ran over {BENCH_TIMEOUT:?}; stderr:\n{}",
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), out.join().unwrap(), err.join().unwrap())
}

fn summary_count(document: &Value, field: &str) -> u64 {
    document["summary"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{field} missing: {document}"))
}

fn assert_report_fields(document: &Value) {
    let summary = &document["summary"];
    for field in ["elapsed_s", "msgs_per_sec", "mib_per_sec"] {
        assert!(summary[field].is_f64(), "summary.{field}: {document}");
    }
    for field in ["messages", "bytes", "requests", "error_count"] {
        assert!(summary[field].is_u64(), "summary.{field}: {document}");
    }
    assert!(summary["errors"].is_object(), "{document}");
    for field in ["p50", "p90", "p99", "p999", "max", "samples"] {
        assert!(
            summary["latency_us"][field].is_u64(),
            "summary.latency_us.{field}: {document}"
        );
    }
}

#[test]
fn every_send_mode_delivers_what_it_reports_and_the_consumer_gets_each_message_once() {
    let cluster = Cluster::start();
    // No --create-topic: the first send auto-creates the topic from TBW102, as Java clients do.
    let sync = cluster.bench("produce -t E2E --count 2000 --size 128 --queues 4");
    assert_eq!(sync["command"], "produce");
    assert_eq!(sync["config"]["mode"], "sync");
    assert_eq!(summary_count(&sync, "messages"), 2000);
    assert_eq!(summary_count(&sync, "requests"), 2000);
    assert_eq!(summary_count(&sync, "bytes"), 2000 * 128);
    assert_eq!(summary_count(&sync, "error_count"), 0, "{sync}");
    assert_eq!(sync["summary"]["latency_us"]["samples"], 2000);
    assert_report_fields(&sync);

    let batch = cluster.bench(
        "produce -t E2E --mode batch --batch 32 --threads 4 --count 650 --serialize rocketmq",
    );
    assert_eq!(summary_count(&batch, "messages"), 650);
    assert_eq!(
        summary_count(&batch, "requests"),
        21,
        "20 full batches and one of 10"
    );
    assert_eq!(summary_count(&batch, "error_count"), 0, "{batch}");

    let window = cluster
        .bench("produce -t E2E --mode async --inflight 16 --connections 2 --count 500 --rate 1000");
    assert_eq!(summary_count(&window, "messages"), 500);
    assert_eq!(summary_count(&window, "error_count"), 0, "{window}");
    let paced = window["summary"]["elapsed_s"].as_f64().unwrap();
    assert!(
        paced >= 0.49,
        "500 messages at 1000/s take 0.5 s, not {paced}"
    );

    let oneway = cluster.bench("produce -t E2E --mode oneway --threads 2 --count 100");
    assert_eq!(summary_count(&oneway, "messages"), 100);
    assert!(oneway["summary"]["latency_us"].is_null(), "{oneway}");

    let sent = 2000 + 650 + 500 + 100;
    let consumed = cluster.bench(&format!(
        "consume -t E2E -g e2e --from first --duration 30s --count {sent}"
    ));
    assert_eq!(consumed["command"], "consume");
    assert_eq!(consumed["config"]["queues"], 4);
    assert_eq!(summary_count(&consumed, "messages"), sent, "{consumed}");
    assert_eq!(summary_count(&consumed, "bytes"), sent * 128);
    assert_eq!(consumed["gaps"], 0, "{consumed}");
    assert_eq!(consumed["duplicates"], 0, "{consumed}");
    assert_eq!(summary_count(&consumed, "error_count"), 0, "{consumed}");
    assert_eq!(consumed["summary"]["latency_us"]["samples"], sent);
    assert_report_fields(&consumed);
    assert!(
        consumed["summary"]["elapsed_s"].as_f64().unwrap() < 25.0,
        "the consumer stops once --count messages arrived: {consumed}"
    );

    // The offsets were committed: the same group finds nothing left.
    let again = cluster.bench("consume -t E2E -g e2e --duration 2s");
    assert_eq!(summary_count(&again, "messages"), 0, "{again}");
    assert_eq!(summary_count(&again, "error_count"), 0, "{again}");
}

#[test]
fn topics_created_up_front_spread_the_load_and_are_all_consumed() {
    let cluster = Cluster::start();
    let produced =
        cluster.bench("produce -t Multi --topics 3 --queues 2 --create-topic --count 300");
    assert_eq!(produced["config"]["targets"], 6, "3 topics × 2 queues");
    assert_eq!(summary_count(&produced, "messages"), 300);
    assert_eq!(summary_count(&produced, "error_count"), 0, "{produced}");
    let consumed = cluster.bench(
        "consume -t Multi --topics 3 -g multi --from first --count 300 --duration 30s \
         --serialize rocketmq",
    );
    assert_eq!(consumed["config"]["queues"], 6);
    assert_eq!(consumed["config"]["serialize"], "rocketmq");
    assert_eq!(summary_count(&consumed, "messages"), 300, "{consumed}");
    assert_eq!(consumed["gaps"], 0);
    assert_eq!(consumed["duplicates"], 0);
}

/// `GET /metrics` from the broker's Prometheus endpoint.
fn scrape(port: u16) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    text
}

/// The value of the series of `family` whose labels include every one of `labels`.
fn series(text: &str, family: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{family}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .map(|value| value.parse().unwrap())
}

#[test]
fn metrics_move_by_what_the_load_generator_sent_and_consumed() {
    let (cluster, port) = Cluster::start_with("");
    let before = scrape(port);
    assert_eq!(
        series(
            &before,
            "rocketmq_messages_in_total",
            &["topic=\"Metered\""]
        ),
        None
    );
    let produced = cluster.bench("produce -t Metered --count 1500 --size 200 --queues 4");
    let sent = summary_count(&produced, "messages");
    assert_eq!(sent, 1500, "{produced}");
    let after_send = scrape(port);
    let topic = "topic=\"Metered\"";
    assert_eq!(
        series(&after_send, "rocketmq_messages_in_total", &[topic]),
        Some(sent as f64)
    );
    let bytes_in = series(&after_send, "rocketmq_throughput_in_total", &[topic]).unwrap();
    assert!(bytes_in >= (sent * 200) as f64, "{bytes_in}");
    let answered = |code: &str| {
        let request = format!("request_code=\"{code}\"");
        series(
            &after_send,
            "rocketmq_rpc_latency_count",
            &[&request, "response_code=\"0\""],
        )
        .unwrap_or(0.0)
    };
    let sends = answered("10") + answered("310");
    assert!(sends >= sent as f64, "{sends} sends answered SUCCESS");

    let consumed = cluster.bench(&format!(
        "consume -t Metered -g metered --from first --duration 30s --count {sent}"
    ));
    let got = summary_count(&consumed, "messages");
    assert_eq!(got, sent, "{consumed}");
    let after_consume = scrape(port);
    assert_eq!(
        series(&after_consume, "rocketmq_messages_out_total", &[topic]),
        Some(got as f64)
    );
    assert!(
        series(&after_consume, "rocketmq_throughput_out_total", &[topic]).unwrap()
            >= (got * 200) as f64
    );
    assert!(
        series(
            &after_consume,
            "rocketmq_consumer_lag_messages",
            &[topic, "consumer_group=\"metered\""]
        )
        .is_some(),
        "{after_consume}"
    );
    for family in [
        "rocketmq_storage_size",
        "rocketmq_storage_flush_behind_bytes",
        "rocketmq_producer_connections",
        "rocketmq_topic_number",
    ] {
        assert!(
            after_consume.contains(&format!("\n{family}{{")),
            "{family} missing"
        );
    }

    // The name server counted the broker's registrations and the clients' route lookups.
    let namesrv = scrape(cluster.namesrv_metrics);
    assert!(
        series(
            &namesrv,
            "rocketmq_rpc_latency_count",
            &["request_code=\"103\""]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{namesrv}"
    );
    assert!(
        series(
            &namesrv,
            "rocketmq_rpc_latency_count",
            &["request_code=\"105\""]
        )
        .unwrap_or(0.0)
            >= 2.0,
        "{namesrv}"
    );
    assert_eq!(
        series(
            &namesrv,
            "rocketmq_namesrv_brokers",
            &["cluster=\"DefaultCluster\""]
        ),
        Some(1.0)
    );

    // Every family the chart's Grafana dashboard queries is in one of the two scrapes.
    let dashboard = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../charts/rocketmq-operator/dashboards/rocketmq.json"),
    )
    .unwrap();
    let mut queried: Vec<&str> = dashboard
        .split("rocketmq_")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
        })
        .collect();
    queried.sort_unstable();
    queried.dedup();
    assert!(queried.len() >= 20, "{queried:?}");
    for name in queried {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        let typed = format!("# TYPE rocketmq_{family} ");
        assert!(
            after_consume.contains(&typed) || namesrv.contains(&typed),
            "the dashboard queries rocketmq_{family}, which no scrape carries"
        );
    }
}

#[test]
fn an_unreachable_name_server_fails_with_exit_1_naming_its_address() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let (status, stdout, stderr) = run_bench(&["produce", "-n", &addr, "--duration", "5s"]);
    assert_eq!(status, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach the name server at {addr}")),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let (status, stdout, _) = run_bench(&["consume", "-n", &addr, "--json"]);
    assert_eq!(status, Some(1));
    let error: Value = serde_json::from_str(&stdout).unwrap();
    assert!(error["error"].as_str().unwrap().contains(&addr), "{error}");
}

#[test]
fn with_acl_on_the_load_generator_sends_and_consumes_only_with_an_account() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("conf")).unwrap();
    std::fs::write(
        home.path().join("conf/plain_acl.yml"),
        "accounts:\n  - {accessKey: bench001, secretKey: bench-secret, admin: true}\n",
    )
    .unwrap();
    let (cluster, _) = Cluster::start_with(&format!(
        "aclEnable=true\nrocketmqHome={}",
        home.path().display()
    ));
    let keys = "--access-key bench001 --secret-key bench-secret";
    let produced = cluster.bench(&format!(
        "produce -t Guarded --count 300 --size 64 --queues 2 {keys}"
    ));
    assert_eq!(summary_count(&produced, "messages"), 300, "{produced}");
    let consumed = cluster.bench(&format!(
        "consume -t Guarded -g guarded --from first --duration 30s --count 300 {keys}"
    ));
    assert_eq!(summary_count(&consumed, "messages"), 300, "{consumed}");

    let (status, stdout, stderr) = run_bench(&[
        "produce",
        "-t",
        "Guarded",
        "--count",
        "10",
        "-n",
        &cluster.namesrv,
        "--json",
    ]);
    assert_ne!(status, Some(0), "stdout:\n{stdout}");
    // Every send refused: the broker answers ACL refusals with SYSTEM_ERROR, as Apache does.
    assert!(
        stdout.contains("\"SYSTEM_ERROR\": 10") && stderr.contains("no message was acknowledged"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

#[test]
fn over_tls_the_load_generator_sends_and_consumes_in_each_mode_and_plain_only_where_permitted() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = pki_dir.path().join("pki");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-test-certs.sh");
    assert!(
        Command::new("bash")
            .arg(script)
            .arg(&pki)
            .status()
            .unwrap()
            .success()
    );
    let ca = pki.join("ca.pem");
    for mode in ["permissive", "enforcing"] {
        let tls = format!(
            "tls.server.mode={mode}\ntls.server.certPath={}\ntls.server.keyPath={}\ntls.enable=true\n",
            pki.join("server.pem").display(),
            pki.join("server.key").display()
        );
        let (cluster, _) = Cluster::start_full(&tls, &tls);
        let over_tls = format!("--tls-ca {}", ca.display());
        let produced = cluster.bench(&format!(
            "produce -t Sealed --create-topic --count 200 --size 64 --queues 2 {over_tls}"
        ));
        assert_eq!(
            summary_count(&produced, "messages"),
            200,
            "{mode}: {produced}"
        );
        let consumed = cluster.bench(&format!(
            "consume -t Sealed -g sealed --from first --duration 30s --count 200 {over_tls}"
        ));
        assert_eq!(
            summary_count(&consumed, "messages"),
            200,
            "{mode}: {consumed}"
        );

        let (status, stdout, stderr) = run_bench(&[
            "produce",
            "-t",
            "Sealed",
            "--count",
            "10",
            "-n",
            &cluster.namesrv,
            "--json",
        ]);
        if mode == "permissive" {
            assert_eq!(
                status,
                Some(0),
                "plain beside TLS\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
        } else {
            assert_ne!(status, Some(0), "plain refused\nstdout:\n{stdout}");
        }
    }
}
