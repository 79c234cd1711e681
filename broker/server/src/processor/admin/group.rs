//! Subscription-group requests of admin tools: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
//! DELETE_SUBSCRIPTIONGROUP, GET_ALL_SUBSCRIPTIONGROUP_CONFIG, GET_SUBSCRIPTIONGROUP_CONFIG,
//! GET_CONSUME_STATS.

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::MessageQueue;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::get_consume_stats::{
    ConsumeStats, GetConsumeStatsRequestHeader, OffsetWrapper,
};
use rmq_protocol::command::get_subscription_group_config::GetSubscriptionGroupConfigRequestHeader;
use rmq_store::metadata::json::to_fastjson_string;
use tracing::info;

use super::decide::{self, AdminRefused};
use super::{json_answer, refusal, text_answer};
use crate::processor::reply::bad_header;
use crate::state::Broker;

/// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200): body is a `SubscriptionGroupConfig`.
pub fn update_group(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let config = match decide::parse_group(&request.body) {
        Ok(config) => config,
        Err(refused) => return refusal(request, &refused),
    };
    info!(group = %config.group_name, "subscription group created or updated");
    match broker.groups.upsert(config) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(error) => refusal(request, &AdminRefused::Failed(error.to_string())),
    }
}

/// DELETE_SUBSCRIPTIONGROUP (207); with `removeOffset=true` the group's committed offsets go too.
pub fn delete_group(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let Some(group) = request.ext_fields.get("groupName") else {
        return refusal(request, &AdminRefused::GroupNameMissing);
    };
    let remove_offsets = request.ext_fields.get("removeOffset") == Some("true");
    match broker.groups.delete(group) {
        Ok(_) => {
            if remove_offsets {
                info!(%group, "subscription group deleted with its offsets");
                broker.offsets.remove_group(group);
            }
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => refusal(request, &AdminRefused::Failed(error.to_string())),
    }
}

/// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201).
pub fn all_groups(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    text_answer(request, to_fastjson_string(&broker.groups.snapshot()))
}

/// GET_SUBSCRIPTIONGROUP_CONFIG (352): one group's configuration.
pub fn group_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetSubscriptionGroupConfigRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    match broker.groups.get(&header.group) {
        Some(config) => json_answer(request, serde_json::to_vec(&config)),
        None => refusal(request, &AdminRefused::NoGroupHere),
    }
}

/// GET_CONSUME_STATS (208): broker and committed offsets of a group on each queue.
pub fn consume_stats(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumeStatsRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let subscribed = broker
        .clients()
        .consumer_group(&header.consumer_group)
        .map(|g| g.subscriptions.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let topics = decide::consume_stats_topics(
        header.topic.as_deref(),
        broker.offsets.topics_of(&header.consumer_group),
        subscribed,
    );
    let store = &broker.store;
    let mut offset_table = Vec::new();
    for topic in topics {
        let Some(config) = broker.topics.get(&topic) else {
            continue;
        };
        let committed = broker.offsets.of(&header.consumer_group, &topic);
        for queue_id in 0..config.write_queue_nums {
            let broker_offset = store.max_offset_in_queue(&topic, queue_id) as i64;
            let consumer_offset = committed.get(&queue_id).copied().unwrap_or(0);
            let last_timestamp = u64::try_from(consumer_offset - 1)
                .ok()
                .and_then(|o| store.store_time(&topic, queue_id, o))
                .unwrap_or(0);
            offset_table.push((
                MessageQueue {
                    broker_name: broker.config.broker_name.clone(),
                    queue_id,
                    topic: topic.clone(),
                },
                OffsetWrapper {
                    broker_offset,
                    consumer_offset,
                    last_timestamp,
                    pull_offset: consumer_offset,
                },
            ));
        }
    }
    json_answer(
        request,
        ConsumeStats {
            consume_tps: 0.0,
            offset_table,
        }
        .to_fastjson(),
    )
}
