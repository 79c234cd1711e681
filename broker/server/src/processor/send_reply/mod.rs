//! SEND_REPLY_MESSAGE (324) and SEND_REPLY_MESSAGE_V2 (325): a replier's answer to a
//! `request()`. The reply is checked and stored as a send is (unless
//! `storeReplyMessageEnable=false`), then pushed to the requester's connection with
//! PUSH_REPLY_MESSAGE_TO_CLIENT (326); the replier learns whether the push landed.
//!
//! Apache pushes before it stores; here the push follows the store, so a requester never holds
//! a reply the broker then fails to keep.

pub mod decide;

use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::reply_message::ReplyMessageRequestHeader;
use rmq_protocol::command::send_message::{SendMessageRequestHeader, SendMessageResponseHeader};
use rmq_protocol::message::properties::keys;
use rmq_remoting::ConnHandle;
use tracing::warn;

use self::decide::ReplyRefused;
use super::reply::bad_header;
use crate::state::Broker;

/// How long the requester has to take the push (Apache's `callClient`: 10 s).
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers a reply.
pub async fn send_reply(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
) -> RemotingCommand {
    let header = match SendMessageRequestHeader::from_request(request.code, &request.ext_fields) {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let stored = if broker.live.store_reply_message_enable() {
        let stored = super::send::store_and_answer(broker, conn, request, &header).await;
        if !decide::was_stored(stored.code) {
            // Not kept, so not pushed: the replier retries or gives up knowing that.
            return stored;
        }
        stored
    } else {
        // Not stored: the answer says so with Apache's placeholders.
        RemotingCommand::response_to(request, ResponseCode::Success).with_header(
            &SendMessageResponseHeader {
                msg_id: "0".into(),
                queue_id: header.queue_id,
                queue_offset: 0,
                transaction_id: None,
                batch_uniq_id: None,
                recall_handle: None,
            },
        )
    };
    match push(broker, conn, request, &header).await {
        Ok(()) => stored,
        Err(refused) => {
            warn!(topic = %header.topic, error = %refused, "reply not pushed");
            let mut failed = stored;
            failed.code = refused.code() as i32;
            failed.remark = Some(refused.to_string());
            failed
        }
    }
}

async fn push(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
    header: &SendMessageRequestHeader,
) -> Result<(), ReplyRefused> {
    let properties = header.properties.as_deref().unwrap_or("");
    let requester = decide::requester(properties.as_bytes())?;
    let channel = broker
        .clients()
        .producer_by_client_id(requester)
        .ok_or_else(|| ReplyRefused::RequesterGone(requester.to_owned()))?;
    let now = broker.clock.now_ms();
    let pushed_properties = crate::props::with(
        properties.as_bytes(),
        keys::PUSH_REPLY_TIME,
        &now.to_string(),
    );
    let push_header = ReplyMessageRequestHeader::of_send(
        header,
        String::from_utf8_lossy(&pushed_properties).into_owned(),
        conn.peer().to_string(),
        broker.store_host.to_string(),
        now,
    );
    let push =
        RemotingCommand::request_with_header(RequestCode::PushReplyMessageToClient, &push_header)
            .with_body(request.body.clone());
    match channel.request(push, PUSH_TIMEOUT).await {
        Ok(answer) if answer.code == ResponseCode::Success as i32 => Ok(()),
        Ok(answer) => {
            warn!(%requester, code = answer.code, remark = ?answer.remark, "requester refused the reply");
            Err(ReplyRefused::PushFailed(requester.to_owned()))
        }
        Err(error) => {
            warn!(%requester, %error, "reply push failed");
            Err(ReplyRefused::PushFailed(requester.to_owned()))
        }
    }
}
