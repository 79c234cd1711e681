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
//!
//! [`decide`] holds the rules; this file reads the stored message and appends the new one.

pub mod decide;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::consumer_send_msg_back::ConsumerSendMsgBackRequestHeader;
use rmq_protocol::message::msg_id::offset_msg_id;
use rmq_protocol::message::record::RecordView;
use rmq_store::PutMessage;
use rmq_store::metadata::TopicConfig;
use tracing::{error, info};

use self::decide::{DLQ_QUEUE_NUMS, SendBackRefused, dlq_topic, sent_back_properties};
use super::reply::{answer, bad_header};
use super::send::decide::{self as send_decide, SendRefused, max_reconsume_times};
use crate::route::{Destination, destination};
use crate::state::Broker;

/// Answers CONSUMER_SEND_MSG_BACK.
pub fn send_back(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ConsumerSendMsgBackRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    match store_again(broker, &header, request.version) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(refused) => {
            if let SendBackRefused::Store(error) = &refused {
                error!(group = %header.group, %error, "sent-back message could not be stored");
            }
            answer(request, refused.code(), refused.to_string())
        }
    }
}

/// Reads the failed message and stores it again for its retry topic or dead-letter queue.
fn store_again(
    broker: &Broker,
    header: &ConsumerSendMsgBackRequestHeader,
    version: i32,
) -> Result<(), SendBackRefused> {
    let group =
        send_decide::found_group(&header.group, broker.groups.find_or_create(&header.group))?;
    send_decide::check_writeable(
        broker.config.is_writeable() && perm::is_writeable(broker.permission()),
        &broker.config.broker_ip1,
    )?;
    if group.retry_queue_nums <= 0 {
        // Apache: a group without retry queues drops failed messages, answering SUCCESS.
        return Ok(());
    }
    let retry = broker
        .topics
        .get_or_create_retry(&header.group, group.retry_queue_nums)
        .map_err(|e| SendBackRefused::RetryTopic(e.to_string()))?;
    send_decide::check_topic_writeable(&retry)?;
    let raw = u64::try_from(header.offset)
        .ok()
        .and_then(|offset| broker.store.read_record(offset))
        .ok_or(SendBackRefused::MessageNotFound(header.offset))?;
    let view =
        RecordView::decode(&raw).map_err(|_| SendBackRefused::MessageNotFound(header.offset))?;
    let limit = max_reconsume_times(group.retry_max_times, version, header.max_reconsume_times);
    let destination = destination(view.reconsume_times(), limit, header.delay_level);
    let (topic, queue_id) = match destination {
        Destination::Retry { .. } => (retry.topic_name.clone(), pick(group.retry_queue_nums)),
        Destination::DeadLetter => {
            let dlq = dlq(broker, &header.group).map_err(SendRefused::DeadLetterTopic)?;
            (dlq.topic_name, 0)
        }
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
    crate::schedule::put_message(&broker.store, &broker.config.store.delay_levels, &message)
        .map_err(SendBackRefused::Store)?;
    if destination == Destination::DeadLetter {
        broker
            .metrics
            .sent_to_dlq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        info!(group = %header.group, %topic, reconsume_times = view.reconsume_times(), origin = %origin, "message moved to the dead-letter queue");
    }
    Ok(())
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
