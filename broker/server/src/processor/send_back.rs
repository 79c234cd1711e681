//! CONSUMER_SEND_MSG_BACK (36): a consumer hands back a message it failed to consume; the broker
//! stores it again for the group's retry topic or, after too many attempts, its dead-letter queue
//! (Apache 4.9 `SendMessageProcessor.asyncConsumerSendMsgBack`).
//!
//! - Retry: `%RETRY%<group>` (the group's `retryQueueNums` queues), delay level
//!   `3 + reconsumeTimes` unless the consumer named one, so it passes through
//!   `SCHEDULE_TOPIC_XXXX` first: 10 s, 30 s, 1 m, 2 m, ... with the default levels.
//! - Dead letter: when the stored `reconsumeTimes >= maxReconsumeTimes` (the group's
//!   `retryMaxTimes`, 16, or the header's value from clients of version ≥ 3.4.9) or the consumer
//!   asks with a negative level: `%DLQ%<group>`, one queue, created on demand **write-only**
//!   (perm 2, as Apache up to 4.9.3; 4.9.4 made it readable) so no consumer drains it by accident.
//!
//! The new message keeps body, flag, sysFlag, born host and time and every property, plus
//! `RETRY_TOPIC` (the original topic, set once), `ORIGIN_MESSAGE_ID` (the first offset msgId),
//! `DELAY` and `WAIT=false`; its reconsume count is the stored one + 1.
//!
//! Producers may also send to `%RETRY%<group>` directly (clients fall back to that when the
//! send-back fails); [`super::send::decide::route`] applies the same limit on that path.

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::consumer_send_msg_back::ConsumerSendMsgBackRequestHeader;
use rmq_protocol::message::msg_id::offset_msg_id;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::RecordView;
use rmq_store::PutMessage;
use rmq_store::metadata::TopicConfig;
use tracing::{error, info};

use super::reply::{answer, bad_header};
use super::send::decide::max_reconsume_times;
use crate::props;
use crate::state::Broker;
use crate::topics::DLQ_GROUP_TOPIC_PREFIX;

/// Queues of a dead-letter topic (`DLQ_NUMS_PER_GROUP`).
pub const DLQ_QUEUE_NUMS: i32 = 1;

/// `%DLQ%<group>`.
pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

/// Where a failed message goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The retry topic, through this delay level.
    Retry {
        delay_level: i32,
    },
    DeadLetter,
}

/// Apache's rule: dead letter once `reconsume_times >= max` or on a negative level; else retry
/// with the consumer's level, or `3 + reconsume_times` when it named none (0).
pub fn destination(
    reconsume_times: i32,
    max_reconsume_times: i32,
    delay_level: i32,
) -> Destination {
    if reconsume_times >= max_reconsume_times || delay_level < 0 {
        Destination::DeadLetter
    } else if delay_level == 0 {
        Destination::Retry {
            delay_level: 3 + reconsume_times,
        }
    } else {
        Destination::Retry { delay_level }
    }
}

/// The properties of the message sent back (`RETRY_TOPIC` once, `ORIGIN_MESSAGE_ID` once,
/// `DELAY`, `WAIT=false`).
pub fn sent_back_properties(
    stored: &[u8],
    original_topic: &str,
    offset_msg_id: &str,
    destination: &Destination,
) -> Vec<u8> {
    let mut out = stored.to_vec();
    if properties::find(stored, keys::RETRY_TOPIC).is_none() {
        out = props::with(&out, keys::RETRY_TOPIC, original_topic);
    }
    out = props::with(&out, keys::WAIT, "false");
    let level = match destination {
        Destination::Retry { delay_level } => *delay_level,
        Destination::DeadLetter => 0,
    };
    out = props::with(&out, keys::DELAY, &level.to_string());
    let origin = properties::find(stored, keys::ORIGIN_MESSAGE_ID)
        .filter(|o| !o.trim().is_empty())
        .unwrap_or(offset_msg_id)
        .to_owned();
    props::with(&out, keys::ORIGIN_MESSAGE_ID, &origin)
}

/// Answers CONSUMER_SEND_MSG_BACK.
pub fn send_back(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ConsumerSendMsgBackRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let group = match broker.groups.find_or_create(&header.group) {
        Ok(Some(group)) => group,
        Ok(None) => {
            return answer(
                request,
                ResponseCode::SubscriptionGroupNotExist,
                format!(
                    "subscription group not exist, {} http://rocketmq.apache.org/docs/faq/",
                    header.group
                ),
            );
        }
        Err(e) => return answer(request, ResponseCode::SystemError, e.to_string()),
    };
    if !broker.config.is_writeable() || !perm::is_writeable(broker.permission()) {
        return answer(
            request,
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] sending message is forbidden",
                broker.config.broker_ip1
            ),
        );
    }
    if group.retry_queue_nums <= 0 {
        return RemotingCommand::response_to(request, ResponseCode::Success);
    }
    let retry = match broker
        .topics
        .get_or_create_retry(&header.group, group.retry_queue_nums)
    {
        Ok(topic) => topic,
        Err(e) => return answer(request, ResponseCode::SystemError, e.to_string()),
    };
    if !perm::is_writeable(retry.perm) {
        return answer(
            request,
            ResponseCode::NoPermission,
            format!(
                "the topic[{}] sending message is forbidden",
                retry.topic_name
            ),
        );
    }
    let stored = u64::try_from(header.offset)
        .ok()
        .and_then(|offset| broker.store.read_record(offset));
    let Some(raw) = stored else {
        return answer(
            request,
            ResponseCode::SystemError,
            format!("look message by offset failed, {}", header.offset),
        );
    };
    let Ok(view) = RecordView::decode(&raw) else {
        return answer(
            request,
            ResponseCode::SystemError,
            format!("look message by offset failed, {}", header.offset),
        );
    };
    let max_reconsume_times = max_reconsume_times(
        group.retry_max_times,
        request.version,
        header.max_reconsume_times,
    );
    let destination = destination(
        view.reconsume_times(),
        max_reconsume_times,
        header.delay_level,
    );
    let (topic, queue_id) = match destination {
        Destination::Retry { .. } => (retry.topic_name.clone(), pick(group.retry_queue_nums)),
        Destination::DeadLetter => match dlq(broker, &header.group) {
            Ok(topic) => (topic.topic_name, 0),
            Err(remark) => return answer(request, ResponseCode::SystemError, remark),
        },
    };
    let origin = offset_msg_id(view.store_host(), view.physical_offset());
    let props = sent_back_properties(view.properties(), view.topic(), &origin, &destination);
    let message = PutMessage {
        topic: &topic,
        queue_id,
        flag: view.flag(),
        sys_flag: view.sys_flag(),
        born_timestamp: view.born_timestamp(),
        born_host: view.born_host(),
        reconsume_times: view.reconsume_times() + 1,
        prepared_transaction_offset: 0,
        body: view.body(),
        properties: &props,
    };
    match crate::schedule::put_message(&broker.store, &broker.config.store.delay_levels, &message) {
        Ok(_) => {
            if destination == Destination::DeadLetter {
                info!(group = %header.group, %topic, reconsume_times = view.reconsume_times(), origin = %origin, "message moved to the dead-letter queue");
            }
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(e) => {
            error!(group = %header.group, error = %e, "sent-back message could not be stored");
            answer(request, ResponseCode::SystemError, e.to_string())
        }
    }
}

/// The group's dead-letter topic, created write-only on first use.
pub fn dlq(broker: &Broker, group: &str) -> Result<TopicConfig, String> {
    let name = dlq_topic(group);
    if let Some(topic) = broker.topics.get(&name) {
        return Ok(topic);
    }
    let config = TopicConfig {
        topic_name: name.clone(),
        read_queue_nums: DLQ_QUEUE_NUMS,
        write_queue_nums: DLQ_QUEUE_NUMS,
        perm: perm::WRITE,
        ..TopicConfig::default()
    };
    broker
        .topics
        .upsert(config.clone())
        .map_err(|e| format!("topic[{name}] not exist: {e}"))?;
    Ok(config)
}

fn pick(queues: i32) -> i32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    (NEXT.fetch_add(1, Ordering::Relaxed) % queues.max(1) as u32) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_use_level_three_plus_attempts_until_the_limit_then_dead_letter() {
        assert_eq!(destination(0, 16, 0), Destination::Retry { delay_level: 3 });
        assert_eq!(destination(5, 16, 0), Destination::Retry { delay_level: 8 });
        assert_eq!(destination(5, 16, 2), Destination::Retry { delay_level: 2 });
        assert_eq!(destination(16, 16, 0), Destination::DeadLetter);
        assert_eq!(destination(0, 16, -1), Destination::DeadLetter);
        assert_eq!(destination(0, 0, 0), Destination::DeadLetter);
    }

    #[test]
    fn the_original_topic_and_first_msg_id_are_kept_across_attempts() {
        let stored = properties::encode([("TAGS", "a"), ("KEYS", "k")]);
        let first = sent_back_properties(
            &stored,
            "Orders",
            "ID1",
            &Destination::Retry { delay_level: 3 },
        );
        assert_eq!(properties::find(&first, keys::RETRY_TOPIC), Some("Orders"));
        assert_eq!(
            properties::find(&first, keys::ORIGIN_MESSAGE_ID),
            Some("ID1")
        );
        assert_eq!(properties::find(&first, keys::DELAY), Some("3"));
        assert_eq!(properties::find(&first, keys::WAIT), Some("false"));
        assert_eq!(properties::find(&first, keys::TAGS), Some("a"));
        // Second failure: the message now lives in %RETRY%g with a new offset id.
        let second = sent_back_properties(&first, "%RETRY%g", "ID2", &Destination::DeadLetter);
        assert_eq!(properties::find(&second, keys::RETRY_TOPIC), Some("Orders"));
        assert_eq!(
            properties::find(&second, keys::ORIGIN_MESSAGE_ID),
            Some("ID1")
        );
        assert_eq!(properties::find(&second, keys::DELAY), Some("0"));
    }
}
