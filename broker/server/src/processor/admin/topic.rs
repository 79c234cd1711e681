//! Topic requests of admin tools: UPDATE_AND_CREATE_TOPIC, DELETE_TOPIC_IN_BROKER,
//! GET_ALL_TOPIC_CONFIG, GET_TOPIC_CONFIG, GET_TOPIC_STATS_INFO, GET_SYSTEM_TOPIC_LIST_FROM_BROKER.

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::MessageQueue;
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use rmq_protocol::command::delete_topic::DeleteTopicRequestHeader;
use rmq_protocol::command::get_topic_config::GetTopicConfigRequestHeader;
use rmq_protocol::command::get_topic_stats::{
    GetTopicStatsInfoRequestHeader, TopicOffset, TopicStatsTable,
};

use super::decide::{self, AdminRefused};
use super::{json_answer, refusal};
use crate::processor::reply::bad_header;
use crate::state::Broker;

/// UPDATE_AND_CREATE_TOPIC (17).
pub fn update_and_create_topic(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: CreateTopicRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    if let Err(refused) = decide::check_topic_update(
        &header.topic,
        header.read_queue_nums,
        header.write_queue_nums,
        &broker.config.cluster_name,
        &broker.config.broker_name,
    ) {
        return refusal(request, &refused);
    }
    let config = header.to_topic_config();
    match broker.topics.upsert(config) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(error) => refusal(request, &AdminRefused::Failed(error.to_string())),
    }
}

/// DELETE_TOPIC_IN_BROKER (215): forgets the topic and its committed offsets. Its stored
/// messages stay until retention removes their files.
pub fn delete_topic(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: DeleteTopicRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    if let Err(refused) = decide::check_topic_delete(
        &header.topic,
        &broker.config.cluster_name,
        &broker.config.broker_name,
    ) {
        return refusal(request, &refused);
    }
    match broker.topics.delete(&header.topic) {
        Ok(_) => {
            broker.offsets.remove_topic(&header.topic);
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => refusal(request, &AdminRefused::Failed(error.to_string())),
    }
}

/// GET_ALL_TOPIC_CONFIG (21).
pub fn all_topic_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    json_answer(
        request,
        broker.topics.wire_snapshot(broker.permission()).to_json(),
    )
}

/// GET_TOPIC_CONFIG (351): one topic's configuration.
pub fn topic_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetTopicConfigRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    match broker.topics.get(&header.topic) {
        Some(config) => json_answer(request, serde_json::to_vec(&config)),
        None => refusal(request, &AdminRefused::NoTopicHere(header.topic)),
    }
}

/// GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305).
pub fn system_topics(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let topic_list =
        decide::system_topic_list(&broker.config.cluster_name, &broker.config.broker_name);
    json_answer(
        request,
        serde_json::to_vec(&TopicList {
            broker_addr: None,
            topic_list,
        }),
    )
}

/// GET_TOPIC_STATS_INFO (202): min/max offset and last store time of every queue of a topic.
pub fn topic_stats(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetTopicStatsInfoRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let Some(topic) = broker.topics.get(&header.topic) else {
        return refusal(request, &AdminRefused::TopicNotExist(header.topic));
    };
    let store = &broker.store;
    let offset_table = (0..topic.write_queue_nums)
        .map(|queue_id| {
            let min = store.min_offset_in_queue(&header.topic, queue_id);
            let max = store.max_offset_in_queue(&header.topic, queue_id);
            let last = max
                .checked_sub(1)
                .and_then(|last| store.store_time(&header.topic, queue_id, last))
                .unwrap_or(0);
            (
                MessageQueue {
                    broker_name: broker.config.broker_name.clone(),
                    queue_id,
                    topic: header.topic.clone(),
                },
                TopicOffset {
                    last_update_timestamp: last,
                    max_offset: max as i64,
                    min_offset: min as i64,
                },
            )
        })
        .collect();
    json_answer(
        request,
        TopicStatsTable {
            offset_table,
            topic_put_tps: 0.0,
        }
        .to_fastjson(),
    )
}
