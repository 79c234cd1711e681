//! `rmq-bench produce`: resolve the queues, probe the brokers, then send until the stop.
//!
//! Load shapes:
//! - sync: `--threads` tasks, each one request at a time (Apache's benchmark producer);
//! - async: per connection, one task keeping its share of `--inflight` requests outstanding;
//! - oneway: `--threads` tasks sending without responses, counted when the request is queued on
//!   the connection (its bounded write queue and TCP push back when the broker falls behind);
//! - batch: `--threads` tasks, each one SEND_BATCH_MESSAGE of `--batch` messages at a time.
//!
//! Every task turns through the queues from its own starting point, as Java producers do. The
//! number of requests in the air is bounded by the load shape, so memory is too.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::get_max_offset::GetMaxOffsetRequestHeader;
use rmq_remoting::{Client, ClientConfig, InvokeError};
use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::cli::{HeaderFormat, Mode, ProduceArgs};
use crate::error::BenchError;
use crate::message::{MessageFactory, Target};
use crate::route::{Cluster, producer_targets};
use crate::run::{Pacer, Printer, Stop, halt_on_ctrl_c, report_until};
use crate::stats::{Recorder, Report, response_label, transport_label};

/// Pause after a failure that returns at once (connection refused or closed), so a dead broker
/// does not turn the senders into a busy loop.
const FAILURE_PAUSE: Duration = Duration::from_millis(100);
/// Recorder shards: enough that 64 senders rarely share a lock.
const SHARDS: usize = 16;

/// The JSON document of a produce run.
#[derive(Debug, Serialize)]
pub struct ProduceDocument {
    pub command: &'static str,
    pub config: ProduceConfig,
    pub summary: Report,
}

/// The run's settings, echoed in the JSON document.
#[derive(Debug, Serialize)]
pub struct ProduceConfig {
    pub namesrv: String,
    pub topic: String,
    pub topics: u32,
    pub mode: Mode,
    pub serialize: HeaderFormat,
    pub threads: u32,
    pub inflight: u32,
    pub batch: u32,
    pub size: u32,
    pub queues: u32,
    /// Queues loaded, over all topics and brokers.
    pub targets: usize,
    pub connections: u32,
    pub keys: bool,
    pub tags: bool,
    pub duration_s: Option<f64>,
    pub count: Option<u64>,
    pub rate: Option<u64>,
}

struct Run {
    factory: MessageFactory,
    targets: Vec<Target>,
    clients: Vec<Client>,
    recorder: Recorder,
    stop: Arc<Stop>,
    pacer: Option<Pacer>,
    timeout: Duration,
}

impl Run {
    /// Claims up to `want` messages and waits for their slot under `--rate`; 0 means stop.
    async fn claim(&self, want: u64) -> u64 {
        let messages = self.stop.claim(want);
        if messages > 0
            && let Some(pacer) = &self.pacer
        {
            tokio::time::sleep_until(pacer.slot(messages)).await;
        }
        messages
    }
}

/// Runs the producer and prints its figures; the summary is returned for the caller's checks.
pub async fn run(args: &ProduceArgs, printer: Printer) -> Result<Report, BenchError> {
    args.check()?;
    let config = args.common.client_config(args.timeout)?;
    let cluster = Cluster::with_config(args.common.namesrv_addrs()?, args.timeout, config.clone());
    let topics = args.common.topic_names();
    let targets = producer_targets(&cluster, &topics, args.queues, args.create_topic).await?;
    cluster.probe(&targets).await?;
    let clients = (0..args.connections)
        .map(|_| {
            Client::new(ClientConfig {
                connect_timeout: ClientConfig::default().connect_timeout,
                ..config.clone()
            })
        })
        .collect();
    let limits = args.common.limits();
    let start = Instant::now();
    let run = Arc::new(Run {
        factory: factory(args),
        targets,
        clients,
        recorder: Recorder::new(SHARDS),
        stop: Arc::new(Stop::new(limits, start)),
        pacer: args.rate.map(|rate| Pacer::new(start, rate)),
        timeout: args.timeout,
    });
    let ctrl_c = halt_on_ctrl_c(run.stop.clone());
    let mut tasks = JoinSet::new();
    match args.mode {
        Mode::Async => {
            for (driver, window) in split(args.inflight, args.connections)
                .into_iter()
                .enumerate()
            {
                tasks.spawn(async_driver(run.clone(), driver, window));
            }
        }
        Mode::Sync | Mode::Oneway | Mode::Batch => {
            let per_request = u64::from(args.messages_per_request());
            for task in 0..args.threads as usize {
                tasks.spawn(sender(run.clone(), task, args.mode, per_request));
            }
        }
    }
    let senders = async {
        tasks.join_all().await;
        if args.mode == Mode::Oneway {
            drain_oneway(&run).await;
        }
    };
    let (total, elapsed) =
        report_until(&run.recorder, printer, start, args.common.interval, senders).await;
    ctrl_c.abort();
    let summary = total.report(elapsed);
    let document = ProduceDocument {
        command: "produce",
        config: ProduceConfig {
            namesrv: args.common.namesrv.clone(),
            topic: args.common.topic.clone(),
            topics: args.common.topics,
            mode: args.mode,
            serialize: args.common.serialize,
            threads: args.threads,
            inflight: args.inflight,
            batch: args.batch,
            size: args.size,
            queues: args.queues,
            targets: run.targets.len(),
            connections: args.connections,
            keys: args.keys,
            tags: args.tags,
            duration_s: limits.duration.map(|d| d.as_secs_f64()),
            count: limits.count,
            rate: args.rate,
        },
        summary,
    };
    printer.finish("produce summary", &document.summary, &document)?;
    if document.summary.messages == 0 && document.summary.error_count > 0 {
        return Err(BenchError::NothingAcknowledged {
            errors: document.summary.error_count,
        });
    }
    Ok(document.summary)
}

/// The messages of `args`: size, keys, tags, group and header format.
fn factory(args: &ProduceArgs) -> MessageFactory {
    MessageFactory::new(args.size as usize, args.keys, args.tags, args.group.clone())
        .with_serialize(args.common.serialize.wire())
}

/// `total` split into `parts` shares as even as possible, none empty.
fn split(total: u32, parts: u32) -> Vec<usize> {
    let parts = parts.clamp(1, total.max(1));
    (0..parts)
        .map(|i| (total / parts + u32::from(i < total % parts)) as usize)
        .collect()
}

/// One request at a time (sync, oneway, batch).
async fn sender(run: Arc<Run>, task: usize, mode: Mode, per_request: u64) {
    let oneway = mode == Mode::Oneway;
    let client = &run.clients[task % run.clients.len()];
    let size = run.factory.size() as u64;
    let mut next = task;
    loop {
        let messages = run.claim(per_request).await;
        if messages == 0 {
            return;
        }
        let target = &run.targets[next % run.targets.len()];
        next = next.wrapping_add(1);
        let request = if mode == Mode::Batch {
            run.factory.batch(target, messages as usize)
        } else {
            run.factory.single(target)
        };
        let pause = if oneway {
            match client.invoke_oneway(&target.addr, request).await {
                Ok(()) => {
                    run.recorder
                        .shard(task)
                        .record_success(messages, messages * size, None);
                    false
                }
                Err(error) => {
                    run.recorder
                        .shard(task)
                        .record_error(transport_label(&error));
                    true
                }
            }
        } else {
            let started = Instant::now();
            let result = client.invoke(&target.addr, request, run.timeout).await;
            record(&run, task, result, messages, size, started.elapsed())
        };
        if pause {
            tokio::time::sleep(FAILURE_PAUSE).await;
        }
    }
}

/// Waits until every oneway request has left the process: one request with a response per
/// connection and broker, queued behind the oneways on the same connection, so the process does
/// not exit (and drop the write queues) before they were written.
async fn drain_oneway(run: &Run) {
    let mut seen: Vec<&str> = Vec::new();
    for target in &run.targets {
        if seen.contains(&target.addr.as_str()) {
            continue;
        }
        seen.push(&target.addr);
        for client in &run.clients {
            let header = GetMaxOffsetRequestHeader {
                topic: target.topic.clone(),
                queue_id: target.queue_id,
                committed: true,
            };
            let request = RemotingCommand::request_with_header(RequestCode::GetMaxOffset, &header);
            // Any answer, even a refusal, proves the connection wrote what was queued before.
            let _ = client.invoke(&target.addr, request, run.timeout).await;
        }
    }
}

/// Keeps `window` single sends outstanding on connection `driver`.
///
/// Responses are only timed when this task polls them, so it never sleeps while requests are
/// outstanding: waiting for a `--rate` slot goes on collecting responses.
async fn async_driver(run: Arc<Run>, driver: usize, window: usize) {
    let client = run.clients[driver % run.clients.len()].clone();
    let size = run.factory.size() as u64;
    let mut pending = FuturesUnordered::new();
    let mut next = driver;
    let mut open = true;
    loop {
        while open && pending.len() < window {
            if run.stop.claim(1) == 0 {
                open = false;
                break;
            }
            if let Some(pacer) = &run.pacer {
                let due = pacer.slot(1);
                let sleep = tokio::time::sleep_until(due);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        () = &mut sleep => break,
                        Some((result, latency)) = pending.next() => {
                            record(&run, driver, result, 1, size, latency);
                        }
                    }
                }
            }
            let target = &run.targets[next % run.targets.len()];
            next = next.wrapping_add(1);
            let request = run.factory.single(target);
            let client = client.clone();
            let addr = target.addr.clone();
            let timeout = run.timeout;
            pending.push(async move {
                let started = Instant::now();
                let result = client.invoke(&addr, request, timeout).await;
                (result, started.elapsed())
            });
        }
        let Some((result, latency)) = pending.next().await else {
            return;
        };
        if record(&run, driver, result, 1, size, latency) && pending.is_empty() {
            // Only when nothing is outstanding: a pause would delay timing the others.
            tokio::time::sleep(FAILURE_PAUSE).await;
        }
    }
}

/// Records one response; true when the failure calls for a pause.
fn record(
    run: &Run,
    task: usize,
    result: Result<RemotingCommand, InvokeError>,
    messages: u64,
    size: u64,
    latency: Duration,
) -> bool {
    let mut shard = run.recorder.shard(task);
    match result {
        Ok(response) if response.code == ResponseCode::Success.code() => {
            shard.record_success(messages, messages * size, Some(latency));
            false
        }
        Ok(response) => {
            shard.record_error(&response_label(response.code));
            false
        }
        Err(error) => {
            shard.record_error(transport_label(&error));
            !matches!(error, InvokeError::Timeout { .. })
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use rmq_protocol::SerializeType;

    use super::*;
    use crate::cli::{Cli, Command};

    fn produce_args(line: &str) -> ProduceArgs {
        let cli = Cli::try_parse_from(line.split_whitespace()).unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            Command::Produce(args) => args,
            Command::Consume(_) => panic!("not a produce line"),
        }
    }

    fn target() -> Target {
        Target {
            topic: "T".into(),
            broker_name: "b".into(),
            addr: "127.0.0.1:1".into(),
            queue_id: 0,
            default_queue_nums: 8,
        }
    }

    #[test]
    fn the_factory_follows_the_flags() {
        let args = produce_args("rmq-bench produce -n a:1 --size 300 --serialize rocketmq --tags");
        let request = factory(&args).single(&target());
        assert_eq!(request.serialize_type, SerializeType::RocketMq);
        assert_eq!(request.body.len(), 300);
        assert!(request.ext_fields["i"].contains("TAGS"));
        let args = produce_args("rmq-bench produce -n a:1");
        assert_eq!(
            factory(&args).single(&target()).serialize_type,
            SerializeType::Json
        );
    }

    #[test]
    fn the_async_window_is_split_evenly_over_connections() {
        assert_eq!(split(64, 1), [64]);
        assert_eq!(split(64, 3), [22, 21, 21]);
        assert_eq!(split(2, 4), [1, 1], "never a connection without a request");
        assert_eq!(split(64, 3).iter().sum::<usize>(), 64);
    }
}
