//! Store maintenance operators run by hand: CLEAN_EXPIRED_CONSUMEQUEUE (306),
//! DELETE_EXPIRED_COMMITLOG (329), CLEAN_UNUSED_TOPIC (316), QUERY_CONSUME_QUEUE (321),
//! RESUME_CHECK_HALF_MESSAGE (323). The expiry commands only ever remove what retention would:
//! files past `fileReservedTime`, and queue files whose entries point at commit log data already
//! gone. CLEAN_UNUSED_TOPIC removes the consume queues of topics the broker no longer has, as
//! Apache does; their messages stay in the commit log until retention.

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::query_consume_queue::{
    ConsumeQueueData, QueryConsumeQueueRequestHeader, QueryConsumeQueueResponseBody,
};
use rmq_protocol::command::resume_check_half_message::ResumeCheckHalfMessageRequestHeader;
use rmq_protocol::message::msg_id::parse_offset_msg_id;
use rmq_protocol::message::properties::keys;
use rmq_protocol::message::record::RecordView;
use rmq_store::PutMessage;
use tracing::{info, warn};

use super::{decide, json_answer};
use crate::processor::reply::{answer, bad_header};
use crate::state::Broker;
use crate::topics::TRANS_HALF_TOPIC;
use crate::transaction::HALF_QUEUE_ID;

/// CLEAN_EXPIRED_CONSUMEQUEUE (306).
pub async fn clean_expired_queues(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let store = broker.store.clone();
    let deleted = tokio::task::spawn_blocking(move || store.delete_expired_queue_files()).await;
    info!(?deleted, "clean expired consume queues asked by a tool");
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// CLEAN_UNUSED_TOPIC (316): destroys the consume queues of the topics [`decide::unused_topics`]
/// picks. Apache answers SUCCESS whatever happened; here a queue that could not be destroyed
/// makes the answer SYSTEM_ERROR naming the topic (the others are gone).
pub async fn clean_unused_topics(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let with_queues = broker.store.queue_topics();
    let unused: Vec<String> = decide::unused_topics(
        &with_queues,
        |topic| broker.topics.get(topic).is_some(),
        |group| broker.groups.get(group).is_some(),
    )
    .into_iter()
    .map(str::to_owned)
    .collect();
    if unused.is_empty() {
        return RemotingCommand::response_to(request, ResponseCode::Success);
    }
    let store = broker.store.clone();
    let results = tokio::task::spawn_blocking(move || {
        unused
            .into_iter()
            .map(|topic| {
                let done = store.destroy_topic_queues(&topic);
                (topic, done)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let mut failed = Vec::new();
    for (topic, done) in results {
        match done {
            Ok(queues) => {
                broker.offsets.remove_topic(&topic);
                info!(%topic, queues, "unused topic's consume queues destroyed by a tool");
            }
            Err(error) => {
                warn!(%topic, error = %rmq_protocol::error_remark(&error), "unused topic's consume queues not destroyed");
                failed.push(format!("{topic}: {}", rmq_protocol::error_remark(&error)));
            }
        }
    }
    if failed.is_empty() {
        RemotingCommand::response_to(request, ResponseCode::Success)
    } else {
        RemotingCommand::response_to(request, ResponseCode::SystemError).with_remark(format!(
            "consume queues not destroyed: {}",
            failed.join("; ")
        ))
    }
}

/// DELETE_EXPIRED_COMMITLOG (329): a retention pass now, whatever the `deleteWhen` hour.
pub async fn delete_expired_commit_log(
    broker: &Broker,
    request: &RemotingCommand,
) -> RemotingCommand {
    let store = broker.store.clone();
    let done = tokio::task::spawn_blocking(move || store.delete_expired_now()).await;
    info!(
        ok = done.is_ok(),
        "delete expired commit log asked by a tool"
    );
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// QUERY_CONSUME_QUEUE (321): raw entries, as `mqadmin queryCq` prints them.
pub fn query_consume_queue(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: QueryConsumeQueueRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let count = usize::try_from(header.count).unwrap_or(0).min(1024);
    let from = u64::try_from(header.index).unwrap_or(0);
    let Some((min, max, entries)) =
        broker
            .store
            .queue_entries(&header.topic, header.queue_id, from, count)
    else {
        return answer(
            request,
            ResponseCode::SystemError,
            format!("{}@{} is not exist!", header.queue_id, header.topic),
        );
    };
    let subscription = header.consumer_group.as_deref().map(|group| {
        broker
            .clients()
            .consumer_group(group)
            .and_then(|g| g.subscriptions.get(&header.topic).cloned())
    });
    let filter_data = match (&header.consumer_group, &subscription) {
        (Some(group), Some(None)) => Some(format!("{group}@{} is not online!", header.topic)),
        _ => None,
    };
    let queue_data = entries
        .into_iter()
        .map(|e| ConsumeQueueData {
            physic_offset: e.commit_log_offset,
            physic_size: e.size,
            tags_code: e.tags_code,
            ..ConsumeQueueData::default()
        })
        .collect();
    json_answer(
        request,
        serde_json::to_vec(&QueryConsumeQueueResponseBody {
            filter_data,
            max_queue_index: max as i64,
            min_queue_index: min as i64,
            queue_data,
            subscription_data: subscription.flatten(),
        }),
    )
}

/// RESUME_CHECK_HALF_MESSAGE (323): the stored half message put back in the half topic with
/// its check count at 0, so the producer is asked about it again.
pub fn resume_half_message(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ResumeCheckHalfMessageRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let msg_id = header.msg_id.unwrap_or_default();
    let record = parse_offset_msg_id(&msg_id)
        .ok()
        .and_then(|(_, offset)| u64::try_from(offset).ok())
        .and_then(|offset| broker.store.read_record(offset));
    let Some(raw) = record else {
        return answer(
            request,
            ResponseCode::SystemError,
            "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC.",
        );
    };
    let Ok(view) = RecordView::decode(&raw) else {
        return answer(
            request,
            ResponseCode::SystemError,
            "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC.",
        );
    };
    let properties = crate::props::with(view.properties(), keys::TRANSACTION_CHECK_TIMES, "0");
    let put = broker.store.put_message(&PutMessage {
        properties: &properties,
        ..crate::route::copy_of(&view, TRANS_HALF_TOPIC, HALF_QUEUE_ID)
    });
    match put {
        Ok(_) => {
            info!(%msg_id, "half message put back for checking");
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => {
            warn!(%msg_id, %error, "half message not put back");
            answer(
                request,
                ResponseCode::SystemError,
                "Put message back to RMQ_SYS_TRANS_HALF_TOPIC failed.",
            )
        }
    }
}
