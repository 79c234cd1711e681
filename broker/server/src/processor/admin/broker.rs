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
    let now = broker.clock.now_ms();
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

/// GET_BROKER_CONFIG (26): every key of `broker.conf` with its value now, as properties text
/// (the same key tables that read the file; `brokerPermission` as changed at run time).
pub fn broker_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let mut props: BTreeMap<String, String> = broker
        .config
        .shown()
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
    props.insert("brokerPermission".into(), broker.permission().to_string());
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
