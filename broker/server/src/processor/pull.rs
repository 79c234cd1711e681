//! PULL_MESSAGE (11), with long polling.
//!
//! A pull that finds nothing new (PULL_NOT_FOUND) and carries the SUSPEND flag is held until a
//! message arrives in its queue — the store's dispatch wakes it — or its `suspendTimeoutMillis`
//! runs out (`shortPollingTimeMills` when `longPollingEnable=false`); then it is answered with
//! what the queue holds. Response codes follow Apache's mapping of `GetMessageStatus`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::pull_message::{
    PullMessageRequestHeader, PullMessageResponseHeader, sys_flag,
};
use rmq_store::{GetRequest, GetStatus};
use tokio::time::Instant;

use super::reply::{answer, bad_header};
use crate::config::BrokerRole;
use crate::sql_filter::select::{FilterRefused, MessageFilter};
use crate::state::Broker;

/// Most bytes returned by one pull (Apache's `maxTransferBytesOnMessageInMemory`); at least one
/// message is always returned, however large.
const MAX_PULL_BYTES: usize = 256 * 1024;

/// Answers a pull request.
pub async fn pull(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: PullMessageRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let filter = match check(broker, request, &header) {
        Ok(filter) => filter,
        Err(refused) => return *refused,
    };
    if header.has_flag(sys_flag::COMMIT_OFFSET) && broker.config.role != BrokerRole::Slave {
        broker.offsets.commit(
            &header.consumer_group,
            &header.topic,
            header.queue_id,
            header.commit_offset,
        );
    }
    let hold = if broker.config.long_polling_enable {
        Duration::from_millis(u64::try_from(header.suspend_timeout_millis).unwrap_or(0))
    } else {
        broker.config.short_polling_time
    };
    let deadline = Instant::now() + hold;
    let may_suspend = header.has_flag(sys_flag::SUSPEND);
    let offset = u64::try_from(header.queue_offset).unwrap_or(0);
    let mut stopping = broker.stopping.clone();
    loop {
        let outcome = get(broker, request, &header, &filter);
        let nothing_yet = outcome.code == ResponseCode::PullNotFound as i32;
        if !nothing_yet || !may_suspend || Instant::now() >= deadline || *stopping.borrow() {
            return outcome;
        }
        // Register before re-checking, so an arrival between the read and the wait is not missed.
        let woken = broker.waiters.wait(&header.topic, header.queue_id, offset);
        if broker
            .store
            .max_offset_in_queue(&header.topic, header.queue_id)
            > offset
        {
            continue;
        }
        tokio::select! {
            _ = woken => {}
            () = tokio::time::sleep_until(deadline) => {}
            _ = stopping.wait_for(|s| *s) => {}
        }
    }
}

/// Apache's checks before reading; returns the tag filter to apply.
fn check(
    broker: &Broker,
    request: &RemotingCommand,
    header: &PullMessageRequestHeader,
) -> Result<MessageFilter, Box<RemotingCommand>> {
    let refuse = |code, remark: String| Err(Box::new(answer(request, code, remark)));
    if !perm::is_readable(broker.permission()) {
        return refuse(
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] pulling message is forbidden",
                broker.config.broker_ip1
            ),
        );
    }
    let slave = broker.replication.slave().is_some();
    let group = match broker.groups.find_or_create(&header.consumer_group) {
        Ok(Some(group)) => group,
        // A group the master created within a metadata sync period of dying has not reached
        // this slave: serve it with the defaults rather than leave its messages unreadable.
        Ok(None) if slave => crate::groups::unsynced_on_slave(&header.consumer_group),
        Ok(None) => {
            return refuse(
                ResponseCode::SubscriptionGroupNotExist,
                format!(
                    "subscription group [{}] does not exist, http://rocketmq.apache.org/docs/faq/",
                    header.consumer_group
                ),
            );
        }
        Err(error) => {
            return refuse(
                ResponseCode::SystemError,
                format!("subscription group could not be created: {error}"),
            );
        }
    };
    if !group.consume_enable {
        return refuse(
            ResponseCode::NoPermission,
            format!(
                "subscription group no permission, {}",
                header.consumer_group
            ),
        );
    }
    let topic = broker.topics.get(&header.topic).or_else(|| {
        slave
            .then(|| {
                let held = broker.store.queues().into_iter();
                crate::topics::held_by_store(
                    &header.topic,
                    held.filter(|(t, _)| *t == header.topic).map(|(_, q)| q),
                )
            })
            .flatten()
    });
    let Some(topic) = topic else {
        return refuse(
            ResponseCode::TopicNotExist,
            format!(
                "topic[{}] not exist, apply first please! http://rocketmq.apache.org/docs/faq/",
                header.topic
            ),
        );
    };
    if !perm::is_readable(topic.perm) {
        return refuse(
            ResponseCode::NoPermission,
            format!("the topic[{}] pulling message is forbidden", header.topic),
        );
    }
    if header.queue_id < 0 || header.queue_id >= topic.read_queue_nums {
        return refuse(
            ResponseCode::SystemError,
            format!(
                "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}] consumer:[{}]",
                header.queue_id, header.topic, topic.read_queue_nums, header.consumer_group
            ),
        );
    }
    let property_filter = broker.config.messaging.enable_property_filter;
    if header.has_flag(sys_flag::SUBSCRIPTION) {
        return match MessageFilter::build(
            property_filter,
            header.expression_type.as_deref(),
            header.subscription.as_deref(),
        ) {
            Ok(filter) => Ok(filter),
            Err(refused @ FilterRefused::NotSupported(_)) => {
                refuse(ResponseCode::SystemError, refused.to_string())
            }
            Err(FilterRefused::Parse(error)) => refuse(
                ResponseCode::SubscriptionParseFailed,
                format!("parse the consumer's subscription failed: {error}"),
            ),
        };
    }
    let clients = broker.clients();
    let Some(info) = clients.consumer_group(&header.consumer_group) else {
        return refuse(
            ResponseCode::SubscriptionNotExist,
            format!(
                "the consumer's group info not exist, http://rocketmq.apache.org/docs/faq/ group: {}",
                header.consumer_group
            ),
        );
    };
    let Some(subscription) = info.subscriptions.get(&header.topic) else {
        return refuse(
            ResponseCode::SubscriptionNotExist,
            format!(
                "the consumer's subscription not exist, http://rocketmq.apache.org/docs/faq/ topic: {}",
                header.topic
            ),
        );
    };
    match MessageFilter::build(
        property_filter,
        Some(subscription.expression_type.as_str()),
        Some(&subscription.sub_string),
    ) {
        Ok(filter) => Ok(filter),
        Err(refused @ FilterRefused::NotSupported(_)) => {
            refuse(ResponseCode::SystemError, refused.to_string())
        }
        // Apache registers SQL92 filters from heartbeats; one that did not parse is missing.
        Err(FilterRefused::Parse(error)) => refuse(
            ResponseCode::FilterDataNotExist,
            format!(
                "The broker's consumer filter data is not exist!Your expression may be wrong! {error}"
            ),
        ),
    }
}

/// One read of the queue, mapped to Apache's pull response.
fn get(
    broker: &Broker,
    request: &RemotingCommand,
    header: &PullMessageRequestHeader,
    filter: &MessageFilter,
) -> RemotingCommand {
    let by_code = |code: i64| filter.matches_code(code);
    let max_count = usize::try_from(header.max_msg_nums)
        .unwrap_or(1)
        .clamp(1, broker.config.max_pull_batch);
    let max_bytes = header
        .max_msg_bytes
        .and_then(|b| usize::try_from(b).ok())
        .unwrap_or(MAX_PULL_BYTES)
        .clamp(1, MAX_PULL_BYTES);
    let result = broker.store.get_message(&GetRequest {
        topic: &header.topic,
        queue_id: header.queue_id,
        offset: u64::try_from(header.queue_offset).unwrap_or(0),
        max_count,
        max_bytes,
        filter: Some(&by_code),
    });
    let mut body = Bytes::new();
    let code = match result.status {
        GetStatus::Found => {
            let kept: Vec<&Bytes> = result
                .messages
                .iter()
                .filter(|raw| filter.accepts_all() || filter.matches_record(raw))
                .collect();
            if kept.is_empty() {
                ResponseCode::PullRetryImmediately
            } else {
                let mut joined = BytesMut::with_capacity(kept.iter().map(|m| m.len()).sum());
                for message in &kept {
                    joined.extend_from_slice(message);
                }
                broker
                    .stats
                    .got_messages
                    .fetch_add(kept.len() as u64, Ordering::Relaxed);
                body = joined.freeze();
                ResponseCode::Success
            }
        }
        GetStatus::MessageWasRemoving | GetStatus::NoMatchedMessage => {
            ResponseCode::PullRetryImmediately
        }
        GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue => {
            if header.queue_offset != 0 {
                ResponseCode::PullOffsetMoved
            } else {
                ResponseCode::PullNotFound
            }
        }
        GetStatus::OffsetFoundNull | GetStatus::OffsetOverflowOne => ResponseCode::PullNotFound,
        GetStatus::OffsetOverflowBadly | GetStatus::OffsetTooSmall => ResponseCode::PullOffsetMoved,
    };
    let next_begin_offset = match result.status {
        GetStatus::NoMatchedLogicQueue | GetStatus::NoMessageInQueue => 0,
        _ => result.next_begin_offset,
    };
    let response_header = PullMessageResponseHeader {
        suggest_which_broker_id: crate::ha::suggest_which_broker_id(
            &broker.config.ha,
            broker.groups.get(&header.consumer_group).as_ref(),
            &broker.store,
            &result,
        ),
        next_begin_offset: next_begin_offset as i64,
        min_offset: result.min_offset as i64,
        max_offset: result.max_offset as i64,
        offset_delta: None,
        topic_sys_flag: None,
        group_sys_flag: None,
        forbidden_type: None,
    };
    let mut response = RemotingCommand::response_to(request, code)
        .with_header(&response_header)
        .with_body(body);
    if code != ResponseCode::Success {
        response = response.with_remark(format!("{:?}", result.status));
    }
    response
}
