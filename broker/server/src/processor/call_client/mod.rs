//! Requests a tool makes of consumers through the broker: INVOKE_BROKER_TO_RESET_OFFSET (222),
//! INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223), GET_CONSUMER_RUNNING_INFO (307),
//! CONSUME_MESSAGE_DIRECTLY (309). The broker sends its own request on each consumer's
//! connection (RESET_CONSUMER_CLIENT_OFFSET, GET_CONSUMER_STATUS_FROM_CLIENT, or the tool's
//! request passed on) and answers the tool once the consumers have.

pub mod decide;

use std::time::Duration;

use futures::future::join_all;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::call_consumer::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
};
use rmq_protocol::command::get_consumer_status::{
    ClientStatus, GetConsumerStatusBody, GetConsumerStatusRequestHeader,
};
use rmq_protocol::command::reset_offset::{ResetOffsetBody, ResetOffsetRequestHeader};
use rmq_protocol::message::msg_id::parse_offset_msg_id;
use rmq_protocol::{LanguageCode, RemotingCommand};
use rmq_remoting::{ConnHandle, SendError};
use tracing::{info, warn};

use self::decide::{CallRefused, QueueToReset};
use super::reply::{answer, bad_header};
use crate::clients::Member;
use crate::state::Broker;

/// How long a consumer has to answer a status request (Apache: 5 s).
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a consumer has to answer a request passed on from a tool (Apache: 10 s).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

fn refusal(request: &RemotingCommand, refused: &CallRefused) -> RemotingCommand {
    answer(request, refused.code(), refused.to_string())
}

fn members_of(broker: &Broker, group: &str) -> Vec<Member<ConnHandle>> {
    broker
        .clients()
        .consumer_group(group)
        .map(|g| g.members.values().cloned().collect())
        .unwrap_or_default()
}

/// INVOKE_BROKER_TO_RESET_OFFSET (222): computes the new offsets, sends them to every online
/// consumer of the group (which moves and commits them), answers them. No consumer online is
/// CONSUMER_NOT_ONLINE, on which tools reset the committed offsets themselves.
pub async fn reset_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ResetOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    info!(peer_language = %request.language, topic = %header.topic, group = %header.group,
        timestamp = header.timestamp, force = header.is_force, "reset offset asked");
    let Some(topic) = broker.topics.get(&header.topic) else {
        return refusal(request, &CallRefused::NoTopic(header.topic));
    };
    let committed = broker.offsets.of(&header.group, &header.topic);
    let queues: Vec<QueueToReset> = (0..topic.write_queue_nums)
        .map(|queue_id| QueueToReset {
            queue_id,
            committed: committed.get(&queue_id).copied(),
            target: if header.timestamp == -1 {
                broker.store.max_offset_in_queue(&header.topic, queue_id) as i64
            } else {
                broker
                    .store
                    .offset_by_time(&header.topic, queue_id, header.timestamp)
                    as i64
            },
        })
        .collect();
    let table = match decide::reset_table(
        &broker.config.broker_name,
        &header.topic,
        &header.group,
        &queues,
        header.is_force,
    ) {
        Ok(table) => table,
        Err(refused) => return refusal(request, &refused),
    };
    let members = members_of(broker, &header.group);
    let versions: Vec<i32> = members.iter().map(|m| m.version).collect();
    if let Err(refused) =
        decide::check_group_members(&versions, || CallRefused::ResetWithNoConsumer {
            group: header.group.clone(),
            topic: header.topic.clone(),
            timestamp: header.timestamp,
        })
    {
        return refusal(request, &refused);
    }
    let body = ResetOffsetBody {
        offset_table: table,
    };
    let (Ok(java_form), Ok(c_form)) = (body.to_fastjson(), serde_json::to_vec(&body.for_c()))
    else {
        return answer(
            request,
            ResponseCode::SystemError,
            "reset offsets not encoded",
        );
    };
    for member in &members {
        // Each consumer gets the form its library reads: the C++ client a list.
        let form = if member.language == LanguageCode::Cpp {
            &c_form
        } else {
            &java_form
        };
        let push =
            RemotingCommand::request_with_header(RequestCode::ResetConsumerClientOffset, &header)
                .with_body(form.clone());
        match member.channel.send_oneway(push).await {
            Ok(()) => info!(group = %header.group, client = %member.client_id, "reset offset sent"),
            Err(error) => {
                warn!(group = %header.group, client = %member.client_id, %error, "reset offset not sent")
            }
        }
    }
    RemotingCommand::response_to(request, ResponseCode::Success).with_body(java_form)
}

/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223): asks every consumer of the group (or the one
/// named) for its offsets on the topic, at once; a consumer that fails to answer is left out.
pub async fn consumer_status(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumerStatusRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let members = members_of(broker, &header.group);
    let versions: Vec<i32> = members.iter().map(|m| m.version).collect();
    if let Err(refused) = decide::check_group_members(&versions, || {
        CallRefused::NoConsumerOnline(header.group.clone())
    }) {
        return refusal(request, &refused);
    }
    let only = header
        .client_addr
        .as_deref()
        .filter(|c| !c.trim().is_empty());
    let ask =
        RemotingCommand::request_with_header(RequestCode::GetConsumerStatusFromClient, &header);
    let asked = members
        .iter()
        .filter(|m| only.is_none_or(|client| client == m.client_id))
        .map(|m| async {
            let answer = m.channel.request(ask.clone(), STATUS_TIMEOUT).await;
            (m.client_id.clone(), answer)
        });
    let mut consumer_table = Vec::new();
    for (client, answer) in join_all(asked).await {
        match answer {
            Ok(response) if response.code == i32::from(ResponseCode::Success) => {
                match ClientStatus::decode(&response.body) {
                    Ok(status) => consumer_table.push((client, status.message_queue_table)),
                    Err(error) => warn!(%client, %error, "consumer status not readable"),
                }
            }
            Ok(response) => {
                warn!(%client, code = response.code, remark = ?response.remark, "consumer status refused")
            }
            Err(error) => warn!(%client, %error, "consumer status not answered"),
        }
    }
    consumer_table.sort_by(|a, b| a.0.cmp(&b.0));
    match (GetConsumerStatusBody { consumer_table }).to_fastjson() {
        Ok(body) => RemotingCommand::response_to(request, ResponseCode::Success).with_body(body),
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

/// GET_CONSUMER_RUNNING_INFO (307): the named consumer's own answer.
pub async fn running_info(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumerRunningInfoRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let passed_on = pass_on(request, RequestCode::GetConsumerRunningInfo);
    call_consumer(
        broker,
        request,
        &header.consumer_group,
        &header.client_id,
        passed_on,
    )
    .await
}

/// CONSUME_MESSAGE_DIRECTLY (309): the stored message handed to the named consumer, and the
/// consumer's answer (its consume result).
pub async fn consume_directly(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ConsumeMessageDirectlyResultRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let msg_id = header.msg_id.clone().unwrap_or_default();
    let record = parse_offset_msg_id(&msg_id)
        .ok()
        .and_then(|(_, offset)| u64::try_from(offset).ok())
        .and_then(|offset| broker.store.read_record(offset));
    let Some(record) = record else {
        return refusal(request, &CallRefused::NoSuchMessage(msg_id));
    };
    let mut passed_on = pass_on(request, RequestCode::ConsumeMessageDirectly).with_body(record);
    passed_on
        .ext_fields
        .insert("brokerName", broker.config.broker_name.as_str());
    let client = header.client_id.unwrap_or_default();
    call_consumer(broker, request, &header.consumer_group, &client, passed_on).await
}

/// The tool's request as the broker sends it on: same fields and body, the broker's own opaque.
fn pass_on(request: &RemotingCommand, code: RequestCode) -> RemotingCommand {
    let mut passed_on = RemotingCommand::request(code).with_body(request.body.clone());
    passed_on.ext_fields = request.ext_fields.clone();
    passed_on
}

async fn call_consumer(
    broker: &Broker,
    request: &RemotingCommand,
    group: &str,
    client: &str,
    passed_on: RemotingCommand,
) -> RemotingCommand {
    let member = broker.clients().consumer(group, client).cloned();
    let member = match decide::callee(group, client, member) {
        Ok(member) => member,
        Err(refused) => return refusal(request, &refused),
    };
    match member.channel.request(passed_on, CALL_TIMEOUT).await {
        Ok(mut response) => {
            // The consumer's answer goes back as the answer to the tool's request.
            response.opaque = request.opaque;
            response
        }
        Err(error @ SendError::NoAnswer { .. }) => refusal(
            request,
            &CallRefused::Timeout {
                group: group.to_owned(),
                client: client.to_owned(),
                detail: error.to_string(),
            },
        ),
        Err(error) => refusal(
            request,
            &CallRefused::CallFailed {
                group: group.to_owned(),
                client: client.to_owned(),
                detail: error.to_string(),
            },
        ),
    }
}
