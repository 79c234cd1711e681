//! The broker itself as admin tools see it: GET_BROKER_RUNTIME_INFO, GET_BROKER_CONFIG,
//! UPDATE_BROKER_CONFIG.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::broker_config::{
    GetBrokerConfigResponseHeader, properties_to_string, string_to_properties,
};
use tracing::info;

use super::{BROKER_VERSION_DESC, decide, json_answer, refusal};
use crate::state::Broker;

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
    put("runtime", decide::uptime_text(uptime_s));
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
    let new = match decide::permission_update(&string_to_properties(&text)) {
        Ok(Some(new)) => new,
        Ok(None) => return RemotingCommand::response_to(request, ResponseCode::Success),
        Err(refused) => return refusal(request, &refused),
    };
    let old = broker.permission.swap(new, Ordering::Relaxed);
    info!(
        old,
        new,
        writeable = perm::is_writeable(new),
        "brokerPermission changed"
    );
    // Name servers must learn at once: clients stop routing sends here.
    broker.topics.changed().notify_one();
    RemotingCommand::response_to(request, ResponseCode::Success)
}
