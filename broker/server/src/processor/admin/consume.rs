//! Consumer progress as tools ask it across groups: QUERY_CONSUME_TIME_SPAN (303),
//! QUERY_CORRECTION_OFFSET (308), CLONE_GROUP_OFFSET (314), GET_BROKER_CONSUME_STATS (317).

use std::collections::BTreeMap;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::MessageQueue;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::broker_consume_stats::{
    ConsumeStatsList, GetConsumeStatsInBrokerHeader,
};
use rmq_protocol::command::clone_group_offset::CloneGroupOffsetRequestHeader;
use rmq_protocol::command::get_consume_stats::{ConsumeStats, OffsetWrapper};
use rmq_protocol::command::query_consume_time_span::{
    QueryConsumeTimeSpanBody, QueryConsumeTimeSpanRequestHeader, QueueTimeSpan,
};
use rmq_protocol::command::query_correction_offset::{
    QueryCorrectionOffsetBody, QueryCorrectionOffsetHeader,
};
use tracing::{info, warn};

use super::decide::{self, AdminRefused};
use super::{json_answer, refusal};
use crate::processor::reply::bad_header;
use crate::state::Broker;

/// QUERY_CONSUME_TIME_SPAN (303).
pub fn time_span(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: QueryConsumeTimeSpanRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let Some(topic) = broker.topics.get(&header.topic) else {
        return refusal(request, &AdminRefused::TopicNotExist(header.topic));
    };
    let store = &broker.store;
    let committed = broker.offsets.of(&header.group, &header.topic);
    let now = broker.clock.now_ms();
    let consume_time_span_set = (0..topic.write_queue_nums)
        .map(|queue_id| {
            let time_at = |offset: i64| {
                u64::try_from(offset)
                    .ok()
                    .and_then(|o| store.store_time(&header.topic, queue_id, o))
            };
            let min_time = store
                .earliest_message_time(&header.topic, queue_id)
                .unwrap_or(0);
            let max = store.max_offset_in_queue(&header.topic, queue_id) as i64;
            let consumer_offset = committed.get(&queue_id).copied().unwrap_or(-1);
            let consume_time = if consumer_offset > 0 {
                time_at(consumer_offset - 1).unwrap_or(0)
            } else {
                min_time
            };
            let next = (consumer_offset < max)
                .then(|| time_at(consumer_offset.max(0)))
                .flatten();
            QueueTimeSpan {
                consume_time_stamp: consume_time,
                delay_time: decide::consume_delay_ms(now, next),
                max_time_stamp: time_at(max - 1).unwrap_or(0),
                message_queue: queue(broker, &header.topic, queue_id),
                min_time_stamp: min_time,
            }
        })
        .collect();
    json_answer(
        request,
        serde_json::to_vec(&QueryConsumeTimeSpanBody {
            consume_time_span_set,
        }),
    )
}

/// QUERY_CORRECTION_OFFSET (308).
pub fn correction_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: QueryCorrectionOffsetHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let topic = &header.topic;
    let offsets_by_group: Vec<(String, BTreeMap<i32, i64>)> = broker
        .offsets
        .groups_of(topic)
        .into_iter()
        .map(|group| {
            let offsets = broker.offsets.of(&group, topic);
            (group, offsets)
        })
        .collect();
    let correction_offsets = decide::correction_offsets(
        &offsets_by_group,
        header.filter_groups.as_deref().unwrap_or(""),
        |queue_id| broker.store.min_offset_in_queue(topic, queue_id) as i64,
        &broker.offsets.of(&header.compare_group, topic),
    );
    json_answer(
        request,
        serde_json::to_vec(&QueryCorrectionOffsetBody { correction_offsets }),
    )
}

/// CLONE_GROUP_OFFSET (314): the destination group gets the source group's committed offsets
/// on the topic asked (every topic the source committed on, when none is named).
pub fn clone_offsets(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: CloneGroupOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let topics = match header.topic.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(topic) => vec![topic.to_owned()],
        None => broker.offsets.topics_of(&header.src_group),
    };
    let subscriptions = broker
        .clients()
        .consumer_group(&header.src_group)
        .map(|g| g.subscriptions.clone());
    for topic in topics {
        if broker.topics.get(&topic).is_none() {
            warn!(%topic, "clone group offset: topic not on this broker");
            continue;
        }
        if !decide::group_covers_topic(header.offline, subscriptions.as_ref(), &topic) {
            warn!(group = %header.src_group, %topic, "clone group offset: the online group does not subscribe to the topic");
            continue;
        }
        for (queue_id, offset) in broker.offsets.of(&header.src_group, &topic) {
            broker
                .offsets
                .commit(&header.dest_group, &topic, queue_id, offset);
        }
        info!(src = %header.src_group, dest = %header.dest_group, %topic, "group offsets cloned");
    }
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// GET_BROKER_CONSUME_STATS (317): every subscription group's progress on the topics it
/// committed on, and the total lag.
pub fn broker_consume_stats(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumeStatsInBrokerHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let store = &broker.store;
    let mut total_diff = 0;
    let mut consume_stats_list = Vec::new();
    let groups = broker.groups.snapshot().subscription_group_table;
    for group in groups.keys() {
        let subscriptions = broker
            .clients()
            .consumer_group(group)
            .map(|g| g.subscriptions.clone());
        let mut per_topic = Vec::new();
        for topic in broker.offsets.topics_of(group) {
            let Some(config) = broker.topics.get(&topic) else {
                continue;
            };
            if (header.is_order && !config.order)
                || !decide::group_covers_topic(false, subscriptions.as_ref(), &topic)
            {
                continue;
            }
            let committed = broker.offsets.of(group, &topic);
            let offset_table: Vec<(MessageQueue, OffsetWrapper)> = (0..config.write_queue_nums)
                .map(|queue_id| {
                    let broker_offset = store.max_offset_in_queue(&topic, queue_id) as i64;
                    let consumer_offset = committed.get(&queue_id).copied().unwrap_or(0).max(0);
                    let last_timestamp = u64::try_from(consumer_offset - 1)
                        .ok()
                        .and_then(|o| store.store_time(&topic, queue_id, o))
                        .unwrap_or(0);
                    let wrapper = OffsetWrapper {
                        broker_offset,
                        consumer_offset,
                        last_timestamp,
                        pull_offset: consumer_offset,
                    };
                    (queue(broker, &topic, queue_id), wrapper)
                })
                .collect();
            total_diff += offset_table
                .iter()
                .map(|(_, o)| o.broker_offset - o.consumer_offset)
                .sum::<i64>();
            per_topic.push(ConsumeStats {
                consume_tps: 0.0,
                offset_table,
            });
        }
        consume_stats_list.push((group.clone(), per_topic));
    }
    let list = ConsumeStatsList {
        broker_addr: broker.config.broker_addr(),
        consume_stats_list,
        total_diff,
    };
    json_answer(request, list.to_fastjson())
}

fn queue(broker: &Broker, topic: &str, queue_id: i32) -> MessageQueue {
    MessageQueue {
        broker_name: broker.config.broker_name.clone(),
        queue_id,
        topic: topic.to_owned(),
    }
}
