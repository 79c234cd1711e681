//! The broker itself as admin tools see it: GET_BROKER_RUNTIME_INFO, VIEW_BROKER_STATS_DATA,
//! GET_BROKER_CONFIG, UPDATE_BROKER_CONFIG.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::perm;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::broker_config::{
    GetBrokerConfigResponseHeader, properties_to_string, string_to_properties,
};
use rmq_protocol::command::view_broker_stats::{
    BrokerStatsData, BrokerStatsItem, ViewBrokerStatsDataRequestHeader,
};
use tracing::{info, warn};

use super::{BROKER_VERSION_DESC, decide, json_answer, refusal};
use crate::state::Broker;
use crate::stats;

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
    let now_reading = broker.stats.read();
    broker.with_history(|history, marks| {
        put("msgPutTotalTodayNow", now_reading.put_messages.to_string());
        put("msgGetTotalTodayNow", now_reading.got_messages.to_string());
        put(
            "msgPutTotalTodayMorning",
            marks.today_morning.put_messages.to_string(),
        );
        put(
            "msgGetTotalTodayMorning",
            marks.today_morning.got_messages.to_string(),
        );
        put(
            "msgPutTotalYesterdayMorning",
            marks.yesterday_morning.put_messages.to_string(),
        );
        put(
            "msgGetTotalYesterdayMorning",
            marks.yesterday_morning.got_messages.to_string(),
        );
        put("putTps", history.rates_text(|r| r.put_messages));
        put("getFoundTps", history.rates_text(|r| r.get_found));
        put("getMissTps", history.rates_text(|r| r.get_miss));
        put(
            "getTotalTps",
            history.rates_text(|r| r.get_found + r.get_miss),
        );
        put("getTransferedTps", history.rates_text(|r| r.got_messages));
    });
    let put_bytes = broker.stats.put_bytes.get();
    put(
        "putMessageTimesTotal",
        now_reading.put_messages.max(1).to_string(),
    );
    put("putMessageSizeTotal", put_bytes.to_string());
    put(
        "putMessageAverageSize",
        stats::java_double(put_bytes as f64 / now_reading.put_messages.max(1) as f64),
    );
    put(
        "putMessageFailedTimes",
        broker.stats.put_failures.get().to_string(),
    );
    put(
        "remainHowManyDataToFlush",
        decide::human_bytes(
            store
                .commit_log_max_offset()
                .saturating_sub(store.commit_log_flushed_offset()),
        ),
    );
    let (log_ratio, queue_ratio) = store.disk_used_ratios();
    let ratio = |r: Option<f64>| r.map_or_else(|| "-1".to_owned(), stats::java_double);
    put("commitLogDiskRatio", ratio(log_ratio));
    put(
        &format!(
            "commitLogDiskRatio_{}",
            store.config().commit_log_dir().display()
        ),
        ratio(log_ratio),
    );
    put("consumeQueueDiskRatio", ratio(queue_ratio));
    put(
        "cpuNum",
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .to_string(),
    );
    if let Some((total, free)) = store.disk_capacity() {
        put(
            "commitLogDirCapacity",
            format!(
                "Total : {}, Free : {}.",
                decide::human_bytes(total),
                decide::human_bytes(free)
            ),
        );
    }
    // Requests run on the connection that read them, not on bounded thread pools: there is
    // no queue to report, so these read as Apache's idle broker.
    for key in [
        "sendThreadPoolQueueSize",
        "pullThreadPoolQueueSize",
        "queryThreadPoolQueueSize",
        "EndTransactionQueueSize",
        "sendThreadPoolQueueHeadWaitTimeMills",
        "pullThreadPoolQueueHeadWaitTimeMills",
        "queryThreadPoolQueueHeadWaitTimeMills",
        "startAcceptSendRequestTimeStamp",
    ] {
        put(key, "0".into());
    }
    put(
        "pageCacheLockTimeMills",
        store
            .page_cache_lock_ms(rmq_store::commit_log::now_ms())
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

/// VIEW_BROKER_STATS_DATA (315): one statistic's last minute, hour and day.
pub fn stats_data(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ViewBrokerStatsDataRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return crate::processor::reply::bad_header(request, &error),
    };
    let items = broker.items.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(windows) = items.get(&header.stats_name, &header.stats_key) else {
        return refusal(
            request,
            &decide::AdminRefused::NoStats {
                name: header.stats_name,
                key: header.stats_key,
            },
        );
    };
    let item = |f: stats::windows::Figures| BrokerStatsItem {
        avgpt: f.avgpt,
        sum: f.sum,
        tps: f.tps,
    };
    let data = BrokerStatsData {
        stats_day: item(windows.day()),
        stats_hour: item(windows.hour()),
        stats_minute: item(windows.minute()),
    };
    drop(items);
    json_answer(request, serde_json::to_vec(&data))
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
    props.extend(broker.live.changed());
    props.insert("brokerPermission".into(), broker.permission().to_string());
    // Keys Apache always lists and `mqadmin exportConfigs` reads without a null check: no
    // filter servers run here, and TLS is not served (yet).
    props
        .entry("filterServerNums".into())
        .or_insert_with(|| "0".into());
    props
        .entry("useTLS".into())
        .or_insert_with(|| "false".into());
    let version = serde_json::json!({
        "counter": broker.live.version(),
        "timestamp": broker.started_at_ms,
    })
    .to_string();
    RemotingCommand::response_to(request, ResponseCode::Success)
        .with_header(&GetBrokerConfigResponseHeader { version })
        .with_body(properties_to_string(&props))
}

/// UPDATE_BROKER_CONFIG (25): the keys of [`crate::live_config::RUNTIME_KEYS`] change at once
/// (others are refused by name, bad values name the key; all or nothing), then the config file
/// the broker started from is rewritten with them, as Apache persists its configuration. A
/// file that cannot be written (a read-only ConfigMap in Kubernetes) leaves the change in force
/// until restart: the answer is SUCCESS with a remark saying so, and a warning is logged.
///
/// A new `namesrvAddr` wakes the registration loop ([`crate::register::run`]): at once it
/// unregisters from the name servers left out, then registers with the new list; this answer
/// does not wait for either.
pub async fn update_broker_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let text = String::from_utf8_lossy(&request.body);
    let props = string_to_properties(&text);
    let update = match decide::config_update(&props, &broker.config, &broker.live.changed()) {
        Ok(Some(update)) => update,
        Ok(None) => return RemotingCommand::response_to(request, ResponseCode::Success),
        Err(refused) => return refusal(request, &refused),
    };
    let next = &update.next;
    let values = &update.values;
    if values.contains_key("brokerPermission") {
        let old = broker
            .permission
            .swap(next.broker_permission, Ordering::Relaxed);
        info!(
            old,
            new = next.broker_permission,
            writeable = perm::is_writeable(next.broker_permission),
            "brokerPermission changed"
        );
        // Name servers must learn at once: clients stop routing sends here.
        broker.topics.changed().notify_one();
    }
    broker
        .groups
        .set_auto_create(next.auto_create_subscription_group);
    if ["fileReservedTime", "deleteWhen", "diskMaxUsedSpaceRatio"]
        .iter()
        .any(|k| values.contains_key(*k))
    {
        broker
            .store
            .set_retention(rmq_store::retention::Settings::of(&next.store));
    }
    if values.contains_key("maxMessageSize") {
        broker
            .store
            .set_max_message_size(next.store.max_message_size);
    }
    let namesrvs_before = broker.live.namesrv_addrs();
    broker.live.apply(next, values);
    info!(changed = ?values, "broker config changed at run time");
    if values.contains_key("namesrvAddr") {
        info!(old = ?namesrvs_before, new = ?next.namesrv_addrs, "namesrvAddr changed");
        // After `apply`: the loop reads the list when it wakes. A permit is stored if it is
        // mid-round, so the new list gets a round of its own right after.
        broker.topics.changed().notify_one();
    }
    let Some(path) = broker.config.config_file.clone() else {
        return RemotingCommand::response_to(request, ResponseCode::Success);
    };
    let all = broker.live.changed();
    let persisted =
        tokio::task::spawn_blocking(move || persist(&path, &all).map_err(|e| (path, e)))
            .await
            .unwrap_or_else(|e| Err((PathBuf::new(), std::io::Error::other(e))));
    match persisted {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err((path, error)) => {
            warn!(path = %path.display(), %error, "config change applied but not written back: it holds until restart");
            RemotingCommand::response_to(request, ResponseCode::Success).with_remark(format!(
                "applied; not written to {}: {error}; the change holds until restart",
                path.display()
            ))
        }
    }
}

/// Rewrites `path` with `values` set, durably ([`crate::durable_file::replace`]).
fn persist(path: &Path, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let next = crate::live_config::rewrite_properties(&text, values);
    crate::durable_file::replace(path, next.as_bytes())
}
