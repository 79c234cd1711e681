//! Requests of admin tools (mqadmin, rmqctl, dashboards): topics, subscription groups, committed
//! offsets, statistics and the broker's configuration.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::{MessageQueue, perm};
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::broker_config::{
    GetBrokerConfigResponseHeader, properties_to_string, string_to_properties,
};
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use rmq_protocol::command::delete_topic::DeleteTopicRequestHeader;
use rmq_protocol::command::get_consume_stats::{
    ConsumeStats, GetConsumeStatsRequestHeader, OffsetWrapper,
};
use rmq_protocol::command::get_topic_stats::{
    GetTopicStatsInfoRequestHeader, TopicOffset, TopicStatsTable,
};
use rmq_store::metadata::json::to_fastjson_string;
use rmq_store::metadata::{DelayOffsetTable, SubscriptionGroupConfig};
use tracing::info;

use super::reply::{answer, bad_header};
use crate::state::Broker;
use crate::topics::{self, validate_topic_name};

/// Version string admin tools show (Apache's `MQVersion` name of the protocol we speak).
pub const BROKER_VERSION_DESC: &str = "V4_9_4";

/// UPDATE_AND_CREATE_TOPIC (17).
pub fn update_and_create_topic(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: CreateTopicRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    if let Err(invalid) = validate_topic_name(&header.topic) {
        return answer(request, ResponseCode::SystemError, invalid.to_string());
    }
    if is_system_topic(broker, &header.topic) {
        return answer(
            request,
            ResponseCode::SystemError,
            format!("The topic[{}] is conflict with system topic.", header.topic),
        );
    }
    if header.read_queue_nums <= 0 || header.write_queue_nums <= 0 {
        return answer(
            request,
            ResponseCode::SystemError,
            format!(
                "readQueueNums {} and writeQueueNums {} must be positive",
                header.read_queue_nums, header.write_queue_nums
            ),
        );
    }
    let config = topics::from_wire(&header.to_topic_config());
    match broker.topics.upsert(config) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

/// DELETE_TOPIC_IN_BROKER (215): forgets the topic and its committed offsets. Its stored
/// messages stay until retention removes their files.
pub fn delete_topic(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: DeleteTopicRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    if is_system_topic(broker, &header.topic) {
        return answer(
            request,
            ResponseCode::SystemError,
            format!("The topic[{}] is conflict with system topic.", header.topic),
        );
    }
    match broker.topics.delete(&header.topic) {
        Ok(_) => {
            broker.offsets.remove_topic(&header.topic);
            RemotingCommand::response_to(request, ResponseCode::Success)
        }
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

/// GET_ALL_TOPIC_CONFIG (21).
pub fn all_topic_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    json_answer(
        request,
        broker.topics.wire_snapshot(broker.permission()).to_json(),
    )
}

/// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200): body is a `SubscriptionGroupConfig`.
pub fn update_group(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let config: SubscriptionGroupConfig = match serde_json::from_slice(&request.body) {
        Ok(config) => config,
        Err(error) => {
            return answer(
                request,
                ResponseCode::SystemError,
                format!("subscription group body is not valid: {error}"),
            );
        }
    };
    if config.group_name.is_empty() {
        return answer(request, ResponseCode::SystemError, "groupName is blank");
    }
    info!(group = %config.group_name, "subscription group created or updated");
    match broker.groups.upsert(config) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

/// DELETE_SUBSCRIPTIONGROUP (207).
pub fn delete_group(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let Some(group) = request.ext_fields.get("groupName") else {
        return answer(request, ResponseCode::SystemError, "groupName is missing");
    };
    match broker.groups.delete(group) {
        Ok(_) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

/// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201).
pub fn all_groups(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    text_answer(request, to_fastjson_string(&broker.groups.snapshot()))
}

/// GET_ALL_CONSUMER_OFFSET (43): `{"offsetTable":{"topic@group":{0:12}}}`.
pub fn all_consumer_offsets(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    text_answer(request, to_fastjson_string(&broker.offsets.snapshot()))
}

/// GET_BROKER_RUNTIME_INFO (28): the figures `mqadmin brokerStatus` and `clusterList` show.
pub fn runtime_info(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let store = &broker.store;
    let now = rmq_store::commit_log::now_ms();
    let uptime_s = (now - broker.started_at_ms).max(0) / 1000;
    let (producers, consumers) = broker.clients().counts();
    let mut table = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        table.insert(k.to_owned(), v);
    };
    put("brokerVersionDesc", BROKER_VERSION_DESC.into());
    put(
        "brokerVersion",
        rmq_protocol::language::version::CURRENT.to_string(),
    );
    put("brokerRole", broker.config.role.name().into());
    put(
        "msgPutTotalTodayNow",
        broker
            .stats
            .put_messages
            .load(Ordering::Relaxed)
            .to_string(),
    );
    put(
        "msgGetTotalTodayNow",
        broker
            .stats
            .got_messages
            .load(Ordering::Relaxed)
            .to_string(),
    );
    put(
        "commitLogMaxOffset",
        store.commit_log_max_offset().to_string(),
    );
    put(
        "commitLogMinOffset",
        store.commit_log_min_offset().to_string(),
    );
    put(
        "dispatchBehindBytes",
        store
            .commit_log_max_offset()
            .saturating_sub(store.dispatched_offset())
            .to_string(),
    );
    put("bootTimestamp", broker.started_at_ms.to_string());
    put(
        "runtime",
        format!(
            "[ {} days, {} hours, {} minutes, {} seconds ]",
            uptime_s / 86400,
            uptime_s / 3600 % 24,
            uptime_s / 60 % 60,
            uptime_s % 60
        ),
    );
    put(
        "earliestMessageTimeStamp",
        store.earliest_store_time().unwrap_or(0).to_string(),
    );
    put("producerConnections", producers.to_string());
    put("consumerConnections", consumers.to_string());
    put("brokerPermission", broker.permission().to_string());
    put(
        "storePathRootDir",
        broker.config.store.root_dir.display().to_string(),
    );
    for (key, value) in broker.replication.runtime_info(store) {
        put(key, value);
    }
    json_answer(request, serde_json::to_vec(&KvTable { table }))
}

/// GET_TOPIC_STATS_INFO (202): min/max offset and last store time of every queue of a topic.
pub fn topic_stats(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetTopicStatsInfoRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let Some(topic) = broker.topics.get(&header.topic) else {
        return answer(
            request,
            ResponseCode::TopicNotExist,
            format!("topic[{}] not exist", header.topic),
        );
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

/// GET_CONSUME_STATS (208): broker and committed offsets of a group on each queue.
pub fn consume_stats(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumeStatsRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let topics: Vec<String> = match header.topic.as_deref().filter(|t| !t.is_empty()) {
        Some(topic) => vec![topic.to_owned()],
        None => {
            let mut topics = broker.offsets.topics_of(&header.consumer_group);
            topics.extend(
                broker
                    .clients()
                    .consumer_group(&header.consumer_group)
                    .map(|g| g.subscriptions.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
            topics.sort();
            topics.dedup();
            topics
        }
    };
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

/// GET_BROKER_CONFIG (26): the configuration as properties text.
pub fn broker_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let c = &broker.config;
    let mut props = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        props.insert(k.to_owned(), v);
    };
    put("brokerClusterName", c.cluster_name.clone());
    put("brokerName", c.broker_name.clone());
    put("brokerId", c.broker_id.to_string());
    put("brokerIP1", c.broker_ip1.clone());
    put("listenPort", c.listen_port.to_string());
    put("haListenPort", c.ha_listen_port.to_string());
    put("namesrvAddr", c.namesrv_addrs.join(";"));
    put("brokerRole", c.role.name().into());
    put(
        "flushDiskType",
        format!("{:?}", c.store.flush_disk_type)
            .to_uppercase()
            .replace("FLUSH", "_FLUSH"),
    );
    put("brokerPermission", broker.permission().to_string());
    put(
        "autoCreateTopicEnable",
        c.auto_create_topic_enable.to_string(),
    );
    put(
        "autoCreateSubscriptionGroup",
        c.auto_create_subscription_group.to_string(),
    );
    put(
        "defaultTopicQueueNums",
        c.default_topic_queue_nums.to_string(),
    );
    put("maxMessageSize", c.store.max_message_size.to_string());
    put("storePathRootDir", c.store.root_dir.display().to_string());
    put(
        "storePathCommitLog",
        c.store.commit_log_dir().display().to_string(),
    );
    put(
        "mappedFileSizeCommitLog",
        c.store.commit_log_file_size.to_string(),
    );
    put("deleteWhen", c.store.delete_when.clone());
    put(
        "fileReservedTime",
        c.store.file_reserved_time_hours.to_string(),
    );
    put("longPollingEnable", c.long_polling_enable.to_string());
    let version = serde_json::json!({
        "counter": broker.topics.snapshot().data_version.counter,
        "timestamp": broker.started_at_ms,
    })
    .to_string();
    RemotingCommand::response_to(request, ResponseCode::Success)
        .with_header(&GetBrokerConfigResponseHeader { version })
        .with_body(properties_to_string(&props))
}

/// UPDATE_BROKER_CONFIG (25): only `brokerPermission` changes at run time; anything else is
/// refused with the list of keys, so a tool never believes a change it did not get.
pub fn update_broker_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let text = String::from_utf8_lossy(&request.body);
    let props = string_to_properties(&text);
    let unsupported: Vec<&String> = props.keys().filter(|k| *k != "brokerPermission").collect();
    if !unsupported.is_empty() {
        return answer(
            request,
            ResponseCode::SystemError,
            format!(
                "these keys cannot be changed at run time: {unsupported:?}; only brokerPermission can"
            ),
        );
    }
    if let Some(value) = props.get("brokerPermission") {
        let Ok(new) = value.trim().parse::<i32>() else {
            return answer(
                request,
                ResponseCode::SystemError,
                format!("brokerPermission={value:?} is not a number"),
            );
        };
        if !(0..=15).contains(&new) {
            return answer(
                request,
                ResponseCode::SystemError,
                format!("brokerPermission={new} is out of range"),
            );
        }
        let old = broker.permission.swap(new, Ordering::Relaxed);
        info!(
            old,
            new,
            writeable = perm::is_writeable(new),
            "brokerPermission changed"
        );
        // Name servers must learn at once: clients stop routing sends here.
        broker.topics.changed().notify_one();
    }
    RemotingCommand::response_to(request, ResponseCode::Success)
}

fn is_system_topic(broker: &Broker, topic: &str) -> bool {
    topic == topics::AUTO_CREATE_TOPIC
        || topic == topics::SELF_TEST_TOPIC
        || topic == topics::OFFSET_MOVED_EVENT
        || topic == topics::SCHEDULE_TOPIC
        || topic == topics::BENCHMARK_TOPIC
        || topic == broker.config.cluster_name
        || topic == broker.config.broker_name
        || topics::is_not_allowed_send_topic(topic)
}

fn json_answer<E: std::fmt::Display>(
    request: &RemotingCommand,
    body: Result<Vec<u8>, E>,
) -> RemotingCommand {
    match body {
        Ok(body) => RemotingCommand::response_to(request, ResponseCode::Success).with_body(body),
        Err(error) => answer(request, ResponseCode::SystemError, error.to_string()),
    }
}

fn text_answer<E: std::fmt::Display>(
    request: &RemotingCommand,
    body: Result<String, E>,
) -> RemotingCommand {
    json_answer(request, body.map(String::into_bytes))
}

/// GET_ALL_DELAY_OFFSET (45): the delay scheduler's progress per level, as `delayOffset.json`
/// holds it (Apache answers `ScheduleMessageService.encode()`: the live table, not the file,
/// which is written only every `flushDelayOffsetInterval`).
pub fn all_delay_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let table = DelayOffsetTable {
        data_version: None,
        offset_table: broker.messaging.delay_offsets.snapshot(),
    };
    match to_fastjson_string(&table) {
        Ok(text) => RemotingCommand::response_to(request, ResponseCode::Success).with_body(text),
        Err(error) => answer(
            request,
            ResponseCode::SystemError,
            format!("delay offsets cannot be encoded: {error}"),
        ),
    }
}
