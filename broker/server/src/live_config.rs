//! The `broker.conf` keys that change while the broker runs (UPDATE_BROKER_CONFIG): the request
//! paths read them from atomics here (the store reads its retention keys from
//! [`rmq_store::retention::Settings`]), and the keys changed since start are kept with their
//! values so GET_BROKER_CONFIG shows them and the config file can be rewritten.
//!
//! `namesrvAddr` is one of them: registration ([`crate::register`]), unregistration at shutdown
//! and readiness read the list held here, and a change wakes the registration loop, which at
//! once unregisters from the name servers left out and registers with the new list. (Apache 5
//! re-reads `namesrvAddr` from its configuration every 2 minutes; here it applies at once.)
//!
//! Every other key is read once at start (ports, paths, roles, flush mode, sizes...), so a
//! change at run time would be a lie: UPDATE_BROKER_CONFIG refuses it by name.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::config::BrokerConfig;

/// Keys UPDATE_BROKER_CONFIG accepts, each read afresh by what it governs.
pub const RUNTIME_KEYS: &[&str] = &[
    // Registered with the name servers at once; sends and pulls check it per request.
    "brokerPermission",
    // Pulls of a group the broker does not know.
    "autoCreateSubscriptionGroup",
    // Each pull's hold time.
    "longPollingEnable",
    "shortPollingTimeMills",
    // Each SEND_REPLY_MESSAGE.
    "storeReplyMessageEnable",
    // Each send's answer.
    "traceOn",
    // The store's next retention pass (and the transaction check's discard age).
    "fileReservedTime",
    "deleteWhen",
    "diskMaxUsedSpaceRatio",
    // Each send (broker and store checks).
    "maxMessageSize",
    // The transaction check's next pass.
    "transactionTimeOut",
    "transactionCheckMax",
    "transactionCheckInterval",
    // The registration loop, woken at once: unregisters from the name servers left out,
    // registers with the list.
    "namesrvAddr",
];

/// The runtime-changeable values the request paths read.
#[derive(Debug)]
pub struct LiveConfig {
    long_polling_enable: AtomicBool,
    short_polling_time_ms: AtomicU64,
    store_reply_message_enable: AtomicBool,
    trace_on: AtomicBool,
    max_message_size: AtomicUsize,
    transaction_timeout_ms: AtomicU64,
    transaction_check_max: AtomicI32,
    transaction_check_interval_ms: AtomicU64,
    /// `namesrvAddr`: a list, so behind a lock (held only to copy or replace it).
    namesrv_addrs: Mutex<Vec<String>>,
    /// Keys changed since start, with their values as the key tables write them.
    changed: Mutex<BTreeMap<String, String>>,
    /// Bumped by every change (GET_BROKER_CONFIG's data version).
    version: AtomicU64,
}

impl LiveConfig {
    /// The values `config` starts with.
    pub fn new(config: &BrokerConfig) -> LiveConfig {
        LiveConfig {
            long_polling_enable: AtomicBool::new(config.long_polling_enable),
            short_polling_time_ms: AtomicU64::new(config.short_polling_time.as_millis() as u64),
            store_reply_message_enable: AtomicBool::new(config.store_reply_message_enable),
            trace_on: AtomicBool::new(config.trace_on),
            max_message_size: AtomicUsize::new(config.store.max_message_size),
            transaction_timeout_ms: AtomicU64::new(millis(config.messaging.transaction_timeout)),
            transaction_check_max: AtomicI32::new(config.messaging.transaction_check_max),
            transaction_check_interval_ms: AtomicU64::new(millis(
                config.messaging.transaction_check_interval,
            )),
            namesrv_addrs: Mutex::new(config.namesrv_addrs.clone()),
            changed: Mutex::default(),
            version: AtomicU64::new(0),
        }
    }

    pub fn long_polling_enable(&self) -> bool {
        self.long_polling_enable.load(Ordering::Relaxed)
    }

    pub fn short_polling_time(&self) -> Duration {
        Duration::from_millis(self.short_polling_time_ms.load(Ordering::Relaxed))
    }

    pub fn store_reply_message_enable(&self) -> bool {
        self.store_reply_message_enable.load(Ordering::Relaxed)
    }

    pub fn trace_on(&self) -> bool {
        self.trace_on.load(Ordering::Relaxed)
    }

    /// `maxMessageSize`: the largest body (and properties) a send may carry.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size.load(Ordering::Relaxed)
    }

    /// `transactionTimeOut`: how old a half message must be before it is checked.
    pub fn transaction_timeout(&self) -> Duration {
        Duration::from_millis(self.transaction_timeout_ms.load(Ordering::Relaxed))
    }

    /// `transactionCheckMax`: checks before a half message is discarded.
    pub fn transaction_check_max(&self) -> i32 {
        self.transaction_check_max.load(Ordering::Relaxed)
    }

    /// `transactionCheckInterval`: time between check passes.
    pub fn transaction_check_interval(&self) -> Duration {
        Duration::from_millis(self.transaction_check_interval_ms.load(Ordering::Relaxed))
    }

    /// `namesrvAddr`: the name servers to register with now.
    pub fn namesrv_addrs(&self) -> Vec<String> {
        self.namesrv_addrs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes this module's values from `next` and records `values` as changed.
    pub fn apply(&self, next: &BrokerConfig, values: &BTreeMap<String, String>) {
        self.long_polling_enable
            .store(next.long_polling_enable, Ordering::Relaxed);
        self.short_polling_time_ms.store(
            next.short_polling_time.as_millis() as u64,
            Ordering::Relaxed,
        );
        self.store_reply_message_enable
            .store(next.store_reply_message_enable, Ordering::Relaxed);
        self.trace_on.store(next.trace_on, Ordering::Relaxed);
        self.max_message_size
            .store(next.store.max_message_size, Ordering::Relaxed);
        self.transaction_timeout_ms.store(
            millis(next.messaging.transaction_timeout),
            Ordering::Relaxed,
        );
        self.transaction_check_max
            .store(next.messaging.transaction_check_max, Ordering::Relaxed);
        self.transaction_check_interval_ms.store(
            millis(next.messaging.transaction_check_interval),
            Ordering::Relaxed,
        );
        next.namesrv_addrs.clone_into(
            &mut self
                .namesrv_addrs
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        self.changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    /// Keys changed since start, with their values.
    pub fn changed(&self) -> BTreeMap<String, String> {
        self.changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many changes were applied since start.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `text` (a `broker.conf`) with each of `values` set: a key's last line is replaced in place
/// (comments and every other line kept), keys not in the file are appended.
pub fn rewrite_properties(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (key, value) in values {
        let line = rmq_protocol::body::properties::write([(key.as_str(), value.as_str())]);
        let line = line.trim_end_matches('\n').to_owned();
        let at = lines.iter().rposition(|l| key_of(l) == Some(key.as_str()));
        match at {
            Some(at) => lines[at] = line,
            None => lines.push(line),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The key of a properties line, `None` for blanks and comments.
fn key_of(line: &str) -> Option<&str> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
        return None;
    }
    let end = line
        .find(|c: char| c == '=' || c == ':' || c.is_whitespace())
        .unwrap_or(line.len());
    Some(&line[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_key_is_a_broker_conf_key() {
        let shown: Vec<&str> = BrokerConfig::new()
            .shown()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for key in RUNTIME_KEYS {
            assert!(shown.contains(key), "{key}");
        }
    }

    #[test]
    fn applied_values_are_read_back_and_remembered_as_changed() {
        let live = LiveConfig::new(&BrokerConfig::new());
        assert!(live.long_polling_enable());
        let mut next = BrokerConfig::new();
        next.long_polling_enable = false;
        next.short_polling_time = Duration::from_millis(250);
        next.trace_on = false;
        next.store.max_message_size = 1024;
        next.messaging.transaction_check_interval = Duration::from_secs(5);
        next.namesrv_addrs = vec!["n1:9876".to_owned(), "n2:9876".to_owned()];
        let values = BTreeMap::from([("longPollingEnable".to_owned(), "false".to_owned())]);
        live.apply(&next, &values);
        assert!(!live.long_polling_enable());
        assert_eq!(live.short_polling_time(), Duration::from_millis(250));
        assert!(!live.trace_on());
        assert_eq!(live.max_message_size(), 1024);
        assert_eq!(live.transaction_check_interval(), Duration::from_secs(5));
        assert_eq!(live.namesrv_addrs(), ["n1:9876", "n2:9876"]);
        assert_eq!(live.changed(), values);
        assert_eq!(live.version(), 1);
    }

    #[test]
    fn a_rewritten_config_keeps_comments_and_other_keys_and_replaces_the_last_occurrence() {
        let text = "# my broker\nbrokerName=b\nfileReservedTime=72\n\nfileReservedTime = 24\nlistenPort=10911\n";
        let values = BTreeMap::from([
            ("fileReservedTime".to_owned(), "48".to_owned()),
            ("deleteWhen".to_owned(), "01;13".to_owned()),
        ]);
        assert_eq!(
            rewrite_properties(text, &values),
            "# my broker\nbrokerName=b\nfileReservedTime=72\n\nfileReservedTime=48\nlistenPort=10911\ndeleteWhen=01;13\n"
        );
    }
}
