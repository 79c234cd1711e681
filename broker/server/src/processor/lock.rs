//! LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): orderly consumers lock the queues they consume
//! (see [`crate::rebalance_lock`]).

use std::time::Instant;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::lock_batch_mq::{LockBatchRequestBody, LockBatchResponseBody};

use super::reply::answer;
use crate::state::Broker;

/// LOCK_BATCH_MQ: answers the queues the client holds after the call.
pub fn lock_batch(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let body = match LockBatchRequestBody::decode(&request.body) {
        Ok(body) => body,
        Err(error) => return answer(request, ResponseCode::SystemError, error.to_string()),
    };
    let locked = broker.messaging.locks().try_lock_batch(
        &body.consumer_group,
        &body.mq_set,
        &body.client_id,
        Instant::now(),
        broker.config.messaging.rebalance_lock_max_live_time,
    );
    let response = LockBatchResponseBody {
        lock_ok_mq_set: locked.into_iter().collect(),
    };
    match response.to_json() {
        Ok(json) => RemotingCommand::response_to(request, ResponseCode::Success).with_body(json),
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

/// UNLOCK_BATCH_MQ: releases the client's locks.
pub fn unlock_batch(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let body = match LockBatchRequestBody::decode(&request.body) {
        Ok(body) => body,
        Err(error) => return answer(request, ResponseCode::SystemError, error.to_string()),
    };
    broker
        .messaging
        .locks()
        .unlock_batch(&body.consumer_group, &body.mq_set, &body.client_id);
    RemotingCommand::response_to(request, ResponseCode::Success)
}
