//! The check-back pass (Apache 4.9 `TransactionalMessageServiceImpl.check`): every
//! `transactionCheckInterval`, walk the half queue from the check group's offset.
//!
//! For each half message, in queue order:
//! - an op record names it: resolved, skip;
//! - it was checked `transactionCheckMax` times already, or is older than the commit log's
//!   retention: move it to `TRANS_CHECK_MAX_TIME_TOPIC` (discarded, as 4.9 does), skip;
//! - it was stored after this pass began, or is younger than `transactionTimeOut` (or its
//!   `CHECK_IMMUNITY_TIME_IN_SECONDS`): stop, the rest waits for the next pass;
//! - otherwise append a copy with `TRANSACTION_CHECK_TIMES` + 1 to the half queue and ask one
//!   producer of its group (CHECK_TRANSACTION_STATE, about the copy); skip the original.
//!
//! The producer answers with END_TRANSACTION about the copy; an UNKNOW answer leaves the copy
//! unresolved, so it is checked again at the next pass. [`decide`] is the pure rule; [`run_pass`]
//! applies it to a store and returns the checks to send, so tests drive it with any clock.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::RequestCode;
use rmq_protocol::command::check_transaction_state::CheckTransactionStateRequestHeader;
use rmq_protocol::message::msg_id::offset_msg_id;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::{self, RecordView};
use rmq_store::{MessageStore, PutMessage};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::{CHECK_GROUP, HALF_QUEUE_ID, op_offsets};
use crate::config::BrokerRole;
use crate::offsets::ConsumerOffsets;
use crate::props;
use crate::state::Broker;
use crate::stop_signal::stopped;
use crate::topics::{TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC, Topics};

/// What to do with one unresolved half message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Checked too often or too old: move it aside.
    Discard,
    /// Too young, or stored during this pass: stop here until the next pass.
    Later,
    /// Ask the producer; the copy carries this check count.
    Check { check_times: i32 },
}

/// The facts [`decide`] needs about a half message and the pass.
#[derive(Debug, Clone, Copy)]
pub struct HalfFacts {
    /// `TRANSACTION_CHECK_TIMES`, if any check happened.
    pub check_times: Option<i32>,
    /// `CHECK_IMMUNITY_TIME_IN_SECONDS`, if the producer set it.
    pub immunity_seconds: Option<i64>,
    pub born_timestamp: i64,
    pub store_timestamp: i64,
}

/// The limits of one pass.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout_ms: i64,
    pub check_max: i32,
    /// The commit log's retention (`fileReservedTime`) in ms.
    pub reserved_ms: i64,
}

/// Apache's rule for one half message (`needDiscard`, `needSkip`, the age checks).
pub fn decide(facts: HalfFacts, limits: Limits, pass_start: i64, now: i64) -> Decision {
    let check_times = match facts.check_times {
        Some(n) if n >= limits.check_max => return Decision::Discard,
        Some(n) => n + 1,
        None => 1,
    };
    let age = now - facts.born_timestamp;
    if age > limits.reserved_ms {
        return Decision::Discard;
    }
    if facts.store_timestamp >= pass_start {
        return Decision::Later;
    }
    let immunity = match facts.immunity_seconds {
        Some(-1) | None => limits.timeout_ms,
        Some(seconds) => seconds.saturating_mul(1000),
    };
    if (0..immunity).contains(&age) {
        return Decision::Later;
    }
    Decision::Check { check_times }
}

/// One CHECK_TRANSACTION_STATE to send.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub producer_group: String,
    pub header: CheckTransactionStateRequestHeader,
    /// The copy's full record with its real topic and queue restored.
    pub body: Vec<u8>,
}

/// What a pass did.
#[derive(Debug, Default)]
pub struct PassOutcome {
    pub checks: Vec<CheckRequest>,
    pub discarded: usize,
    pub resolved: usize,
}

/// Runs one pass over the half queue at time `now` (ms).
pub fn run_pass(
    store: &MessageStore,
    topics: &Topics,
    offsets: &ConsumerOffsets,
    limits: Limits,
    now: i64,
) -> PassOutcome {
    let mut outcome = PassOutcome::default();
    let queue_id = HALF_QUEUE_ID;
    let half_max = store.max_offset_in_queue(TRANS_HALF_TOPIC, queue_id);
    if half_max == 0 {
        return outcome;
    }
    let half_start = offsets
        .query(CHECK_GROUP, TRANS_HALF_TOPIC, queue_id)
        .unwrap_or(0)
        .max(store.min_offset_in_queue(TRANS_HALF_TOPIC, queue_id) as i64);
    let op_start = offsets
        .query(CHECK_GROUP, TRANS_OP_HALF_TOPIC, queue_id)
        .unwrap_or(0)
        .max(store.min_offset_in_queue(TRANS_OP_HALF_TOPIC, queue_id) as i64);
    // Op records: half offset -> op offset; ops for half messages already passed are done.
    let mut pending: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut done_ops: BTreeSet<i64> = BTreeSet::new();
    for (op_offset, half_offsets) in read_ops(store, queue_id, op_start) {
        for half in half_offsets {
            if half < half_start {
                done_ops.insert(op_offset);
            } else {
                pending.entry(half).or_default().push(op_offset);
            }
        }
    }
    // Up to the end the pass started with: the copies it appends are for the next pass.
    let mut reader = store
        .read_queue(TRANS_HALF_TOPIC, queue_id, half_start as u64)
        .until(half_max);
    let mut next = half_start;
    let mut stopped = false;
    while let Some(raw) = reader.next() {
        // One record per read: the reader's position is just past it.
        let at = reader.position() as i64 - 1;
        if let Some(ops) = pending.remove(&at) {
            done_ops.extend(ops);
            outcome.resolved += 1;
            next = at + 1;
            continue;
        }
        let Ok(view) = RecordView::decode(&raw) else {
            error!(offset = at, "unreadable half message skipped");
            next = at + 1;
            continue;
        };
        let props_raw = view.properties();
        let facts = HalfFacts {
            check_times: props::int(props_raw, keys::TRANSACTION_CHECK_TIMES)
                .and_then(|n| i32::try_from(n).ok()),
            immunity_seconds: props::int(props_raw, keys::CHECK_IMMUNITY_TIME_IN_SECONDS),
            born_timestamp: view.born_timestamp(),
            store_timestamp: view.store_timestamp(),
        };
        match decide(facts, limits, now, now) {
            Decision::Later => {
                next = at;
                stopped = true;
                break;
            }
            Decision::Discard => {
                discard(store, topics, &view);
                outcome.discarded += 1;
            }
            Decision::Check { check_times } => match put_back(store, &view, check_times) {
                Some(check) => outcome.checks.push(check),
                // Could not append the copy: try again at the next pass.
                None => {
                    next = at;
                    stopped = true;
                    break;
                }
            },
        }
        next = at + 1;
    }
    if !stopped {
        // Entries that could not be read are passed over too.
        next = next.max(reader.position() as i64);
    }
    // Ops of half messages passed over without a record to read are done as well.
    for (half, ops) in pending {
        if half < next {
            done_ops.extend(ops);
        }
    }
    if next != half_start {
        offsets.commit(CHECK_GROUP, TRANS_HALF_TOPIC, queue_id, next);
    }
    // The op offset moves over the contiguous run of ops whose half message is passed.
    let mut op_next = op_start;
    while done_ops.contains(&op_next) {
        op_next += 1;
    }
    if op_next != op_start {
        offsets.commit(CHECK_GROUP, TRANS_OP_HALF_TOPIC, queue_id, op_next);
    }
    outcome
}

/// Every op record from `from`: (op offset, half offsets it resolves).
fn read_ops(store: &MessageStore, queue_id: i32, from: i64) -> Vec<(i64, Vec<i64>)> {
    let reader = store
        .read_queue(TRANS_OP_HALF_TOPIC, queue_id, from.max(0) as u64)
        .batch(32);
    reader
        .filter_map(|raw| {
            let view = RecordView::decode(&raw).ok()?;
            let is_op = properties::find(view.properties(), keys::TAGS) == Some(super::OP_TAG);
            let halves = if is_op {
                op_offsets(view.body())
            } else {
                Vec::new()
            };
            Some((view.queue_offset(), halves))
        })
        .collect()
}

/// Appends a copy of the half message with the new check count; returns the check to send.
fn put_back(store: &MessageStore, view: &RecordView<'_>, check_times: i32) -> Option<CheckRequest> {
    let props = props::with(
        view.properties(),
        keys::TRANSACTION_CHECK_TIMES,
        &check_times.to_string(),
    );
    let put = store.put_message(&PutMessage {
        properties: &props,
        ..crate::route::copy_of(view, TRANS_HALF_TOPIC, view.queue_id())
    });
    let appended = match put {
        Ok(put) => put.appended,
        Err(e) => {
            error!(error = %e, "half message could not be put back for its check");
            return None;
        }
    };
    let commit_log_offset = appended.record_offsets.first().copied()? as i64;
    let queue_offset = appended.queue_offset;
    let producer_group = properties::find(&props, keys::PGROUP)
        .unwrap_or("")
        .to_owned();
    let real_topic = properties::find(&props, keys::REAL_TOPIC).unwrap_or(TRANS_HALF_TOPIC);
    let real_queue = props::int(&props, keys::REAL_QID)
        .and_then(|q| i32::try_from(q).ok())
        .unwrap_or(0);
    let uniq = properties::find(&props, keys::UNIQ_KEY).map(str::to_owned);
    let store_host = view.store_host();
    let mut fields = view.fields();
    fields.topic = real_topic;
    fields.queue_id = real_queue;
    fields.queue_offset = queue_offset;
    fields.physical_offset = commit_log_offset;
    fields.store_timestamp = appended.store_timestamp;
    fields.properties = &props;
    let body = match record::encode(&fields) {
        Ok(body) => body,
        Err(e) => {
            error!(error = %e, "check message could not be encoded");
            return None;
        }
    };
    Some(CheckRequest {
        producer_group,
        header: CheckTransactionStateRequestHeader {
            topic: Some(real_topic.to_owned()),
            tran_state_table_offset: queue_offset,
            commit_log_offset,
            msg_id: uniq.clone(),
            transaction_id: uniq,
            offset_msg_id: Some(offset_msg_id(store_host, commit_log_offset)),
        },
        body,
    })
}

/// Moves a half message checked too often to `TRANS_CHECK_MAX_TIME_TOPIC` (4.9's
/// `resolveDiscardMsg`), where tools can still find it.
fn discard(store: &MessageStore, topics: &Topics, view: &RecordView<'_>) {
    super::ensure_topic(topics, TRANS_CHECK_MAX_TIME_TOPIC);
    warn!(
        producer_group = properties::find(view.properties(), keys::PGROUP).unwrap_or(""),
        uniq_key = properties::find(view.properties(), keys::UNIQ_KEY).unwrap_or(""),
        real_topic = properties::find(view.properties(), keys::REAL_TOPIC).unwrap_or(""),
        "half message checked too many times; moved to {TRANS_CHECK_MAX_TIME_TOPIC}"
    );
    let put = store.put_message(&crate::route::copy_of(view, TRANS_CHECK_MAX_TIME_TOPIC, 0));
    if let Err(e) = put {
        error!(error = %e, "discarded half message could not be stored");
    }
}

/// The check service: a pass every `transactionCheckInterval` on a master; each check goes oneway
/// to one producer connection of the message's group (none online: it waits for the next pass).
pub async fn run(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    if broker.config.role == BrokerRole::Slave {
        return;
    }
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        // Read each pass: UPDATE_BROKER_CONFIG may change it.
        let period = broker
            .live
            .transaction_check_interval()
            .max(std::time::Duration::from_millis(100));
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(period) => {}
        }
        let b = broker.clone();
        let _serialized = broker.messaging.transaction_lock.lock().await;
        let pass = tokio::task::spawn_blocking(move || {
            let limits = Limits {
                timeout_ms: b.live.transaction_timeout().as_millis() as i64,
                check_max: b.live.transaction_check_max(),
                reserved_ms: (b.store.retention().file_reserved_time_hours as i64)
                    .saturating_mul(3_600_000),
            };
            let now = b.clock.now_ms();
            run_pass(&b.store, &b.topics, &b.offsets, limits, now)
        })
        .await;
        let outcome = match pass {
            Ok(outcome) => outcome,
            Err(join) => {
                error!(error = %join, "transaction check pass failed");
                continue;
            }
        };
        if !outcome.checks.is_empty() || outcome.discarded > 0 {
            info!(
                checks = outcome.checks.len(),
                discarded = outcome.discarded,
                resolved = outcome.resolved,
                "transaction check pass"
            );
        }
        for check in outcome.checks {
            let channel = broker.clients().producer_channel(&check.producer_group);
            let Some(channel) = channel else {
                warn!(group = %check.producer_group, "no producer of the group is online; the half message is checked again later");
                continue;
            };
            let request = RemotingCommand::request_with_header(
                RequestCode::CheckTransactionState,
                &check.header,
            )
            .with_body(check.body);
            if let Err(e) = channel.send_oneway(request).await {
                warn!(group = %check.producer_group, error = %e, "check could not be sent");
            }
        }
    }
}

#[cfg(test)]
mod tests;
