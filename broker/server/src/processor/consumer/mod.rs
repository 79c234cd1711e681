//! Client membership and committed offsets: HEART_BEAT (34), UNREGISTER_CLIENT (35),
//! GET_CONSUMER_LIST_BY_GROUP (38), QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15).

pub mod decide;

use std::time::Instant;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::get_consumer_list::{
    ConsumerIdList, GetConsumerListByGroupRequestHeader,
};
use rmq_protocol::command::heart_beat::HeartbeatData;
use rmq_protocol::command::query_consumer_offset::{
    QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
};
use rmq_protocol::command::unregister_client::UnregisterClientRequestHeader;
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_remoting::ConnHandle;
use tracing::{info, warn};

use self::decide::ConsumerRefused;
use super::reply::{answer, bad_header, success_with};
use crate::clients::Identity;
use crate::state::Broker;

/// HEART_BEAT: registers the client's producer and consumer groups; a change of a consumer
/// group's members or subscriptions is announced to the group (NOTIFY_CONSUMER_IDS_CHANGED).
pub fn heart_beat(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
) -> RemotingCommand {
    let data = match HeartbeatData::decode(&request.body) {
        Ok(data) => data,
        Err(error) => {
            warn!(peer = %conn.peer(), error = %error, body = %String::from_utf8_lossy(&request.body), "heartbeat body is not valid");
            return refusal(request, &ConsumerRefused::HeartbeatBody(error.to_string()));
        }
    };
    let now = Instant::now();
    let who = Identity {
        client_id: data.client_id.clone(),
        language: request.language,
        version: request.version,
    };
    let mut changed = Vec::new();
    for consumer in &data.consumer_data_set {
        match broker.groups.find_or_create(&consumer.group_name) {
            Ok(Some(group)) => {
                // The retry topic must exist before the client's first send-back.
                if let Err(error) = broker
                    .topics
                    .get_or_create_retry(&consumer.group_name, group.retry_queue_nums.max(1))
                {
                    warn!(group = %consumer.group_name, error = %error, "retry topic not created");
                }
            }
            Ok(None) => {}
            Err(error) => {
                warn!(group = %consumer.group_name, error = %error, "subscription group not created")
            }
        }
        let group_changed =
            broker
                .clients()
                .register_consumer(conn.id(), conn, &who, consumer, now);
        if group_changed {
            info!(group = %consumer.group_name, client = %data.client_id, peer = %conn.peer(), "consumer group changed");
            changed.push(consumer.group_name.clone());
        }
    }
    for producer in &data.producer_data_set {
        broker
            .clients()
            .register_producer(conn.id(), conn, &who, &producer.group_name, now);
    }
    if !changed.is_empty() {
        crate::notify::consumer_ids_changed(broker, &changed);
    }
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// UNREGISTER_CLIENT: the client is shutting down a producer or consumer.
pub fn unregister_client(
    broker: &Broker,
    conn: &ConnHandle,
    request: &RemotingCommand,
) -> RemotingCommand {
    let header: UnregisterClientRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    if let Some(group) = header.producer_group.as_deref().filter(|g| !g.is_empty()) {
        broker.clients().unregister_producer(group, conn.id());
    }
    if let Some(group) = header.consumer_group.as_deref().filter(|g| !g.is_empty()) {
        let removed = broker.clients().unregister_consumer(group, conn.id());
        if removed {
            info!(%group, client = %header.client_id, "consumer unregistered");
            crate::notify::consumer_ids_changed(broker, &[group.to_owned()]);
        }
    }
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// GET_CONSUMER_LIST_BY_GROUP: the client ids a consumer divides queues among.
pub fn consumer_list(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumerListByGroupRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let Some(ids) = broker.clients().consumer_ids(&header.consumer_group) else {
        return refusal(request, &ConsumerRefused::NoConsumer(header.consumer_group));
    };
    let body = ConsumerIdList {
        consumer_id_list: ids,
    };
    match serde_json::to_vec(&body) {
        Ok(json) => RemotingCommand::response_to(request, ResponseCode::Success).with_body(json),
        Err(error) => refusal(request, &ConsumerRefused::Encode(error.to_string())),
    }
}

/// QUERY_CONSUMER_OFFSET: see [`decide::offset_to_answer`].
pub fn query_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: QueryConsumerOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let committed = broker
        .offsets
        .query(&header.consumer_group, &header.topic, header.queue_id);
    let queue_min = broker
        .store
        .min_offset_in_queue(&header.topic, header.queue_id);
    match decide::offset_to_answer(committed, queue_min, header.set_zero_if_not_found) {
        Ok(offset) => success_with(request, &QueryConsumerOffsetResponseHeader { offset }),
        Err(refused) => refusal(request, &refused),
    }
}

/// UPDATE_CONSUMER_OFFSET: records a commit (persisted every `flushConsumerOffsetInterval`).
pub fn update_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: UpdateConsumerOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    broker.offsets.commit(
        &header.consumer_group,
        &header.topic,
        header.queue_id,
        header.commit_offset,
    );
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// The answer to a refused consumer request.
fn refusal(request: &RemotingCommand, refused: &ConsumerRefused) -> RemotingCommand {
    answer(request, refused.code(), refused.to_string())
}
