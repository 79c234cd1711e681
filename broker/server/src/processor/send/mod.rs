//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): the shell around
//! [`decide`].
//!
//! Checks in Apache's order (broker writeable, topic name, system topic, topic exists or may be
//! auto-created, topic writeable, queue id, sizes), the route (dead-letter queue past the retry
//! limit, half topic for transactions, as asked), then one append to the store; a `DELAY`
//! parks the message in `SCHEDULE_TOPIC_XXXX` on the way ([`crate::schedule`]). Under
//! SYNC_FLUSH the response waits on the store's flush handle — a future, so no thread is held —
//! and says FLUSH_DISK_TIMEOUT when the flush did not come within `syncFlushTimeout`; under
//! SYNC_MASTER it also waits for a slave.

pub mod decide;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use rmq_protocol::RemotingCommand;
use rmq_protocol::batch;
use rmq_protocol::body::perm;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::send_message::{
    MSG_REGION, SendMessageRequestHeader, SendMessageResponseHeader, TRACE_ON,
};
use rmq_protocol::message::msg_id::offset_msg_id;
use rmq_protocol::message::properties::keys;
use rmq_remoting::ConnHandle;
use rmq_store::metadata::SubscriptionGroupConfig;
use rmq_store::{BatchItem, FlushStatus, PutBatch, PutMessage, PutResult};
use tracing::{error, warn};

use self::decide::{SendProps, SendRefused};
use super::reply::{answer, bad_header};
use crate::props;
use crate::route::{self, Route};
use crate::state::Broker;
use crate::topics::{RETRY_GROUP_TOPIC_PREFIX, TRANS_HALF_TOPIC};
use crate::transaction::{self, HALF_QUEUE_ID};

/// Answers a send request.
pub async fn send(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
) -> RemotingCommand {
    let header = match SendMessageRequestHeader::from_request(request.code, &request.ext_fields) {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    store_and_answer(broker, conn, request, &header).await
}

/// Checks, routes and stores the message(s) of a send-shaped request with `header`, waits for
/// what the configured flush and replication ask, and answers. Also the store step of a reply
/// ([`super::send_reply`]).
pub async fn store_and_answer(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
) -> RemotingCommand {
    let accepted = match accept(broker, request, header, conn.peer()) {
        Ok(accepted) => accepted,
        Err(refused) => return refusal(broker, request, &header.topic, &refused),
    };
    // SYNC_MASTER: the slave wait starts with the flush wait, as Apache combines the two.
    let replica = broker
        .replication
        .replicate(accepted.put.appended.end_offset, accepted.waits_for_store);
    let code = match accepted.put.flush {
        None => ResponseCode::Success,
        Some(handle) => match handle.await {
            FlushStatus::Flushed => ResponseCode::Success,
            FlushStatus::Timeout => {
                warn!(topic = %header.topic, "sync flush timed out; answering FLUSH_DISK_TIMEOUT");
                ResponseCode::FlushDiskTimeout
            }
            FlushStatus::Failed => {
                return refusal(broker, request, &header.topic, &SendRefused::FlushFailed);
            }
        },
    };
    let code = crate::ha::response_code(code, replica.outcome().await);
    let appended = &accepted.put.appended;
    let msg_id = appended
        .record_offsets
        .iter()
        .map(|offset| offset_msg_id(broker.store_host, *offset as i64))
        .collect::<Vec<_>>()
        .join(",");
    let count = appended.record_offsets.len() as u64;
    broker.stats.put_messages.add(count);
    broker.stats.put_bytes.add(appended.wrote_bytes as u64);
    broker
        .metrics
        .messages_in(&header.topic, count, appended.wrote_bytes as u64);
    let response_header = SendMessageResponseHeader {
        msg_id,
        queue_id: accepted.queue_id,
        queue_offset: appended.queue_offset,
        transaction_id: None,
        batch_uniq_id: None,
        recall_handle: None,
    };
    RemotingCommand::response_to(request, code)
        .with_header(&response_header)
        .with_ext_field(MSG_REGION, broker.config.region_id.clone())
        .with_ext_field(TRACE_ON, broker.live.trace_on().to_string())
}

/// The answer to a refused send; refusals that say the broker is at fault are logged and
/// counted (`putMessageFailedTimes`).
fn refusal(
    broker: &Broker,
    request: &RemotingCommand,
    topic: &str,
    refused: &SendRefused,
) -> RemotingCommand {
    if refused.is_broker_fault() {
        broker.stats.put_failures.add(1);
        error!(%topic, error = %refused, "send refused");
    }
    answer(request, refused.code(), refused.to_string())
}

/// A send that was appended: where, and what its answer still waits for.
struct Accepted {
    queue_id: i32,
    put: PutResult,
    waits_for_store: bool,
}

/// The checks, the route and the append of one send request.
fn accept(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
    born_host: SocketAddr,
) -> Result<Accepted, SendRefused> {
    let props = SendProps::scan(header.properties.as_deref().unwrap_or("").as_bytes());
    decide::check_broker(
        broker.config.role,
        broker.config.is_writeable() && perm::is_writeable(broker.permission()),
        &broker.config.broker_ip1,
    )?;
    decide::check_topic_name(&header.topic)?;
    let retry_group = header.topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX);
    let group = retry_group.map(|group| broker.groups.find_or_create(group));
    let lookup = match (retry_group, &group) {
        (Some(name), Some(group)) => {
            let queues = group
                .as_ref()
                .ok()
                .and_then(Option::as_ref)
                .map_or(1, |g| g.retry_queue_nums);
            broker.topics.get_or_create_retry(name, queues).map(Some)
        }
        _ => broker.topics.get_or_create_on_send(
            &header.topic,
            &header.default_topic,
            header.default_topic_queue_nums,
        ),
    };
    let topic = decide::found_topic(&header.topic, lookup)?;
    let queue_id = decide::choose_queue(
        &topic,
        header.queue_id,
        next_round_robin(),
        &header.producer_group,
    )?;
    let is_batch =
        request.code == RequestCode::SendBatchMessage as i32 || header.batch == Some(true);
    let put = if is_batch {
        put_batch(broker, request, header, &props, queue_id, born_host)?
    } else {
        let retry = match (retry_group, group) {
            (Some(name), Some(group)) => Some((name, decide::found_group(name, group)?)),
            _ => None,
        };
        put_one(broker, request, header, &props, queue_id, retry, born_host)?
    };
    Ok(Accepted {
        queue_id,
        put,
        waits_for_store: props.waits_for_store,
    })
}

fn put_one(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
    props: &SendProps,
    queue_id: i32,
    retry: Option<(&str, SubscriptionGroupConfig)>,
    born_host: SocketAddr,
) -> Result<PutResult, SendRefused> {
    let client = header.properties.as_deref().unwrap_or("").as_bytes();
    let mut properties = Vec::new();
    decide::complete_properties(
        client,
        props,
        &broker.config.cluster_name,
        || unique_id(broker),
        &mut properties,
    );
    decide::check_sizes(
        broker.live.max_message_size(),
        request.body.len(),
        properties.len(),
    )?;
    decide::check_timer(props)?;
    let reconsume_times = header.reconsume_times.unwrap_or(0);
    let retry_limit = retry.as_ref().map(|(_, group)| {
        decide::max_reconsume_times(
            group.retry_max_times,
            request.version,
            header.max_reconsume_times,
        )
    });
    let route = decide::route(
        reconsume_times,
        retry_limit,
        props,
        broker.config.messaging.reject_transaction_message,
        &broker.config.broker_ip1,
    )?;
    let (topic, queue_id, sys_flag, properties, delay_level) = match route {
        Route::AsAsked => (
            header.topic.clone(),
            queue_id,
            header.sys_flag,
            properties,
            props.delay_level,
        ),
        Route::DeadLetter => {
            let (group, _) = retry.expect("only a retry topic routes to a dead-letter queue");
            let dlq = super::send_back::dlq(broker, group).map_err(SendRefused::DeadLetterTopic)?;
            tracing::info!(%group, reconsume_times, "retry send past the limit goes to the dead-letter queue");
            let properties = props::with(&properties, keys::DELAY, "0");
            (dlq.topic_name, 0, header.sys_flag, properties, None)
        }
        Route::Half => {
            transaction::ensure_topic(&broker.topics, TRANS_HALF_TOPIC);
            let (properties, sys_flag) =
                route::half_message(&header.topic, queue_id, header.sys_flag, &properties);
            let topic = TRANS_HALF_TOPIC.to_owned();
            (
                topic,
                HALF_QUEUE_ID,
                sys_flag,
                properties,
                props.delay_level,
            )
        }
    };
    let message = PutMessage {
        topic: &topic,
        queue_id,
        flag: header.flag,
        sys_flag,
        born_timestamp: header.born_timestamp,
        born_host,
        reconsume_times,
        prepared_transaction_offset: 0,
        body: &request.body,
        properties: &properties,
    };
    // A DELAY parks the message in SCHEDULE_TOPIC_XXXX first.
    crate::schedule::put_delayed(
        &broker.store,
        &broker.config.store.delay_levels,
        &message,
        delay_level,
    )
    .map_err(SendRefused::Store)
}

fn put_batch(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
    props: &SendProps,
    queue_id: i32,
    born_host: SocketAddr,
) -> Result<PutResult, SendRefused> {
    decide::check_batch(&header.topic, header.sys_flag, props)?;
    let messages = match batch::decode(&request.body) {
        Ok(messages) if !messages.is_empty() => messages,
        Ok(_) => return Err(SendRefused::BatchEmpty),
        Err(error) => return Err(SendRefused::BatchBody(error.to_string())),
    };
    // Every message's properties in one buffer: one allocation per batch, not per message.
    let mut all_props = Vec::new();
    let mut ranges = Vec::with_capacity(messages.len());
    for message in &messages {
        let start = all_props.len();
        // Bytes that are not UTF-8 are replaced, as Java's decoding of the batch body would
        // (`from_utf8` first: its check is cheaper than the lossy one's on valid text).
        let client = std::str::from_utf8(&message.properties).map_or_else(
            |_| String::from_utf8_lossy(&message.properties),
            std::borrow::Cow::Borrowed,
        );
        decide::complete_properties(
            client.as_bytes(),
            &SendProps::scan(client.as_bytes()),
            &broker.config.cluster_name,
            || unique_id(broker),
            &mut all_props,
        );
        decide::check_sizes(
            broker.live.max_message_size(),
            message.body.len(),
            all_props.len() - start,
        )?;
        ranges.push(start..all_props.len());
    }
    let items: Vec<BatchItem<'_>> = messages
        .iter()
        .zip(ranges)
        .map(|(m, range)| BatchItem {
            flag: m.flag,
            body: &m.body,
            properties: &all_props[range],
        })
        .collect();
    let batch = PutBatch {
        topic: &header.topic,
        queue_id,
        sys_flag: header.sys_flag,
        born_timestamp: header.born_timestamp,
        born_host,
        reconsume_times: header.reconsume_times.unwrap_or(0),
        items: &items,
    };
    broker.store.put_batch(&batch).map_err(SendRefused::Store)
}

/// A message id in `MessageClientIDSetter`'s layout: IPv4 | pid (16 bits) | broker start time
/// (32 bits) | milliseconds since start (32 bits) | counter (16 bits), as 32 hex digits.
fn unique_id(broker: &Broker) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let ip = match broker.store_host.ip() {
        std::net::IpAddr::V4(ip) => ip.octets(),
        std::net::IpAddr::V6(ip) => {
            let o = ip.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&ip);
    bytes.extend_from_slice(&(std::process::id() as u16).to_be_bytes());
    bytes.extend_from_slice(&(broker.started_at_ms as u32).to_be_bytes());
    let since = broker.clock.now_ms() - broker.started_at_ms;
    bytes.extend_from_slice(&(since as u32).to_be_bytes());
    bytes.extend_from_slice(&(COUNTER.fetch_add(1, Ordering::Relaxed) as u16).to_be_bytes());
    rmq_protocol::message::msg_id::to_hex(&bytes)
}

/// The next value of the round robin over write queues for sends that name no queue.
fn next_round_robin() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
