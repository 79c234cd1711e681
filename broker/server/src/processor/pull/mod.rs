//! PULL_MESSAGE (11), with long polling: the shell around [`decide`].
//!
//! A pull that finds nothing new (PULL_NOT_FOUND) and carries the SUSPEND flag is held until a
//! message arrives in its queue — the store's dispatch wakes it — or its `suspendTimeoutMillis`
//! runs out (`shortPollingTimeMills` when `longPollingEnable=false`); then it is answered with
//! what the queue holds. Response codes follow Apache's mapping of `GetMessageStatus`.

pub mod decide;

use bytes::{Bytes, BytesMut};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::pull_message::{
    PullMessageRequestHeader, PullMessageResponseHeader, sys_flag,
};
use rmq_store::{GetRequest, GetStatus};
use tokio::time::Instant;

use self::decide::PullRefused;
use super::reply::{answer, bad_header};
use crate::config::BrokerRole;
use crate::sql_filter::select::MessageFilter;
use crate::state::Broker;

/// Answers a pull request.
pub async fn pull(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: PullMessageRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let filter = match check(broker, &header) {
        Ok(filter) => filter,
        Err(refused) => return answer(request, refused.code(), refused.to_string()),
    };
    if header.has_flag(sys_flag::COMMIT_OFFSET) && broker.config.role != BrokerRole::Slave {
        broker.offsets.commit(
            &header.consumer_group,
            &header.topic,
            header.queue_id,
            header.commit_offset,
        );
    }
    let hold = decide::hold(
        broker.live.long_polling_enable(),
        header.suspend_timeout_millis,
        broker.live.short_polling_time(),
    );
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

/// Apache's checks before reading; returns the filter to apply.
fn check(broker: &Broker, header: &PullMessageRequestHeader) -> Result<MessageFilter, PullRefused> {
    decide::check_broker(broker.permission(), &broker.config.broker_ip1)?;
    let slave = broker.replication.slave().is_some();
    decide::found_group(
        &header.consumer_group,
        broker.groups.find_or_create(&header.consumer_group),
        slave,
    )?;
    // A slave serves a topic whose records it holds before the topic's config arrived.
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
    decide::check_topic(
        &header.topic,
        topic.as_ref(),
        header.queue_id,
        &header.consumer_group,
    )?;
    let property_filter = broker.config.messaging.enable_property_filter;
    if header.has_flag(sys_flag::SUBSCRIPTION) {
        return decide::filter_from_request(
            property_filter,
            header.expression_type.as_deref(),
            header.subscription.as_deref(),
        );
    }
    let clients = broker.clients();
    let info = clients.consumer_group(&header.consumer_group);
    let subscription = info
        .and_then(|info| info.subscriptions.get(&header.topic))
        .map(|s| (s.expression_type.as_str(), s.sub_string.as_str()));
    decide::filter_from_heartbeat(
        property_filter,
        &header.consumer_group,
        &header.topic,
        info.is_some(),
        subscription,
    )
}

/// One read of the queue, mapped to Apache's pull response.
fn get(
    broker: &Broker,
    request: &RemotingCommand,
    header: &PullMessageRequestHeader,
    filter: &MessageFilter,
) -> RemotingCommand {
    let by_code = |code: i64| filter.matches_code(code);
    let (max_count, max_bytes) = decide::read_limits(
        header.max_msg_nums,
        header.max_msg_bytes,
        broker.config.max_pull_batch,
    );
    let result = broker.store.get_message(&GetRequest {
        topic: &header.topic,
        queue_id: header.queue_id,
        offset: u64::try_from(header.queue_offset).unwrap_or(0),
        max_count,
        max_bytes,
        filter: Some(&by_code),
    });
    let mut body = Bytes::new();
    let mut kept = 0;
    if result.status == GetStatus::Found {
        let passed: Vec<&Bytes> = result
            .messages
            .iter()
            .filter(|raw| filter.accepts_all() || filter.matches_record(raw))
            .collect();
        kept = passed.len();
        if kept > 0 {
            let mut joined = BytesMut::with_capacity(passed.iter().map(|m| m.len()).sum());
            for message in &passed {
                joined.extend_from_slice(message);
            }
            broker.stats.got_messages.add(kept as u64);
            broker.stats.got_bytes.add(joined.len() as u64);
            broker
                .metrics
                .messages_out(&header.topic, kept as u64, joined.len() as u64);
            broker.metrics.group_out(
                &header.topic,
                &header.consumer_group,
                kept as u64,
                joined.len() as u64,
            );
            body = joined.freeze();
        }
    }
    let found = if kept > 0 {
        &broker.stats.get_found
    } else {
        &broker.stats.get_miss
    };
    found.add(1);
    let code = decide::response_code(result.status, header.queue_offset, kept);
    let next_begin_offset = decide::next_begin_offset(result.status, result.next_begin_offset);
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
