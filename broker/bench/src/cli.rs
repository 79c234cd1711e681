//! Command line: `rmq-bench produce ...` and `rmq-bench consume ...`, and the checks clap cannot
//! express (a batch must fit in one request, `--duration` text).

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Largest SEND_BATCH_MESSAGE body a default broker takes (`maxMessageSize`, 4 MiB).
pub const MAX_BATCH_BODY: usize = 4 * 1024 * 1024;

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "rmq-bench",
    version,
    about = "Load generator for RocketMQ-compatible clusters: producers and a long-polling consumer, \
             throughput and latency percentiles in microseconds"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send messages and report throughput and send latency.
    Produce(ProduceArgs),
    /// Pull every queue with long polling and report throughput and produce-to-consume latency.
    Consume(ConsumeArgs),
}

/// How the producer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `--threads` senders, each waiting for its response before the next send.
    Sync,
    /// A window of `--inflight` outstanding sends per run, refilled as responses come back.
    Async,
    /// `--threads` senders of oneway requests: no response, counted when handed to the socket.
    Oneway,
    /// `--threads` senders of SEND_BATCH_MESSAGE with `--batch` messages each, one at a time.
    Batch,
}

/// Where a consumer group without a committed offset starts (Apache's `ConsumeFromWhere`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartFrom {
    /// The queue's first message.
    First,
    /// The queue's end: only messages sent after the start.
    Last,
}

/// How request headers are serialized (`hdrInfo`'s serialize type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderFormat {
    /// JSON text: what Java 4.x clients send by default.
    Json,
    /// RocketMQ's compact binary header (`rocketmq.serialize.type=ROCKETMQ` in Java).
    Rocketmq,
}

impl HeaderFormat {
    pub fn wire(self) -> rmq_protocol::SerializeType {
        match self {
            HeaderFormat::Json => rmq_protocol::SerializeType::Json,
            HeaderFormat::Rocketmq => rmq_protocol::SerializeType::RocketMq,
        }
    }
}

/// Flags both subcommands share.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Name server address(es), `host:port[;host:port...]`.
    #[arg(short = 'n', long = "namesrv", env = "NAMESRV_ADDR")]
    pub namesrv: String,
    /// Topic, or the prefix of `--topics` topics (`BenchTopic-0`, `BenchTopic-1`, ...).
    #[arg(short = 't', long, default_value = "BenchTopic")]
    pub topic: String,
    /// Spread the load over this many topics.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub topics: u32,
    /// Stop after this long (`500ms`, `30s`, `5m`, `1h`); 30 s when neither this nor `--count`
    /// is given.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many messages (attempted sends, or consumed messages).
    #[arg(long)]
    pub count: Option<u64>,
    /// Time between progress lines.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Print one JSON document at the end on stdout (progress lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Header serialization of the requests to brokers (sends and pulls).
    #[arg(long, value_enum, default_value_t = HeaderFormat::Json)]
    pub serialize: HeaderFormat,
    /// Runtime worker threads; the number of cores by default.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub io_threads: Option<u16>,
    /// ACL account: every request is signed with it (brokers with aclEnable=true).
    #[arg(long, env = "RMQ_ACCESS_KEY", requires = "secret_key")]
    pub access_key: Option<String>,
    /// The account's secret.
    #[arg(
        long,
        env = "RMQ_SECRET_KEY",
        hide_env_values = true,
        requires = "access_key"
    )]
    pub secret_key: Option<String>,
    /// Connect over TLS (any server certificate is taken unless --tls-ca is given).
    #[arg(long, env = "RMQ_TLS")]
    pub tls: bool,
    /// Check the servers' certificates against these PEM roots (implies --tls).
    #[arg(long, env = "RMQ_TLS_CA", value_name = "PEM")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// A client certificate for servers that require one (implies --tls).
    #[arg(long, env = "RMQ_TLS_CERT", value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The client certificate's key (unencrypted PEM).
    #[arg(long, env = "RMQ_TLS_KEY", value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

impl Common {
    /// The connection settings of the flags (ACL account and TLS), `timeout` to connect.
    pub fn client_config(
        &self,
        timeout: std::time::Duration,
    ) -> Result<rmq_remoting::ClientConfig, ArgError> {
        let files = rmq_remoting::tls::client::ClientTlsFiles::from_flags(
            self.tls,
            self.tls_ca.clone(),
            self.tls_cert.clone(),
            self.tls_key.clone(),
        );
        let tls = files
            .map(|files| rmq_remoting::tls::client::ClientTls::load(&files))
            .transpose()
            .map_err(|e| ArgError::Tls(e.to_string()))?;
        Ok(rmq_remoting::ClientConfig {
            connect_timeout: timeout,
            credentials: self.credentials(),
            tls,
            ..rmq_remoting::ClientConfig::default()
        })
    }

    /// The ACL account of `--access-key` and `--secret-key`, if given.
    pub fn credentials(&self) -> Option<rmq_protocol::acl::Credentials> {
        Some(rmq_protocol::acl::Credentials {
            access_key: self.access_key.clone()?,
            secret_key: self.secret_key.clone()?,
        })
    }
}

/// `rmq-bench produce`.
#[derive(Debug, Clone, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub common: Common,
    /// How messages are sent.
    #[arg(long, value_enum, default_value_t = Mode::Sync)]
    pub mode: Mode,
    /// Concurrent senders (sync, oneway and batch modes), each one request at a time: tasks on
    /// the runtime's `--io-threads` threads, like Apache's benchmark threads over one client.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub threads: u32,
    /// Outstanding requests (async mode), split over `--connections`.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub inflight: u32,
    /// Messages per SEND_BATCH_MESSAGE (batch mode).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub batch: u32,
    /// Body bytes per message. From 20 bytes on, the body starts with the send time in µs
    /// (see `message`), which the consumer reads for its latency.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=4_194_304))]
    pub size: u32,
    /// Write queues per topic and broker: those created by `--create-topic` or auto-created on
    /// the first send, and at most that many of an existing topic's.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub queues: u32,
    /// Give every message a unique `KEYS` property (indexed by the broker).
    #[arg(long)]
    pub keys: bool,
    /// Give every message the tag `TagA`.
    #[arg(long)]
    pub tags: bool,
    /// TCP connections to each broker; senders are spread over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub connections: u32,
    /// Create the topics on every master broker first (UPDATE_AND_CREATE_TOPIC).
    #[arg(long)]
    pub create_topic: bool,
    /// Cap the send rate at this many messages per second over all senders (each send waits
    /// for its slot on a fixed schedule; a producer that falls behind catches up).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: Option<u64>,
    /// Timeout of one send.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Producer group named in the send header.
    #[arg(long, default_value = "rmq-bench-producer")]
    pub group: String,
}

/// `rmq-bench consume`.
#[derive(Debug, Clone, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub common: Common,
    /// Consumer group: offsets are committed under it.
    #[arg(short = 'g', long, default_value = "rmq-bench-consumer")]
    pub group: String,
    /// Pull at most this many queues per topic and broker; all readable queues by default.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub queues: Option<u32>,
    /// Where a queue without a committed offset starts.
    #[arg(long, value_enum, default_value_t = StartFrom::Last)]
    pub from: StartFrom,
    /// Messages per pull (`maxMsgNums`).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub pull_batch: u32,
}

/// Why the arguments cannot make a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error(
        "a batch of {batch} messages of {size} bytes is {bytes} bytes, over the broker's \
         {MAX_BATCH_BODY}-byte limit: lower --batch or --size"
    )]
    BatchTooLarge { batch: u32, size: u32, bytes: usize },
    #[error("--namesrv names no address")]
    NoNamesrv,
    #[error("--interval must be positive")]
    ZeroInterval,
    #[error("--tls-ca, --tls-cert or --tls-key cannot be used: {0}")]
    Tls(String),
}

impl Common {
    /// The name server addresses of `-n`.
    pub fn namesrv_addrs(&self) -> Result<Vec<String>, ArgError> {
        let addrs: Vec<String> = self
            .namesrv
            .split(';')
            .map(str::trim)
            .filter(|addr| !addr.is_empty())
            .map(str::to_owned)
            .collect();
        if addrs.is_empty() {
            return Err(ArgError::NoNamesrv);
        }
        Ok(addrs)
    }

    /// The topic names: `--topic` itself for one topic, `{topic}-{i}` for several.
    pub fn topic_names(&self) -> Vec<String> {
        if self.topics == 1 {
            vec![self.topic.clone()]
        } else {
            (0..self.topics)
                .map(|i| format!("{}-{i}", self.topic))
                .collect()
        }
    }

    /// When the run stops: `--duration`, `--count`, both (whichever comes first), or 30 s.
    pub fn limits(&self) -> Limits {
        let duration = match (self.duration, self.count) {
            (None, None) => Some(DEFAULT_DURATION),
            (duration, _) => duration,
        };
        Limits {
            duration,
            count: self.count,
        }
    }

    fn check(&self) -> Result<(), ArgError> {
        self.namesrv_addrs()?;
        if self.interval.is_zero() {
            return Err(ArgError::ZeroInterval);
        }
        Ok(())
    }
}

/// The run length when neither `--duration` nor `--count` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(30);

/// When a run stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub duration: Option<Duration>,
    pub count: Option<u64>,
}

impl ProduceArgs {
    /// Checks what clap cannot.
    pub fn check(&self) -> Result<(), ArgError> {
        self.common.check()?;
        if self.mode == Mode::Batch {
            let per_message = crate::message::BATCH_OVERHEAD_ESTIMATE + self.size as usize;
            let bytes = per_message * self.batch as usize;
            if bytes > MAX_BATCH_BODY {
                return Err(ArgError::BatchTooLarge {
                    batch: self.batch,
                    size: self.size,
                    bytes,
                });
            }
        }
        Ok(())
    }

    /// Messages per request.
    pub fn messages_per_request(&self) -> u32 {
        if self.mode == Mode::Batch {
            self.batch
        } else {
            1
        }
    }
}

impl ConsumeArgs {
    /// Checks what clap cannot.
    pub fn check(&self) -> Result<(), ArgError> {
        self.common.check()
    }
}

/// Parses `250ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 500ms, 30s, 5m or 1h"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("{text:?}: {error}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("rmq-bench").chain(args.iter().copied()))
    }

    fn produce(args: &[&str]) -> ProduceArgs {
        match parse(args).unwrap().command {
            Command::Produce(args) => args,
            Command::Consume(_) => panic!("parsed as consume"),
        }
    }

    #[test]
    fn produce_defaults_match_apaches_benchmark_shape() {
        let args = produce(&["produce", "-n", "127.0.0.1:9876"]);
        assert_eq!(args.mode, Mode::Sync);
        assert_eq!(args.threads, 64);
        assert_eq!(args.inflight, 64);
        assert_eq!(args.batch, 32);
        assert_eq!(args.size, 128);
        assert_eq!(args.queues, 8);
        assert_eq!(args.connections, 1);
        assert_eq!(args.common.topic, "BenchTopic");
        assert_eq!(args.common.interval, Duration::from_secs(1));
        assert_eq!(args.timeout, Duration::from_secs(3));
        assert!(!args.keys && !args.tags && !args.create_topic && !args.common.json);
        assert_eq!(args.rate, None);
        assert_eq!(args.common.serialize, HeaderFormat::Json);
        assert_eq!(
            args.common.limits(),
            Limits {
                duration: Some(DEFAULT_DURATION),
                count: None
            }
        );
        assert_eq!(args.messages_per_request(), 1);
        args.check().unwrap();
    }

    #[test]
    fn produce_reads_every_flag() {
        let args = produce(&[
            "produce",
            "-n",
            "a:1;b:2",
            "-t",
            "T",
            "--mode",
            "batch",
            "--threads",
            "8",
            "--inflight",
            "128",
            "--batch",
            "16",
            "--size",
            "1024",
            "--queues",
            "4",
            "--topics",
            "3",
            "--keys",
            "--tags",
            "--count",
            "2000",
            "--connections",
            "2",
            "--interval",
            "500ms",
            "--create-topic",
            "--json",
            "--timeout",
            "10s",
            "--rate",
            "20000",
            "--serialize",
            "rocketmq",
        ]);
        assert_eq!(args.mode, Mode::Batch);
        assert_eq!((args.threads, args.inflight, args.batch), (8, 128, 16));
        assert_eq!((args.size, args.queues, args.connections), (1024, 4, 2));
        assert!(args.keys && args.tags && args.create_topic && args.common.json);
        assert_eq!(args.common.namesrv_addrs().unwrap(), ["a:1", "b:2"]);
        assert_eq!(args.common.topic_names(), ["T-0", "T-1", "T-2"]);
        assert_eq!(
            args.common.limits(),
            Limits {
                duration: None,
                count: Some(2000)
            }
        );
        assert_eq!(args.common.interval, Duration::from_millis(500));
        assert_eq!(args.timeout, Duration::from_secs(10));
        assert_eq!(args.rate, Some(20_000));
        assert_eq!(args.common.serialize, HeaderFormat::Rocketmq);
        assert_eq!(args.messages_per_request(), 16);
    }

    #[test]
    fn duration_and_count_together_stop_at_whichever_comes_first() {
        let args = produce(&["produce", "-n", "a:1", "--duration", "5s", "--count", "9"]);
        assert_eq!(
            args.common.limits(),
            Limits {
                duration: Some(Duration::from_secs(5)),
                count: Some(9)
            }
        );
    }

    #[test]
    fn one_topic_keeps_its_name() {
        let args = produce(&["produce", "-n", "a:1", "-t", "Orders"]);
        assert_eq!(args.common.topic_names(), ["Orders"]);
    }

    #[test]
    fn out_of_range_and_unknown_values_are_refused_by_name() {
        for bad in [
            &["produce", "-n", "a:1", "--threads", "0"][..],
            &["produce", "-n", "a:1", "--mode", "fast"],
            &["produce", "-n", "a:1", "--size", "0"],
            &["produce", "-n", "a:1", "--duration", "10 parsecs"],
            &["produce", "-n", "a:1", "--queues", "0"],
            &["produce", "-n", "a:1", "--rate", "0"],
            &["consume", "-n", "a:1", "--from", "middle"],
        ] {
            let error = parse(bad).unwrap_err().to_string();
            let flag = bad[3];
            assert!(error.contains(flag), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_batch_over_the_broker_limit_is_refused_before_the_run() {
        let args = produce(&[
            "produce", "-n", "a:1", "--mode", "batch", "--batch", "64", "--size", "65536",
        ]);
        assert!(matches!(
            args.check(),
            Err(ArgError::BatchTooLarge { batch: 64, .. })
        ));
        // The same sizes are fine one message per request.
        let args = produce(&[
            "produce", "-n", "a:1", "--mode", "sync", "--batch", "64", "--size", "65536",
        ]);
        args.check().unwrap();
    }

    #[test]
    fn an_empty_namesrv_list_is_refused() {
        let args = produce(&["produce", "-n", " ; "]);
        assert_eq!(args.check(), Err(ArgError::NoNamesrv));
    }

    #[test]
    fn consume_reads_its_flags() {
        let Command::Consume(args) = parse(&[
            "consume",
            "-n",
            "a:1",
            "-g",
            "cg",
            "--queues",
            "2",
            "--from",
            "first",
            "--duration",
            "2m",
        ])
        .unwrap()
        .command
        else {
            panic!("parsed as produce");
        };
        assert_eq!(args.group, "cg");
        assert_eq!(args.queues, Some(2));
        assert_eq!(args.from, StartFrom::First);
        assert_eq!(args.pull_batch, 32);
        assert_eq!(args.common.duration, Some(Duration::from_secs(120)));
    }

    #[test]
    fn durations_take_units_and_bare_seconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
