//! Settings and shared state of the messaging features: retry/DLQ, delay levels, transactions,
//! ordered consumption, SQL92 filters and the trace topic.
//!
//! `messageDelayLevel` belongs to the store (dispatch writes delivery times with it); every other
//! key of these features is read here, with Apache's names and defaults.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rmq_protocol::body::perm;
use rmq_protocol::conf::{self, Key, ValueError};
use rmq_protocol::conf_key;
use rmq_store::metadata::TopicConfig;
use tracing::warn;

use crate::rebalance_lock::RebalanceLocks;
use crate::schedule::DelayOffsets;
use crate::topics::Topics;

/// Apache's default trace topic (`TopicValidator.RMQ_SYS_TRACE_TOPIC`).
pub const DEFAULT_TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";

/// The keys of the messaging features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagingConfig {
    /// `transactionTimeOut`: a half message younger than this is not checked yet.
    pub transaction_timeout: Duration,
    /// `transactionCheckMax`: checks of one half message before it is discarded.
    pub transaction_check_max: i32,
    /// `transactionCheckInterval`: period of the check-back service.
    pub transaction_check_interval: Duration,
    /// `rejectTransactionMessage`.
    pub reject_transaction_message: bool,
    /// `enablePropertyFilter`: SQL92 subscriptions are accepted.
    pub enable_property_filter: bool,
    /// `traceTopicEnable`: create the trace topic at start.
    pub trace_topic_enable: bool,
    /// `msgTraceTopicName`.
    pub msg_trace_topic_name: String,
    /// `rebalanceLockMaxLiveTime` (Apache: system property
    /// `rocketmq.broker.rebalance.lockMaxLiveTime`): a queue lock not renewed for this long is free.
    pub rebalance_lock_max_live_time: Duration,
    /// `flushDelayOffsetInterval`: how often delay progress is written to `delayOffset.json`.
    pub flush_delay_offset_interval: Duration,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        MessagingConfig {
            transaction_timeout: Duration::from_millis(6000),
            transaction_check_max: 15,
            transaction_check_interval: Duration::from_millis(60_000),
            reject_transaction_message: false,
            enable_property_filter: false,
            trace_topic_enable: false,
            msg_trace_topic_name: DEFAULT_TRACE_TOPIC.into(),
            rebalance_lock_max_live_time: Duration::from_millis(60_000),
            flush_delay_offset_interval: Duration::from_millis(10_000),
        }
    }
}

impl MessagingConfig {
    /// Applies one key; `Ok(false)` when the key is not one of these.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<bool, ValueError> {
        conf::apply(KEYS, self, key, value)
    }
}

/// The keys of the messaging features.
pub const KEYS: &[Key<MessagingConfig>] = &[
    conf_key!("transactionTimeOut": transaction_timeout = millis(0)),
    conf_key!("transactionCheckMax": transaction_check_max = number(0, i32::MAX)),
    conf_key!("transactionCheckInterval": transaction_check_interval = millis(0)),
    conf_key!("rejectTransactionMessage": reject_transaction_message = value),
    conf_key!("enablePropertyFilter": enable_property_filter = value),
    conf_key!("traceTopicEnable": trace_topic_enable = value),
    conf_key!("msgTraceTopicName": msg_trace_topic_name = value),
    conf_key!("rebalanceLockMaxLiveTime" | "rocketmq.broker.rebalance.lockMaxLiveTime":
        rebalance_lock_max_live_time = millis(0)),
    conf_key!("flushDelayOffsetInterval": flush_delay_offset_interval = millis(0)),
];

/// Adds the topics these features own at start: the trace topic when `traceTopicEnable`
/// (1 queue, read and write, as Apache's `TopicConfigManager`).
pub fn create_system_topics(topics: &Topics, config: &MessagingConfig) {
    if !config.trace_topic_enable || topics.get(&config.msg_trace_topic_name).is_some() {
        return;
    }
    let topic = TopicConfig {
        topic_name: config.msg_trace_topic_name.clone(),
        read_queue_nums: 1,
        write_queue_nums: 1,
        perm: perm::READ | perm::WRITE,
        ..TopicConfig::default()
    };
    if let Err(error) = topics.upsert(topic) {
        warn!(topic = %config.msg_trace_topic_name, %error, "trace topic could not be persisted");
    }
}

/// Runtime state of the messaging features, shared by processors and services.
#[derive(Debug, Default)]
pub struct Messaging {
    /// Delivery progress of each delay level.
    pub delay_offsets: DelayOffsets,
    locks: Mutex<RebalanceLocks>,
    /// Serializes the transaction check pass with END_TRANSACTION's op records, so a check never
    /// reads a half queue while an op for it is half written.
    pub transaction_lock: tokio::sync::Mutex<()>,
    /// Transactions committed or rolled back in this run.
    pub resolved: crate::transaction::Resolved,
}

impl Messaging {
    /// The queue locks of orderly consumers.
    pub fn locks(&self) -> MutexGuard<'_, RebalanceLocks> {
        self.locks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_apaches_and_keys_parse_or_name_themselves() {
        let mut c = MessagingConfig::default();
        assert_eq!(c.transaction_check_max, 15);
        assert_eq!(c.transaction_check_interval, Duration::from_secs(60));
        assert!(!c.enable_property_filter);
        assert!(c.apply("transactionCheckInterval", "500").unwrap());
        assert_eq!(c.transaction_check_interval, Duration::from_millis(500));
        assert!(c.apply("enablePropertyFilter", "true").unwrap());
        assert!(c.enable_property_filter);
        assert!(!c.apply("brokerName", "b").unwrap());
        let err = c.apply("transactionCheckMax", "-1").unwrap_err();
        assert!(err.to_string().contains("transactionCheckMax"));
        assert!(c.apply("traceTopicEnable", "yes").is_err());
    }
}
