//! The decisions of the admin requests, without I/O: which topics and groups tools may create,
//! change or delete, what a runtime configuration change means, which topics a group's consume
//! statistics cover, and Apache's codes and remarks for every refusal ([`AdminRefused`]).

use std::collections::BTreeMap;

use rmq_protocol::code::ResponseCode;
use rmq_store::metadata::SubscriptionGroupConfig;

use crate::config::BrokerConfig;
use crate::topics::{self, TopicNameError, validate_topic_name};

/// Why an admin request is refused; all are SYSTEM_ERROR but a missing topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminRefused {
    #[error("{0}")]
    TopicName(#[from] TopicNameError),
    #[error("The topic[{0}] is conflict with system topic.")]
    SystemTopic(String),
    #[error("readQueueNums {read} and writeQueueNums {write} must be positive")]
    QueueNums { read: i32, write: i32 },
    #[error("topic[{0}] not exist")]
    TopicNotExist(String),
    /// GET_TOPIC_CONFIG's remark for a topic this broker does not have.
    #[error("No topic in this broker. topic: {0}")]
    NoTopicHere(String),
    #[error("No group in this broker")]
    NoGroupHere,
    /// Apache's remark for a statistic nothing was counted under.
    #[error("The stats <{name}> <{key}> not exist")]
    NoStats { name: String, key: String },
    #[error("subscription group body is not valid: {0}")]
    GroupBody(String),
    #[error("groupName is blank")]
    GroupNameBlank,
    #[error("groupName is missing")]
    GroupNameMissing,
    #[error(
        "these keys cannot be changed at run time (restart with them in broker.conf): {0:?}; \
         these can: {runtime:?}",
        runtime = crate::live_config::RUNTIME_KEYS
    )]
    NotChangeable(Vec<String>),
    /// A value the key tables refuse (the text names key, value and what is expected).
    #[error("{0}")]
    BadValue(String),
    /// `namesrvAddr` with no name server: clients could no longer find the broker, and the name
    /// servers it is registered with would drop it once its registration expired.
    #[error(
        "namesrvAddr must name at least one name server (host:port, several separated by ';'); \
         it stays {kept:?}"
    )]
    NoNameServers { kept: String },
    /// A metadata file could not be written, or an answer encoded.
    #[error("{0}")]
    Failed(String),
}

impl AdminRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            AdminRefused::TopicNotExist(_) | AdminRefused::NoTopicHere(_) => {
                ResponseCode::TopicNotExist
            }
            AdminRefused::NoGroupHere => ResponseCode::SubscriptionGroupNotExist,
            _ => ResponseCode::SystemError,
        }
    }
}

/// Topics no tool may create, change or delete: the broker's own (auto-create template, self
/// test, offset-moved events, schedule, benchmark, the cluster's and the broker's name) and
/// those only the broker writes.
pub fn is_system_topic(topic: &str, cluster_name: &str, broker_name: &str) -> bool {
    topic == topics::AUTO_CREATE_TOPIC
        || topic == topics::SELF_TEST_TOPIC
        || topic == topics::OFFSET_MOVED_EVENT
        || topic == topics::SCHEDULE_TOPIC
        || topic == topics::BENCHMARK_TOPIC
        || topic == cluster_name
        || topic == broker_name
        || topic == topics::reply_topic(cluster_name)
        || topics::is_not_allowed_send_topic(topic)
}

/// GET_SYSTEM_TOPIC_LIST_FROM_BROKER: Apache's system topics, the topics named after the
/// cluster and the broker, and the cluster's reply topic, sorted.
pub fn system_topic_list(cluster_name: &str, broker_name: &str) -> Vec<String> {
    let mut list: Vec<String> = [
        topics::AUTO_CREATE_TOPIC,
        topics::SCHEDULE_TOPIC,
        topics::BENCHMARK_TOPIC,
        topics::TRANS_HALF_TOPIC,
        crate::messaging::DEFAULT_TRACE_TOPIC,
        topics::TRANS_OP_HALF_TOPIC,
        topics::TRANS_CHECK_MAX_TIME_TOPIC,
        topics::SELF_TEST_TOPIC,
        topics::OFFSET_MOVED_EVENT,
        cluster_name,
        broker_name,
        &topics::reply_topic(cluster_name),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    list.sort();
    list.dedup();
    list
}

/// UPDATE_AND_CREATE_TOPIC: a valid name, not a system topic, positive queue counts.
pub fn check_topic_update(
    topic: &str,
    read_queue_nums: i32,
    write_queue_nums: i32,
    cluster_name: &str,
    broker_name: &str,
) -> Result<(), AdminRefused> {
    validate_topic_name(topic)?;
    if is_system_topic(topic, cluster_name, broker_name) {
        return Err(AdminRefused::SystemTopic(topic.to_owned()));
    }
    if read_queue_nums <= 0 || write_queue_nums <= 0 {
        return Err(AdminRefused::QueueNums {
            read: read_queue_nums,
            write: write_queue_nums,
        });
    }
    Ok(())
}

/// DELETE_TOPIC_IN_BROKER: anything but a system topic.
pub fn check_topic_delete(
    topic: &str,
    cluster_name: &str,
    broker_name: &str,
) -> Result<(), AdminRefused> {
    if is_system_topic(topic, cluster_name, broker_name) {
        return Err(AdminRefused::SystemTopic(topic.to_owned()));
    }
    Ok(())
}

/// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP's body: a `SubscriptionGroupConfig` with a name.
pub fn parse_group(body: &[u8]) -> Result<SubscriptionGroupConfig, AdminRefused> {
    let config: SubscriptionGroupConfig =
        serde_json::from_slice(body).map_err(|e| AdminRefused::GroupBody(e.to_string()))?;
    if config.group_name.is_empty() {
        return Err(AdminRefused::GroupNameBlank);
    }
    Ok(config)
}

/// What an UPDATE_BROKER_CONFIG request changes: the configuration with the new values applied,
/// and each changed key with its value as the key tables write it back.
#[derive(Debug, Clone)]
pub struct ConfigUpdate {
    pub next: BrokerConfig,
    pub values: BTreeMap<String, String>,
}

/// UPDATE_BROKER_CONFIG: every key must be one that takes effect while the broker runs
/// ([`crate::live_config::RUNTIME_KEYS`]); others are refused together, by name, so a tool
/// never believes a change it did not get. Values are read by the same key tables as
/// `broker.conf` (a bad value names the key and what it expects); `namesrvAddr` must also name
/// at least one name server. All or nothing. `None`: the request changes nothing.
///
/// The update starts from `start` (the configuration read at start) with `changed` (the keys
/// changed since, [`crate::live_config::LiveConfig::changed`]) applied, so `next` keeps what
/// earlier updates changed: the caller applies all of `next`'s runtime values.
pub fn config_update(
    props: &BTreeMap<String, String>,
    start: &BrokerConfig,
    changed: &BTreeMap<String, String>,
) -> Result<Option<ConfigUpdate>, AdminRefused> {
    let unchangeable: Vec<String> = props
        .keys()
        .filter(|k| !crate::live_config::RUNTIME_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !unchangeable.is_empty() {
        return Err(AdminRefused::NotChangeable(unchangeable));
    }
    if props.is_empty() {
        return Ok(None);
    }
    let current = with_values(start.clone(), changed)?;
    let next = with_values(current.clone(), props)?;
    if props.contains_key("namesrvAddr") && next.namesrv_addrs.is_empty() {
        return Err(AdminRefused::NoNameServers {
            kept: current.namesrv_addrs.join(";"),
        });
    }
    let shown: BTreeMap<&str, String> = next.shown().into_iter().collect();
    let values = props
        .keys()
        .map(|key| {
            let value = shown.get(key.as_str()).cloned().unwrap_or_default();
            (key.clone(), value)
        })
        .collect();
    Ok(Some(ConfigUpdate { next, values }))
}

/// `config` with each of `values` read by the key tables.
fn with_values(
    mut config: BrokerConfig,
    values: &BTreeMap<String, String>,
) -> Result<BrokerConfig, AdminRefused> {
    for (key, value) in values {
        config
            .apply(key, value.trim())
            .map_err(|error| AdminRefused::BadValue(error.to_string()))?;
    }
    Ok(config)
}

/// CLEAN_UNUSED_TOPIC: the topics whose consume queues go: those with queues on disk that the
/// broker no longer has (Apache's rule), except the schedule and transaction-op topics and LMQ
/// queues, as in Apache, and, beyond Apache, the retry and dead-letter topics of groups the
/// broker still has (a group's retry topic may be missing from the topic table while its
/// consumers still need the queue).
pub fn unused_topics(
    with_queues: &[String],
    has_topic: impl Fn(&str) -> bool,
    has_group: impl Fn(&str) -> bool,
) -> Vec<&str> {
    with_queues
        .iter()
        .map(String::as_str)
        .filter(|topic| !has_topic(topic))
        .filter(|topic| *topic != topics::SCHEDULE_TOPIC && *topic != topics::TRANS_OP_HALF_TOPIC)
        .filter(|topic| !topic.starts_with("%LMQ%"))
        .filter(|topic| {
            let group = topic
                .strip_prefix(topics::RETRY_GROUP_TOPIC_PREFIX)
                .or_else(|| topic.strip_prefix(topics::DLQ_GROUP_TOPIC_PREFIX));
            !group.is_some_and(&has_group)
        })
        .collect()
}

/// The topics GET_CONSUME_STATS reports for a group: the one asked for, else every topic the
/// group committed offsets on or subscribes to, sorted, once each.
pub fn consume_stats_topics(
    asked: Option<&str>,
    committed: Vec<String>,
    subscribed: impl IntoIterator<Item = String>,
) -> Vec<String> {
    if let Some(topic) = asked.filter(|t| !t.is_empty()) {
        return vec![topic.to_owned()];
    }
    let mut topics = committed;
    topics.extend(subscribed);
    topics.sort();
    topics.dedup();
    topics
}

/// QUERY_CORRECTION_OFFSET: per queue, the least offset committed by the groups not named in
/// `filter_groups` (comma-separated; offsets below the queue's minimum ignored), replaced by
/// `i64::MAX` where it is ahead of `compare`'s. Apache removes the filter groups' offsets from
/// its table while computing this; here they are only left out.
pub fn correction_offsets(
    offsets_by_group: &[(String, BTreeMap<i32, i64>)],
    filter_groups: &str,
    queue_min_offset: impl Fn(i32) -> i64,
    compare: &BTreeMap<i32, i64>,
) -> BTreeMap<i32, i64> {
    let filtered: Vec<&str> = filter_groups
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    let mut least: BTreeMap<i32, i64> = BTreeMap::new();
    for (group, offsets) in offsets_by_group {
        if filtered.contains(&group.as_str()) {
            continue;
        }
        for (&queue_id, &offset) in offsets {
            if offset >= queue_min_offset(queue_id) {
                let entry = least.entry(queue_id).or_insert(offset);
                *entry = (*entry).min(offset);
            }
        }
    }
    for (queue_id, compare_offset) in compare {
        if let Some(offset) = least.get_mut(queue_id)
            && *offset > *compare_offset
        {
            *offset = i64::MAX;
        }
    }
    least
}

/// CLONE_GROUP_OFFSET and GET_BROKER_CONSUME_STATS skip a topic an online group does not
/// subscribe to (unless the clone is `offline`); a group with no online member keeps all.
pub fn group_covers_topic(
    offline: bool,
    online_subscriptions: Option<
        &BTreeMap<String, rmq_protocol::command::heart_beat::SubscriptionData>,
    >,
    topic: &str,
) -> bool {
    offline || online_subscriptions.is_none_or(|subs| subs.is_empty() || subs.contains_key(topic))
}

/// How long the next message of a queue has waited for the group: `now` less the store time of
/// the message at the group's offset; 0 when the group is at the end.
pub fn consume_delay_ms(now_ms: i64, next_store_time: Option<i64>) -> i64 {
    next_store_time.map_or(0, |t| (now_ms - t).max(0))
}

/// A byte count as Apache's `MixAll.humanReadableByteCount(bytes, false)` writes it
/// (`512 B`, `1.5 KiB`, `20.0 GiB`).
pub fn human_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let exp = ((bytes as f64).ln() / 1024f64.ln()) as i32;
    let unit = b"KMGTPE"[(exp as usize - 1).min(5)] as char;
    format!("{:.1} {unit}iB", bytes as f64 / 1024f64.powi(exp))
}

/// `runtime` of GET_BROKER_RUNTIME_INFO, as Apache writes it.
pub fn uptime_text(uptime_s: i64) -> String {
    format!(
        "[ {} days, {} hours, {} minutes, {} seconds ]",
        uptime_s / 86400,
        uptime_s / 3600 % 24,
        uptime_s / 60 % 60,
        uptime_s % 60
    )
}

#[cfg(test)]
mod tests;
