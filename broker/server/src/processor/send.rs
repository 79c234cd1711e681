//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
//!
//! Checks in Apache's order (broker writeable, topic name, system topic, topic exists or may be
//! auto-created, topic writeable, queue id, sizes), then one append to the store. Under
//! SYNC_FLUSH the response waits on the store's flush handle — a future, so no thread is held —
//! and says FLUSH_DISK_TIMEOUT when the flush did not come within `syncFlushTimeout`.

use std::sync::atomic::{AtomicU32, Ordering};

use rmq_protocol::RemotingCommand;
use rmq_protocol::batch;
use rmq_protocol::body::perm;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::send_message::{
    MSG_REGION, SendMessageRequestHeader, SendMessageResponseHeader, TRACE_ON,
};
use rmq_protocol::message::msg_id::offset_msg_id;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::sysflag;
use rmq_remoting::ConnHandle;
use rmq_store::error::PutError;
use rmq_store::{BatchItem, FlushStatus, PutBatch, PutMessage, PutResult};
use tracing::{error, warn};

use super::reply::{answer, bad_header};
use crate::state::Broker;
use crate::topics::{RETRY_GROUP_TOPIC_PREFIX, is_not_allowed_send_topic, validate_topic_name};

/// Largest properties string Apache accepts (`Short.MAX_VALUE`).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

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
    let is_batch =
        request.code == RequestCode::SendBatchMessage as i32 || header.batch == Some(true);
    let queue_id = match check(broker, request, &header) {
        Ok(queue_id) => queue_id,
        Err(refused) => return *refused,
    };
    let born_host = conn.peer();
    let put = if is_batch {
        put_batch(broker, request, &header, queue_id, born_host)
    } else {
        put_one(broker, request, &header, queue_id, born_host)
    };
    let put = match put {
        Ok(put) => put,
        Err(refused) => return *refused,
    };
    // SYNC_MASTER: the slave wait starts with the flush wait, as Apache combines the two.
    let replica = broker.replication.replicate(
        put.appended.end_offset,
        crate::ha::waits_for_store(header.properties.as_deref()),
    );
    let code = match put.flush {
        None => ResponseCode::Success,
        Some(handle) => match handle.await {
            FlushStatus::Flushed => ResponseCode::Success,
            FlushStatus::Timeout => {
                warn!(topic = %header.topic, "sync flush timed out; answering FLUSH_DISK_TIMEOUT");
                ResponseCode::FlushDiskTimeout
            }
            FlushStatus::Failed => {
                return answer(
                    request,
                    ResponseCode::ServiceNotAvailable,
                    "flush to disk failed; the broker refuses writes until restarted",
                );
            }
        },
    };
    let code = crate::ha::response_code(code, replica.outcome().await);
    let appended = &put.appended;
    let msg_id = appended
        .record_offsets
        .iter()
        .map(|offset| offset_msg_id(broker.store_host, *offset as i64))
        .collect::<Vec<_>>()
        .join(",");
    let count = appended.record_offsets.len() as u64;
    broker
        .stats
        .put_messages
        .fetch_add(count, Ordering::Relaxed);
    broker
        .stats
        .put_bytes
        .fetch_add(appended.wrote_bytes as u64, Ordering::Relaxed);
    let response_header = SendMessageResponseHeader {
        msg_id,
        queue_id,
        queue_offset: appended.queue_offset,
        transaction_id: None,
        batch_uniq_id: None,
        recall_handle: None,
    };
    RemotingCommand::response_to(request, code)
        .with_header(&response_header)
        .with_ext_field(MSG_REGION, broker.config.region_id.clone())
        .with_ext_field(TRACE_ON, broker.config.trace_on.to_string())
}

/// Apache's `msgCheck`: returns the queue id to write to, or the refusal.
fn check(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
) -> Result<i32, Box<RemotingCommand>> {
    if broker.config.role == crate::config::BrokerRole::Slave {
        return Err(Box::new(answer(
            request,
            ResponseCode::ServiceNotAvailable,
            crate::ha::SLAVE_REFUSES_SENDS,
        )));
    }
    if !broker.config.is_writeable() || !perm::is_writeable(broker.permission()) {
        return Err(Box::new(answer(
            request,
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] sending message is forbidden",
                broker.config.broker_ip1
            ),
        )));
    }
    if let Err(invalid) = validate_topic_name(&header.topic) {
        return Err(Box::new(answer(
            request,
            ResponseCode::SystemError,
            invalid.to_string(),
        )));
    }
    if is_not_allowed_send_topic(&header.topic) {
        return Err(Box::new(answer(
            request,
            ResponseCode::NoPermission,
            format!("Sending message to topic[{}] is forbidden.", header.topic),
        )));
    }
    let created = if let Some(group) = header.topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX) {
        let queues = broker
            .groups
            .find_or_create(group)
            .ok()
            .flatten()
            .map_or(1, |g| g.retry_queue_nums);
        broker.topics.get_or_create_retry(group, queues).map(Some)
    } else {
        broker.topics.get_or_create_on_send(
            &header.topic,
            &header.default_topic,
            header.default_topic_queue_nums,
        )
    };
    let topic = match created {
        Ok(Some(topic)) => topic,
        Ok(None) => {
            return Err(Box::new(answer(
                request,
                ResponseCode::TopicNotExist,
                format!(
                    "topic[{}] not exist, apply first please! http://rocketmq.apache.org/docs/faq/",
                    header.topic
                ),
            )));
        }
        Err(error) => {
            error!(topic = %header.topic, error = %error, "topic table could not be persisted");
            return Err(Box::new(answer(
                request,
                ResponseCode::SystemError,
                format!("topic[{}] could not be created: {error}", header.topic),
            )));
        }
    };
    if !perm::is_writeable(topic.perm) {
        return Err(Box::new(answer(
            request,
            ResponseCode::NoPermission,
            format!("the topic[{}] sending message is forbidden", header.topic),
        )));
    }
    let queues = topic.write_queue_nums.max(topic.read_queue_nums);
    let queue_id = if header.queue_id < 0 {
        pick_queue(topic.write_queue_nums)
    } else {
        header.queue_id
    };
    if queue_id >= queues || topic.write_queue_nums <= 0 {
        return Err(Box::new(answer(
            request,
            ResponseCode::SystemError,
            format!(
                "request queueId[{queue_id}] is illegal, topic:[{}] topicConfig.writeQueueNums:[{}] producer:[{}]",
                header.topic, topic.write_queue_nums, header.producer_group
            ),
        )));
    }
    Ok(queue_id)
}

fn put_one(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
    queue_id: i32,
    born_host: std::net::SocketAddr,
) -> Result<PutResult, Box<RemotingCommand>> {
    let props = with_cluster(broker, header.properties.as_deref().unwrap_or(""));
    check_sizes(broker, request, request.body.len(), props.len())?;
    // Dead-letter past the retry limit, half topic for transactions (see `send_route`).
    let routed = super::send_route::route(broker, request, header, queue_id, props)?;
    let message = PutMessage {
        topic: &routed.topic,
        queue_id: routed.queue_id,
        flag: header.flag,
        sys_flag: routed.sys_flag,
        born_timestamp: header.born_timestamp,
        born_host,
        reconsume_times: header.reconsume_times.unwrap_or(0),
        prepared_transaction_offset: 0,
        body: &request.body,
        properties: &routed.properties,
    };
    // A DELAY parks the message in SCHEDULE_TOPIC_XXXX first.
    crate::schedule::put_message(&broker.store, &broker.config.store.delay_levels, &message)
        .map_err(|error| Box::new(put_refused(request, &header.topic, error)))
}

fn put_batch(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
    queue_id: i32,
    born_host: std::net::SocketAddr,
) -> Result<PutResult, Box<RemotingCommand>> {
    if header.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
        return Err(Box::new(answer(
            request,
            ResponseCode::MessageIllegal,
            "batch request does not support retry group",
        )));
    }
    // Apache's `CommitLog.asyncPutMessages`: a batch is neither a transaction half nor
    // delayed. Stored anyway, half records would take no consume-queue slot (never delivered)
    // and a delay would be ignored.
    if sysflag::transaction_type(header.sys_flag) != sysflag::TRANSACTION_NOT_TYPE {
        return Err(Box::new(answer(
            request,
            ResponseCode::MessageIllegal,
            "batch messages cannot be transactional",
        )));
    }
    let batch_props = header.properties.as_deref().unwrap_or("").as_bytes();
    if crate::props::int(batch_props, keys::DELAY).is_some_and(|level| level > 0) {
        return Err(Box::new(answer(
            request,
            ResponseCode::MessageIllegal,
            "batch messages cannot be delayed (DELAY is set on the batch)",
        )));
    }
    let messages = match batch::decode(&request.body) {
        Ok(messages) if !messages.is_empty() => messages,
        Ok(_) => {
            return Err(Box::new(answer(
                request,
                ResponseCode::MessageIllegal,
                "batch body holds no message",
            )));
        }
        Err(error) => {
            return Err(Box::new(answer(
                request,
                ResponseCode::MessageIllegal,
                format!("batch body is not valid: {error}"),
            )));
        }
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
        push_with_cluster(broker, &client, &mut all_props);
        check_sizes(broker, request, message.body.len(), all_props.len() - start)?;
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
    broker
        .store
        .put_batch(&batch)
        .map_err(|error| Box::new(put_refused(request, &header.topic, error)))
}

/// The client's properties plus `CLUSTER` and, when the client set none (ali-ons does not), a
/// `UNIQ_KEY`, so every stored message can be found by its unique id.
fn with_cluster(broker: &Broker, client_properties: &str) -> Vec<u8> {
    let mut props = Vec::new();
    push_with_cluster(broker, client_properties, &mut props);
    props
}

/// Appends [`with_cluster`]'s properties for `client` to `out`, sized in one allocation and
/// looked through once.
fn push_with_cluster(broker: &Broker, client: &str, out: &mut Vec<u8>) {
    let client = client.as_bytes();
    let [has_cluster, has_uniq] =
        properties::contains_each(client, [keys::CLUSTER, keys::UNIQ_KEY]);
    let cluster = &broker.config.cluster_name;
    // At most: a separator, then `UNIQ_KEY 0x01 <32 hex digits> 0x02 CLUSTER 0x01 <name> 0x02`.
    let pair = |name: &str, value_len: usize| name.len() + value_len + 2;
    out.reserve(client.len() + 1 + pair(keys::UNIQ_KEY, 32) + pair(keys::CLUSTER, cluster.len()));
    out.extend_from_slice(client);
    if (!has_cluster || !has_uniq)
        && !client.is_empty()
        && client.last() != Some(&properties::PROPERTY_SEPARATOR)
    {
        out.push(properties::PROPERTY_SEPARATOR);
    }
    if !has_uniq {
        properties::push_property(out, keys::UNIQ_KEY, &unique_id(broker));
    }
    if !has_cluster {
        properties::push_property(out, keys::CLUSTER, cluster);
    }
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
    let since = rmq_store::commit_log::now_ms() - broker.started_at_ms;
    bytes.extend_from_slice(&(since as u32).to_be_bytes());
    bytes.extend_from_slice(&(COUNTER.fetch_add(1, Ordering::Relaxed) as u16).to_be_bytes());
    rmq_protocol::message::msg_id::to_hex(&bytes)
}

fn check_sizes(
    broker: &Broker,
    request: &RemotingCommand,
    body_len: usize,
    properties_len: usize,
) -> Result<(), Box<RemotingCommand>> {
    let max = broker.config.store.max_message_size;
    if body_len > max {
        return Err(Box::new(answer(
            request,
            ResponseCode::MessageIllegal,
            format!("the message body size over max value, MAX: {max}"),
        )));
    }
    if properties_len > MAX_PROPERTIES_LEN {
        return Err(Box::new(answer(
            request,
            ResponseCode::MessageIllegal,
            format!("the message properties length {properties_len} is over the 32767 limit"),
        )));
    }
    Ok(())
}

fn put_refused(request: &RemotingCommand, topic: &str, error: PutError) -> RemotingCommand {
    let code = match &error {
        // Apache answers a full disk with SERVICE_NOT_AVAILABLE; clients retry elsewhere.
        e if e.is_out_of_space() => ResponseCode::ServiceNotAvailable,
        PutError::BodyTooLarge { .. }
        | PutError::RecordTooLarge { .. }
        | PutError::Encode(_)
        | PutError::EmptyBatch => ResponseCode::MessageIllegal,
        PutError::Poisoned
        | PutError::ShutDown
        | PutError::ReadOnly
        | PutError::DiskFull { .. } => ResponseCode::ServiceNotAvailable,
        PutError::Roll(_) | PutError::Write(_) => ResponseCode::SystemError,
    };
    if code != ResponseCode::MessageIllegal {
        error!(%topic, error = %error, "append refused");
    }
    answer(request, code, error.to_string())
}

fn pick_queue(write_queues: i32) -> i32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    if write_queues <= 0 {
        return 0;
    }
    (NEXT.fetch_add(1, Ordering::Relaxed) % write_queues as u32) as i32
}
