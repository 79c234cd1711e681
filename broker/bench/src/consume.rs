//! `rmq-bench consume`: one long-polling pull loop per queue, produce→consume latency per message.
//!
//! Each queue starts at the group's committed offset, or (none committed) at `--from`. A pull
//! asks for `--pull-batch` messages with SUSPEND | COMMIT_OFFSET | SUBSCRIPTION (`*`, so no
//! heartbeat is needed), `suspendTimeoutMillis` 15 s and a 30 s request timeout, like Java's push
//! consumer. Latency is "now" minus the send time stamped in the body (µs), or minus the stored
//! `bornTimestamp` (ms) for bodies without a stamp; both clocks are this machine's when the
//! producer runs here. At the stop, pulls in flight are abandoned and every queue's offset is
//! committed with UPDATE_CONSUMER_OFFSET, so a later run goes on where this one stopped.
//!
//! Each queue also checks that the queue offsets it receives follow each other: `gaps` counts
//! offsets skipped, `duplicates` offsets received twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::get_max_offset::{
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader,
};
use rmq_protocol::command::pull_message::{
    PullMessageRequestHeader, PullMessageResponseHeader, sys_flag,
};
use rmq_protocol::command::query_consumer_offset::{
    QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
};
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_protocol::message::record::decode_all;
use rmq_protocol::{RemotingCommand, SerializeType};
use rmq_remoting::{Client, ClientConfig};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::cli::{ConsumeArgs, HeaderFormat, StartFrom};
use crate::error::BenchError;
use crate::message::{Target, now_us, read_stamp};
use crate::route::{Cluster, consumer_targets};
use crate::run::{Printer, Stop, halt_on_ctrl_c, report_until};
use crate::stats::{Recorder, Report, response_label, transport_label};

/// How long the broker may hold a pull (Java's `brokerSuspendMaxTimeMillis`).
pub const SUSPEND_TIMEOUT: Duration = Duration::from_secs(15);
/// Timeout of a pull request (Java's `consumerTimeoutMillisWhenSuspend`).
pub const PULL_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of the other consumer requests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause after a failed pull before the next (Java's `pullTimeDelayMillsWhenException` is 3 s;
/// shorter keeps a benchmark responsive).
const FAILURE_PAUSE: Duration = Duration::from_secs(1);
/// How long to wait for a topic's route when the run has no duration.
const ROUTE_WAIT: Duration = Duration::from_secs(30);

/// The JSON document of a consume run.
#[derive(Debug, Serialize)]
pub struct ConsumeDocument {
    pub command: &'static str,
    pub config: ConsumeConfig,
    pub summary: Report,
    /// Queue offsets skipped between consecutive messages of a queue.
    pub gaps: u64,
    /// Queue offsets received more than once.
    pub duplicates: u64,
}

/// The run's settings, echoed in the JSON document.
#[derive(Debug, Serialize)]
pub struct ConsumeConfig {
    pub namesrv: String,
    pub topic: String,
    pub topics: u32,
    pub group: String,
    pub serialize: HeaderFormat,
    /// Queues pulled, over all topics and brokers.
    pub queues: usize,
    pub from: StartFrom,
    pub pull_batch: u32,
    pub duration_s: Option<f64>,
    pub count: Option<u64>,
}

struct Run {
    client: Client,
    serialize: SerializeType,
    group: String,
    from: StartFrom,
    pull_batch: i32,
    recorder: Recorder,
    stop: Arc<Stop>,
    stopped: watch::Sender<bool>,
    gaps: AtomicU64,
    duplicates: AtomicU64,
}

impl Run {
    fn end(&self) {
        self.stop.halt();
        self.stopped.send_replace(true);
    }
}

/// Runs the consumer and prints its figures; the document is returned for the caller's checks.
pub async fn run(args: &ConsumeArgs, printer: Printer) -> Result<ConsumeDocument, BenchError> {
    args.check()?;
    let config = args.common.client_config(REQUEST_TIMEOUT)?;
    let cluster = Cluster::with_config(
        args.common.namesrv_addrs()?,
        REQUEST_TIMEOUT,
        config.clone(),
    );
    let limits = args.common.limits();
    let topics = args.common.topic_names();
    let wait = limits.duration.unwrap_or(ROUTE_WAIT);
    let targets = consumer_targets(&cluster, &topics, args.queues, wait).await?;
    cluster.probe(&targets).await?;
    let start = Instant::now();
    let (stopped, _) = watch::channel(false);
    let run = Arc::new(Run {
        client: Client::new(ClientConfig {
            connect_timeout: ClientConfig::default().connect_timeout,
            ..config
        }),
        serialize: args.common.serialize.wire(),
        group: args.group.clone(),
        from: args.from,
        pull_batch: i32::try_from(args.pull_batch).unwrap_or(i32::MAX),
        recorder: Recorder::new(targets.len().min(16)),
        stop: Arc::new(Stop::new(limits, start)),
        stopped,
        gaps: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
    });
    let ctrl_c = halt_on_ctrl_c(run.stop.clone());
    let watchdog = {
        let run = run.clone();
        tokio::spawn(async move {
            // Turns the deadline or Ctrl-C into the watch that interrupts held pulls.
            loop {
                if run.stop.is_over() {
                    run.end();
                    return;
                }
                let tick = Duration::from_millis(50);
                match run.stop.deadline() {
                    Some(deadline) => tokio::time::sleep_until(deadline.min(Instant::now() + tick)),
                    None => tokio::time::sleep(tick),
                }
                .await;
            }
        })
    };
    let mut tasks = JoinSet::new();
    for (task, target) in targets.iter().cloned().enumerate() {
        tasks.spawn(pull_queue(run.clone(), task, target));
    }
    let (total, elapsed) = report_until(
        &run.recorder,
        printer,
        start,
        args.common.interval,
        tasks.join_all(),
    )
    .await;
    ctrl_c.abort();
    watchdog.abort();
    let document = ConsumeDocument {
        command: "consume",
        config: ConsumeConfig {
            namesrv: args.common.namesrv.clone(),
            topic: args.common.topic.clone(),
            topics: args.common.topics,
            group: args.group.clone(),
            serialize: args.common.serialize,
            queues: targets.len(),
            from: args.from,
            pull_batch: args.pull_batch,
            duration_s: limits.duration.map(|d| d.as_secs_f64()),
            count: limits.count,
        },
        summary: total.report(elapsed),
        gaps: run.gaps.load(Ordering::Relaxed),
        duplicates: run.duplicates.load(Ordering::Relaxed),
    };
    printer.finish("consume summary", &document.summary, &document)?;
    if !printer.json {
        println!(
            "  {:<12} {} gaps, {} duplicates",
            "offsets", document.gaps, document.duplicates
        );
    }
    Ok(document)
}

/// Pulls one queue until the stop, then commits its offset.
async fn pull_queue(run: Arc<Run>, task: usize, target: Target) {
    let mut stopped = run.stopped.subscribe();
    let Some(mut offset) = start_offset(&run, task, &target, &mut stopped).await else {
        return;
    };
    let start = offset;
    loop {
        let header = PullMessageRequestHeader {
            consumer_group: run.group.clone(),
            topic: target.topic.clone(),
            queue_id: target.queue_id,
            queue_offset: offset,
            max_msg_nums: run.pull_batch,
            sys_flag: sys_flag::COMMIT_OFFSET | sys_flag::SUSPEND | sys_flag::SUBSCRIPTION,
            commit_offset: offset,
            suspend_timeout_millis: i64::try_from(SUSPEND_TIMEOUT.as_millis()).unwrap_or(0),
            subscription: Some("*".to_owned()),
            sub_version: 0,
            expression_type: Some("TAG".to_owned()),
            max_msg_bytes: None,
            request_source: None,
            proxy_froward_client_id: None,
        };
        let mut request = RemotingCommand::request_with_header(RequestCode::PullMessage, &header);
        request.serialize_type = run.serialize;
        let pulled = tokio::select! {
            result = run.client.invoke(&target.addr, request, PULL_TIMEOUT) => result,
            _ = stopped.wait_for(|s| *s) => break,
        };
        let failed = match pulled {
            Ok(response) => match ResponseCode::from_code(response.code) {
                Some(ResponseCode::Success) => {
                    let next = next_offset(&response);
                    let (count, done) = take_messages(&run, task, &response, offset);
                    offset = next.unwrap_or(offset + count as i64);
                    if done {
                        run.end();
                    }
                    false
                }
                Some(ResponseCode::PullNotFound | ResponseCode::PullRetryImmediately) => {
                    offset = next_offset(&response).unwrap_or(offset);
                    false
                }
                Some(ResponseCode::PullOffsetMoved) => {
                    run.recorder.shard(task).record_error("PULL_OFFSET_MOVED");
                    offset = next_offset(&response).unwrap_or(offset);
                    false
                }
                _ => {
                    run.recorder
                        .shard(task)
                        .record_error(&response_label(response.code));
                    true
                }
            },
            Err(error) => {
                run.recorder
                    .shard(task)
                    .record_error(transport_label(&error));
                true
            }
        };
        if failed {
            tokio::select! {
                () = tokio::time::sleep(FAILURE_PAUSE) => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
        }
    }
    if offset != start {
        commit(&run, task, &target, offset).await;
    }
}

/// Counts and times the messages of a pull; returns how many and whether `--count` is reached.
fn take_messages(
    run: &Run,
    task: usize,
    response: &RemotingCommand,
    mut expected: i64,
) -> (u64, bool) {
    let now = now_us();
    let (mut count, mut bytes, mut gaps, mut duplicates) = (0u64, 0u64, 0u64, 0u64);
    let mut shard = run.recorder.shard(task);
    for record in decode_all(&response.body) {
        let Ok(record) = record else {
            shard.record_error("BAD_RECORD");
            break;
        };
        let queue_offset = record.queue_offset();
        if queue_offset > expected {
            gaps += (queue_offset - expected) as u64;
        } else if queue_offset < expected {
            duplicates += 1;
        }
        expected = expected.max(queue_offset + 1);
        let sent_us = match read_stamp(record.body()) {
            Some(stamp) => stamp.sent_us,
            None => u64::try_from(record.born_timestamp()).unwrap_or(0) * 1000,
        };
        shard.record_latency_us(now.saturating_sub(sent_us));
        count += 1;
        bytes += record.body().len() as u64;
    }
    shard.record_success(count, bytes, None);
    drop(shard);
    run.gaps.fetch_add(gaps, Ordering::Relaxed);
    run.duplicates.fetch_add(duplicates, Ordering::Relaxed);
    (count, run.stop.count_done(count))
}

fn next_offset(response: &RemotingCommand) -> Option<i64> {
    response
        .decode_header::<PullMessageResponseHeader>()
        .ok()
        .map(|header| header.next_begin_offset)
}

/// The group's committed offset, else `--from`; `None` when the stop came first.
async fn start_offset(
    run: &Run,
    task: usize,
    target: &Target,
    stopped: &mut watch::Receiver<bool>,
) -> Option<i64> {
    loop {
        let found = tokio::select! {
            found = query_start_offset(run, target) => found,
            _ = stopped.wait_for(|s| *s) => return None,
        };
        match found {
            Ok(offset) => return Some(offset),
            Err(label) => run.recorder.shard(task).record_error(&label),
        }
        tokio::select! {
            () = tokio::time::sleep(FAILURE_PAUSE) => {}
            _ = stopped.wait_for(|s| *s) => return None,
        }
    }
}

async fn query_start_offset(run: &Run, target: &Target) -> Result<i64, String> {
    let header = QueryConsumerOffsetRequestHeader {
        consumer_group: run.group.clone(),
        topic: target.topic.clone(),
        queue_id: target.queue_id,
        set_zero_if_not_found: Some(false),
    };
    let request = RemotingCommand::request_with_header(RequestCode::QueryConsumerOffset, &header);
    let response = run
        .client
        .invoke(&target.addr, request, REQUEST_TIMEOUT)
        .await
        .map_err(|error| transport_label(&error).to_owned())?;
    if response.code == ResponseCode::Success.code() {
        return response
            .decode_header::<QueryConsumerOffsetResponseHeader>()
            .map(|h| h.offset)
            .map_err(|_bad_header| "BAD_HEADER".to_owned());
    }
    if response.code != ResponseCode::QueryNotFound.code() {
        return Err(response_label(response.code));
    }
    match run.from {
        StartFrom::First => Ok(0),
        StartFrom::Last => {
            let header = GetMaxOffsetRequestHeader {
                topic: target.topic.clone(),
                queue_id: target.queue_id,
                committed: true,
            };
            let request = RemotingCommand::request_with_header(RequestCode::GetMaxOffset, &header);
            let response = run
                .client
                .invoke(&target.addr, request, REQUEST_TIMEOUT)
                .await
                .map_err(|error| transport_label(&error).to_owned())?;
            if response.code != ResponseCode::Success.code() {
                return Err(response_label(response.code));
            }
            response
                .decode_header::<GetMaxOffsetResponseHeader>()
                .map(|h| h.offset)
                .map_err(|_bad_header| "BAD_HEADER".to_owned())
        }
    }
}

/// UPDATE_CONSUMER_OFFSET of the offset this queue reached; a failure is counted, not fatal.
async fn commit(run: &Run, task: usize, target: &Target, offset: i64) {
    let header = UpdateConsumerOffsetRequestHeader {
        consumer_group: run.group.clone(),
        topic: target.topic.clone(),
        queue_id: target.queue_id,
        commit_offset: offset,
    };
    let request = RemotingCommand::request_with_header(RequestCode::UpdateConsumerOffset, &header);
    match run
        .client
        .invoke(&target.addr, request, REQUEST_TIMEOUT)
        .await
    {
        Ok(response) if response.code == ResponseCode::Success.code() => {}
        Ok(response) => run
            .recorder
            .shard(task)
            .record_error(&response_label(response.code)),
        Err(error) => run
            .recorder
            .shard(task)
            .record_error(transport_label(&error)),
    }
}
