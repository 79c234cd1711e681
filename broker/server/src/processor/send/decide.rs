//! The decisions of a send, without I/O: whether the broker, the topic, the queue and the sizes
//! accept it, and where it is stored. Each refusal is a [`SendRefused`] that carries Apache's
//! response code and remark; the shell ([`super`]) gathers the facts (topic and group lookups,
//! which may create them) and does the append and the waits.
//!
//! A send's property string is read once, by [`SendProps::scan`]; every later decision takes the
//! flags it found.

use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::sysflag;
use rmq_store::error::PutError;
use rmq_store::metadata::{SubscriptionGroupConfig, TopicConfig};

use crate::config::BrokerRole;
use crate::ha::SLAVE_REFUSES_SENDS;
use crate::route::Route;
use crate::topics::{TopicNameError, is_not_allowed_send_topic, validate_topic_name};

/// Largest properties string Apache accepts (`Short.MAX_VALUE`).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

/// `MQVersion.Version.V3_4_9.ordinal()`: from this request version on, the header's
/// `maxReconsumeTimes` overrides the group's `retryMaxTimes`.
pub const VERSION_3_4_9: i32 = 121;

/// Why a send (or a send-back) is refused; [`SendRefused::code`] is the response code and the
/// `Display` text Apache's remark.
#[derive(Debug, thiserror::Error)]
pub enum SendRefused {
    #[error("{SLAVE_REFUSES_SENDS}")]
    SlaveRole,
    #[error("the broker[{broker_ip}] sending message is forbidden")]
    BrokerNotWriteable { broker_ip: String },
    #[error("{0}")]
    TopicName(#[from] TopicNameError),
    #[error("Sending message to topic[{0}] is forbidden.")]
    SystemTopic(String),
    #[error("topic[{0}] not exist, apply first please! http://rocketmq.apache.org/docs/faq/")]
    TopicNotExist(String),
    #[error("topic[{topic}] could not be created: {reason}")]
    TopicNotCreated { topic: String, reason: String },
    #[error("the topic[{0}] sending message is forbidden")]
    TopicNotWriteable(String),
    #[error(
        "request queueId[{queue_id}] is illegal, topic:[{topic}] topicConfig.writeQueueNums:[{write_queues}] producer:[{producer_group}]"
    )]
    QueueIdIllegal {
        queue_id: i32,
        topic: String,
        write_queues: i32,
        producer_group: String,
    },
    #[error("the message body size over max value, MAX: {max}")]
    BodyTooLarge { max: usize },
    #[error("the message properties length {len} is over the 32767 limit")]
    PropertiesTooLong { len: usize },
    #[error("batch request does not support retry group")]
    BatchToRetryTopic,
    #[error("batch messages cannot be transactional")]
    BatchTransactional,
    #[error("batch messages cannot be delayed (DELAY is set on the batch)")]
    BatchDelayed,
    #[error("batch body holds no message")]
    BatchEmpty,
    #[error("batch body is not valid: {0}")]
    BatchBody(String),
    #[error("the broker[{broker_ip}] sending transaction message is forbidden")]
    TransactionRejected { broker_ip: String },
    #[error("subscription group not exist, {0} http://rocketmq.apache.org/docs/faq/")]
    GroupNotExist(String),
    #[error("{0}")]
    GroupNotLoaded(String),
    #[error("{0}")]
    DeadLetterTopic(String),
    #[error("{0}")]
    Store(PutError),
    #[error("flush to disk failed; the broker refuses writes until restarted")]
    FlushFailed,
    /// A timer message (`TIMER_DELIVER_MS`, `TIMER_DELAY_SEC`, `TIMER_DELAY_MS`, the 5.x
    /// clients' delivery at a given time): this broker has no timing wheel, so it answers as
    /// Apache 5 does with `timerWheelEnable=false` rather than deliver the message at once.
    #[error("accurate timer message is not enabled, timerWheelEnable is false")]
    TimerNotEnabled,
}

impl SendRefused {
    /// The response code Apache answers this refusal with.
    pub fn code(&self) -> ResponseCode {
        match self {
            SendRefused::SlaveRole | SendRefused::FlushFailed => ResponseCode::ServiceNotAvailable,
            SendRefused::BrokerNotWriteable { .. }
            | SendRefused::SystemTopic(_)
            | SendRefused::TopicNotWriteable(_)
            | SendRefused::TransactionRejected { .. } => ResponseCode::NoPermission,
            SendRefused::TopicNotExist(_) => ResponseCode::TopicNotExist,
            SendRefused::GroupNotExist(_) => ResponseCode::SubscriptionGroupNotExist,
            SendRefused::TopicName(_)
            | SendRefused::TopicNotCreated { .. }
            | SendRefused::QueueIdIllegal { .. }
            | SendRefused::GroupNotLoaded(_)
            | SendRefused::DeadLetterTopic(_)
            | SendRefused::TimerNotEnabled => ResponseCode::SystemError,
            SendRefused::BodyTooLarge { .. }
            | SendRefused::PropertiesTooLong { .. }
            | SendRefused::BatchToRetryTopic
            | SendRefused::BatchTransactional
            | SendRefused::BatchDelayed
            | SendRefused::BatchEmpty
            | SendRefused::BatchBody(_) => ResponseCode::MessageIllegal,
            SendRefused::Store(error) => store_code(error),
        }
    }

    /// Whether the refusal says something is wrong with the broker (logged), not with the
    /// request.
    pub fn is_broker_fault(&self) -> bool {
        matches!(
            self,
            SendRefused::TopicNotCreated { .. }
                | SendRefused::GroupNotLoaded(_)
                | SendRefused::DeadLetterTopic(_)
                | SendRefused::FlushFailed
        ) || matches!(self, SendRefused::Store(e) if store_code(e) != ResponseCode::MessageIllegal)
    }
}

/// The answer to a failed append.
fn store_code(error: &PutError) -> ResponseCode {
    match error {
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
    }
}

/// What the send path needs from a message's property string, found in one pass. As
/// `properties::find`, the last pair of a name decides and a value that is not UTF-8 counts as
/// absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendProps {
    /// `CLUSTER` is set (the broker adds it otherwise).
    pub has_cluster: bool,
    /// `UNIQ_KEY` is set (the broker adds one otherwise; ali-ons sets none).
    pub has_uniq_key: bool,
    /// `TRAN_MSG=true` (Java `Boolean.parseBoolean`): a transaction's half message.
    pub transaction: bool,
    /// `DELAY`, when it reads as a number.
    pub delay_level: Option<i64>,
    /// Whether the producer waits for the store (`WAIT` is not `false`): the SYNC_MASTER wait.
    pub waits_for_store: bool,
    /// `TIMER_DELIVER_MS`, `TIMER_DELAY_SEC` or `TIMER_DELAY_MS` is set and `TIMER_OUT_MS` is
    /// not (a message the timing wheel itself puts back): Apache 5's `checkIfTimerMessage`
    /// before the delay level is looked at.
    pub timer: bool,
}

impl SendProps {
    pub fn scan(raw: &[u8]) -> SendProps {
        let (mut cluster, mut uniq, mut tran, mut delay, mut wait) = (None, None, None, None, None);
        let (mut timer, mut timer_out) = (None, None);
        for (name, value) in properties::iter(raw) {
            let slot = match name {
                b"CLUSTER" => &mut cluster,
                b"UNIQ_KEY" => &mut uniq,
                b"TRAN_MSG" => &mut tran,
                b"DELAY" => &mut delay,
                b"WAIT" => &mut wait,
                b"TIMER_DELIVER_MS" | b"TIMER_DELAY_SEC" | b"TIMER_DELAY_MS" => &mut timer,
                b"TIMER_OUT_MS" => &mut timer_out,
                _ => continue,
            };
            *slot = Some(value);
        }
        SendProps {
            has_cluster: text(cluster).is_some(),
            has_uniq_key: text(uniq).is_some(),
            transaction: text(tran).is_some_and(|v| v.eq_ignore_ascii_case("true")),
            delay_level: text(delay).and_then(|v| v.trim().parse().ok()),
            waits_for_store: text(wait) != Some("false"),
            timer: timer.is_some() && timer_out.is_none(),
        }
    }
}

fn text(value: Option<&[u8]>) -> Option<&str> {
    value.and_then(|v| std::str::from_utf8(v).ok())
}

/// Whether the broker takes sends at all: a slave never does (SERVICE_NOT_AVAILABLE), a
/// master only with the write permission (`brokerPermission`, changeable at runtime).
pub fn check_broker(role: BrokerRole, writeable: bool, broker_ip: &str) -> Result<(), SendRefused> {
    if role == BrokerRole::Slave {
        return Err(SendRefused::SlaveRole);
    }
    if !writeable {
        return Err(SendRefused::BrokerNotWriteable {
            broker_ip: broker_ip.to_owned(),
        });
    }
    Ok(())
}

/// Whether the broker takes a send-back: the write permission (a slave has none).
pub fn check_writeable(writeable: bool, broker_ip: &str) -> Result<(), SendRefused> {
    if !writeable {
        return Err(SendRefused::BrokerNotWriteable {
            broker_ip: broker_ip.to_owned(),
        });
    }
    Ok(())
}

/// A consumer group named by a send to its retry topic or by a send-back, found or
/// auto-created, or why there is none.
pub fn found_group<E: std::fmt::Display>(
    group: &str,
    lookup: Result<Option<SubscriptionGroupConfig>, E>,
) -> Result<SubscriptionGroupConfig, SendRefused> {
    match lookup {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Err(SendRefused::GroupNotExist(group.to_owned())),
        Err(error) => Err(SendRefused::GroupNotLoaded(error.to_string())),
    }
}

/// The topic's name is one Apache accepts and not a topic only the broker writes.
pub fn check_topic_name(topic: &str) -> Result<(), SendRefused> {
    validate_topic_name(topic)?;
    if is_not_allowed_send_topic(topic) {
        return Err(SendRefused::SystemTopic(topic.to_owned()));
    }
    Ok(())
}

/// The topic looked up (or created) for a send, or why there is none.
pub fn found_topic<E: std::fmt::Display>(
    topic: &str,
    lookup: Result<Option<TopicConfig>, E>,
) -> Result<TopicConfig, SendRefused> {
    match lookup {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Err(SendRefused::TopicNotExist(topic.to_owned())),
        Err(error) => Err(SendRefused::TopicNotCreated {
            topic: topic.to_owned(),
            reason: error.to_string(),
        }),
    }
}

/// The queue a send goes to: the producer's, or (for a negative queue id) the `round_robin`-th
/// write queue; refused when the topic is not writeable or the queue does not exist.
pub fn choose_queue(
    topic: &TopicConfig,
    requested: i32,
    round_robin: u32,
    producer_group: &str,
) -> Result<i32, SendRefused> {
    check_topic_writeable(topic)?;
    let queues = topic.write_queue_nums.max(topic.read_queue_nums);
    let queue_id = if requested >= 0 {
        requested
    } else if topic.write_queue_nums > 0 {
        (round_robin % topic.write_queue_nums as u32) as i32
    } else {
        0
    };
    if queue_id >= queues || topic.write_queue_nums <= 0 {
        return Err(SendRefused::QueueIdIllegal {
            queue_id,
            topic: topic.topic_name.clone(),
            write_queues: topic.write_queue_nums,
            producer_group: producer_group.to_owned(),
        });
    }
    Ok(queue_id)
}

/// The topic takes writes (its `perm` has the write bit).
pub fn check_topic_writeable(topic: &TopicConfig) -> Result<(), SendRefused> {
    if !perm::is_writeable(topic.perm) {
        return Err(SendRefused::TopicNotWriteable(topic.topic_name.clone()));
    }
    Ok(())
}

/// A message's body and (completed) properties fit Apache's limits.
pub fn check_sizes(
    max_body: usize,
    body_len: usize,
    properties_len: usize,
) -> Result<(), SendRefused> {
    if body_len > max_body {
        return Err(SendRefused::BodyTooLarge { max: max_body });
    }
    if properties_len > MAX_PROPERTIES_LEN {
        return Err(SendRefused::PropertiesTooLong {
            len: properties_len,
        });
    }
    Ok(())
}

/// What Apache's `CommitLog.asyncPutMessages` refuses in a batch: a retry topic, a
/// transaction type, a delay on the batch. Stored anyway, half records would take no
/// consume-queue slot (never delivered) and a delay would be ignored.
pub fn check_batch(topic: &str, sys_flag: i32, props: &SendProps) -> Result<(), SendRefused> {
    if topic.starts_with(crate::topics::RETRY_GROUP_TOPIC_PREFIX) {
        return Err(SendRefused::BatchToRetryTopic);
    }
    if sysflag::transaction_type(sys_flag) != sysflag::TRANSACTION_NOT_TYPE {
        return Err(SendRefused::BatchTransactional);
    }
    if props.delay_level.is_some_and(|level| level > 0) {
        return Err(SendRefused::BatchDelayed);
    }
    Ok(())
}

/// A timer message is refused (no timing wheel here); with a delay level set, Apache 5 takes
/// the message as a delay-level message and ignores the timer properties, and so does this.
pub fn check_timer(props: &SendProps) -> Result<(), SendRefused> {
    if props.timer && props.delay_level.is_none_or(|level| level <= 0) {
        return Err(SendRefused::TimerNotEnabled);
    }
    Ok(())
}

/// The reconsume limit of a group: its `retryMaxTimes`, or the request's `maxReconsumeTimes`
/// from clients of version 3.4.9 on.
pub fn max_reconsume_times(group_max: i32, request_version: i32, header_max: Option<i32>) -> i32 {
    match header_max {
        Some(times) if request_version >= VERSION_3_4_9 => times,
        _ => group_max,
    }
}

/// Routes one message ([`crate::route::send`]), refused when it is a half message and the
/// broker rejects transactions (`rejectTransactionMessage`).
pub fn route(
    reconsume_times: i32,
    retry_limit: Option<i32>,
    props: &SendProps,
    reject_transaction_message: bool,
    broker_ip: &str,
) -> Result<Route, SendRefused> {
    let route = crate::route::send(reconsume_times, retry_limit, props.transaction);
    if route == Route::Half && reject_transaction_message {
        return Err(SendRefused::TransactionRejected {
            broker_ip: broker_ip.to_owned(),
        });
    }
    Ok(route)
}

/// Completes a client's property string into `out`: `UNIQ_KEY` when the client set none (so
/// every stored message can be found by its unique id) and `CLUSTER`, sized in one allocation.
pub fn complete_properties(
    client: &[u8],
    props: &SendProps,
    cluster: &str,
    unique_id: impl FnOnce() -> String,
    out: &mut Vec<u8>,
) {
    // At most: a separator, then `UNIQ_KEY 0x01 <32 hex digits> 0x02 CLUSTER 0x01 <name> 0x02`.
    let pair = |name: &str, value_len: usize| name.len() + value_len + 2;
    out.reserve(client.len() + 1 + pair(keys::UNIQ_KEY, 32) + pair(keys::CLUSTER, cluster.len()));
    out.extend_from_slice(client);
    if (!props.has_cluster || !props.has_uniq_key)
        && !client.is_empty()
        && client.last() != Some(&properties::PROPERTY_SEPARATOR)
    {
        out.push(properties::PROPERTY_SEPARATOR);
    }
    if !props.has_uniq_key {
        properties::push_property(out, keys::UNIQ_KEY, &unique_id());
    }
    if !props.has_cluster {
        properties::push_property(out, keys::CLUSTER, cluster);
    }
}

#[cfg(test)]
mod tests;
