//! Where a single-message send is stored, after the checks of [`super::send`]:
//!
//! 1. a send to `%RETRY%<group>` past the group's reconsume limit goes to `%DLQ%<group>`
//!    (Apache's `handleRetryAndDLQ`, [`super::send_back::retry_to_dlq`]), its delay cleared;
//! 2. a transactional half message (`TRAN_MSG=true`) goes to `RMQ_SYS_TRANS_HALF_TOPIC` queue 0
//!    ([`crate::transaction::half_message`]), or is refused with `rejectTransactionMessage`;
//! 3. everything else is stored where the producer asked; a `DELAY` then still diverts it to
//!    `SCHEDULE_TOPIC_XXXX` when it is appended ([`crate::schedule::put_message`]).

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::send_message::SendMessageRequestHeader;
use rmq_protocol::message::properties::keys;

use super::reply::answer;
use crate::props;
use crate::state::Broker;
use crate::topics::TRANS_HALF_TOPIC;
use crate::transaction::{self, HALF_QUEUE_ID};

/// The place and shape a message is stored in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub topic: String,
    pub queue_id: i32,
    pub sys_flag: i32,
    pub properties: Vec<u8>,
}

/// Routes one message with `properties` (already completed by the send path).
pub fn route(
    broker: &Broker,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
    queue_id: i32,
    properties: Vec<u8>,
) -> Result<Routed, Box<RemotingCommand>> {
    if let Some(dlq) = super::send_back::retry_to_dlq(broker, request, header)? {
        return Ok(Routed {
            topic: dlq,
            queue_id: 0,
            sys_flag: header.sys_flag,
            properties: props::with(&properties, keys::DELAY, "0"),
        });
    }
    if transaction::is_half(&properties) {
        if broker.config.messaging.reject_transaction_message {
            return Err(Box::new(answer(
                request,
                ResponseCode::NoPermission,
                format!(
                    "the broker[{}] sending transaction message is forbidden",
                    broker.config.broker_ip1
                ),
            )));
        }
        transaction::ensure_topic(&broker.topics, TRANS_HALF_TOPIC);
        let (properties, sys_flag) =
            transaction::half_message(&header.topic, queue_id, header.sys_flag, &properties);
        return Ok(Routed {
            topic: TRANS_HALF_TOPIC.to_owned(),
            queue_id: HALF_QUEUE_ID,
            sys_flag,
            properties,
        });
    }
    Ok(Routed {
        topic: header.topic.clone(),
        queue_id,
        sys_flag: header.sys_flag,
        properties,
    })
}
