//! The decisions of a pull, without I/O: whether the broker, the group, the topic and the queue
//! allow it, which filter applies, how long it may be held, how much one read returns, and how a
//! read's outcome is answered (Apache's mapping of `GetMessageStatus`). Each refusal is a
//! [`PullRefused`] carrying Apache's response code and remark.

use std::time::Duration;

use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_store::GetStatus;
use rmq_store::metadata::{SubscriptionGroupConfig, TopicConfig};

use crate::sql_filter::select::{FilterRefused, MessageFilter};

/// Most bytes returned by one pull (Apache's `maxTransferBytesOnMessageInMemory`); at least one
/// message is always returned, however large.
pub const MAX_PULL_BYTES: usize = 256 * 1024;

/// Why a pull is refused; [`PullRefused::code`] is the response code and the `Display` text
/// Apache's remark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullRefused {
    #[error("the broker[{broker_ip}] pulling message is forbidden")]
    BrokerNotReadable { broker_ip: String },
    #[error("subscription group [{0}] does not exist, http://rocketmq.apache.org/docs/faq/")]
    GroupNotExist(String),
    #[error("subscription group could not be created: {0}")]
    GroupNotLoaded(String),
    #[error("subscription group no permission, {0}")]
    GroupConsumeDisabled(String),
    #[error("topic[{0}] not exist, apply first please! http://rocketmq.apache.org/docs/faq/")]
    TopicNotExist(String),
    #[error("the topic[{0}] pulling message is forbidden")]
    TopicNotReadable(String),
    #[error(
        "queueId[{queue_id}] is illegal, topic:[{topic}] topicConfig.readQueueNums:[{read_queues}] consumer:[{group}]"
    )]
    QueueIdIllegal {
        queue_id: i32,
        topic: String,
        read_queues: i32,
        group: String,
    },
    #[error("{0}")]
    FilterNotSupported(String),
    #[error("parse the consumer's subscription failed: {0}")]
    SubscriptionParse(String),
    #[error("the consumer's group info not exist, http://rocketmq.apache.org/docs/faq/ group: {0}")]
    ConsumerGroupUnknown(String),
    #[error(
        "the consumer's subscription not exist, http://rocketmq.apache.org/docs/faq/ topic: {0}"
    )]
    SubscriptionUnknown(String),
    #[error("The broker's consumer filter data is not exist!Your expression may be wrong! {0}")]
    FilterDataMissing(String),
}

impl PullRefused {
    /// The response code Apache answers this refusal with.
    pub fn code(&self) -> ResponseCode {
        match self {
            PullRefused::BrokerNotReadable { .. }
            | PullRefused::GroupConsumeDisabled(_)
            | PullRefused::TopicNotReadable(_) => ResponseCode::NoPermission,
            PullRefused::GroupNotExist(_) => ResponseCode::SubscriptionGroupNotExist,
            PullRefused::GroupNotLoaded(_)
            | PullRefused::QueueIdIllegal { .. }
            | PullRefused::FilterNotSupported(_) => ResponseCode::SystemError,
            PullRefused::TopicNotExist(_) => ResponseCode::TopicNotExist,
            PullRefused::SubscriptionParse(_) => ResponseCode::SubscriptionParseFailed,
            PullRefused::ConsumerGroupUnknown(_) | PullRefused::SubscriptionUnknown(_) => {
                ResponseCode::SubscriptionNotExist
            }
            PullRefused::FilterDataMissing(_) => ResponseCode::FilterDataNotExist,
        }
    }
}

/// Whether the broker serves pulls (`brokerPermission` has the read bit).
pub fn check_broker(permission: i32, broker_ip: &str) -> Result<(), PullRefused> {
    if !perm::is_readable(permission) {
        return Err(PullRefused::BrokerNotReadable {
            broker_ip: broker_ip.to_owned(),
        });
    }
    Ok(())
}

/// The consumer's subscription group, found or auto-created. A group the master created within
/// a metadata sync period of dying has not reached a slave: the slave serves it with the
/// defaults rather than leave its messages unreadable.
pub fn found_group<E: std::fmt::Display>(
    group: &str,
    lookup: Result<Option<SubscriptionGroupConfig>, E>,
    on_slave: bool,
) -> Result<SubscriptionGroupConfig, PullRefused> {
    let config = match lookup {
        Ok(Some(config)) => config,
        Ok(None) if on_slave => crate::groups::unsynced_on_slave(group),
        Ok(None) => return Err(PullRefused::GroupNotExist(group.to_owned())),
        Err(error) => return Err(PullRefused::GroupNotLoaded(error.to_string())),
    };
    if !config.consume_enable {
        return Err(PullRefused::GroupConsumeDisabled(group.to_owned()));
    }
    Ok(config)
}

/// The topic is known (or, on a slave, held by the store), readable, and has the queue.
pub fn check_topic(
    name: &str,
    topic: Option<&TopicConfig>,
    queue_id: i32,
    group: &str,
) -> Result<(), PullRefused> {
    let Some(topic) = topic else {
        return Err(PullRefused::TopicNotExist(name.to_owned()));
    };
    if !perm::is_readable(topic.perm) {
        return Err(PullRefused::TopicNotReadable(name.to_owned()));
    }
    if queue_id < 0 || queue_id >= topic.read_queue_nums {
        return Err(PullRefused::QueueIdIllegal {
            queue_id,
            topic: name.to_owned(),
            read_queues: topic.read_queue_nums,
            group: group.to_owned(),
        });
    }
    Ok(())
}

/// The filter of a pull that carries its subscription (the SUBSCRIPTION flag).
pub fn filter_from_request(
    property_filter: bool,
    expression_type: Option<&str>,
    expression: Option<&str>,
) -> Result<MessageFilter, PullRefused> {
    MessageFilter::build(property_filter, expression_type, expression).map_err(|refused| {
        match refused {
            FilterRefused::NotSupported(_) => PullRefused::FilterNotSupported(refused.to_string()),
            FilterRefused::Parse(error) => PullRefused::SubscriptionParse(error.to_string()),
        }
    })
}

/// The filter of a pull from the subscription its consumer registered by heartbeat: `None`
/// when the group or the topic's subscription is unknown (`subscription` is the group's
/// `(expression type, expression)` for the topic, `group_known` whether any heartbeat came).
pub fn filter_from_heartbeat(
    property_filter: bool,
    group: &str,
    topic: &str,
    group_known: bool,
    subscription: Option<(&str, &str)>,
) -> Result<MessageFilter, PullRefused> {
    if !group_known {
        return Err(PullRefused::ConsumerGroupUnknown(group.to_owned()));
    }
    let Some((expression_type, expression)) = subscription else {
        return Err(PullRefused::SubscriptionUnknown(topic.to_owned()));
    };
    MessageFilter::build(property_filter, Some(expression_type), Some(expression)).map_err(
        |refused| match refused {
            FilterRefused::NotSupported(_) => PullRefused::FilterNotSupported(refused.to_string()),
            // Apache registers SQL92 filters from heartbeats; one that did not parse is missing.
            FilterRefused::Parse(error) => PullRefused::FilterDataMissing(error.to_string()),
        },
    )
}

/// How long a pull that finds nothing may be held: the consumer's `suspendTimeoutMillis` with
/// long polling, else `shortPollingTimeMills`.
pub fn hold(long_polling: bool, suspend_timeout_millis: i64, short_polling: Duration) -> Duration {
    if long_polling {
        Duration::from_millis(u64::try_from(suspend_timeout_millis).unwrap_or(0))
    } else {
        short_polling
    }
}

/// Messages and bytes one read may return: the consumer's asks within the broker's
/// `maxPullBatch` and [`MAX_PULL_BYTES`], at least one of each.
pub fn read_limits(
    max_msg_nums: i32,
    max_msg_bytes: Option<i32>,
    max_pull_batch: usize,
) -> (usize, usize) {
    let count = usize::try_from(max_msg_nums)
        .unwrap_or(1)
        .clamp(1, max_pull_batch.max(1));
    let bytes = max_msg_bytes
        .and_then(|b| usize::try_from(b).ok())
        .unwrap_or(MAX_PULL_BYTES)
        .clamp(1, MAX_PULL_BYTES);
    (count, bytes)
}

/// The answer's code for a read with `status`, asked at `queue_offset`, of which `kept`
/// messages passed the filter (Apache's `PullMessageProcessor` mapping).
pub fn response_code(status: GetStatus, queue_offset: i64, kept: usize) -> ResponseCode {
    match status {
        GetStatus::Found if kept > 0 => ResponseCode::Success,
        GetStatus::Found | GetStatus::MessageWasRemoving | GetStatus::NoMatchedMessage => {
            ResponseCode::PullRetryImmediately
        }
        GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue if queue_offset != 0 => {
            ResponseCode::PullOffsetMoved
        }
        GetStatus::NoMatchedLogicQueue
        | GetStatus::NoMessageInQueue
        | GetStatus::OffsetFoundNull
        | GetStatus::OffsetOverflowOne => ResponseCode::PullNotFound,
        GetStatus::OffsetOverflowBadly | GetStatus::OffsetTooSmall => ResponseCode::PullOffsetMoved,
    }
}

/// The offset the consumer reads next: 0 for a queue that does not exist or holds nothing.
pub fn next_begin_offset(status: GetStatus, next: u64) -> u64 {
    match status {
        GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue => 0,
        _ => next,
    }
}

#[cfg(test)]
mod tests;
