//! Replication keys of `broker.conf`, with Apache 4.9's names and defaults.

use std::time::Duration;

use rmq_protocol::conf::{self, Key, ValueError};
use rmq_protocol::conf_key;

/// Replication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaConfig {
    /// `haMasterAddress`: the master's `host:haListenPort` for a slave; when unset the slave
    /// uses the `haServerAddr` the name server returns at registration.
    pub master_address: Option<String>,
    /// `haSendHeartbeatInterval`, default 5 s.
    pub heartbeat_interval: Duration,
    /// `haHousekeepingInterval`, default 20 s: a peer silent this long is dropped.
    pub housekeeping_interval: Duration,
    /// `haTransferBatchSize`, default 32 KiB.
    pub transfer_batch_size: usize,
    /// `haSlaveFallbehindMax`, default 256 MiB.
    pub slave_fall_behind_max: u64,
    /// `slaveTimeout`, default 3 s (4.9; up to 4.8 Apache waited `syncFlushTimeout`).
    pub slave_timeout: Duration,
    /// `slaveReadEnable`, default false: whether pulls may be redirected to a slave.
    pub slave_read_enable: bool,
    /// `accessMessageInMemoryMaxRatio` in percent, default 40: a consumer further behind than
    /// this share of RAM is sent to a slave (with `slaveReadEnable`).
    pub access_message_in_memory_max_ratio: u32,
}

impl Default for HaConfig {
    fn default() -> Self {
        HaConfig {
            master_address: None,
            heartbeat_interval: Duration::from_millis(5000),
            housekeeping_interval: Duration::from_millis(20_000),
            transfer_batch_size: 32 * 1024,
            slave_fall_behind_max: 256 * 1024 * 1024,
            slave_timeout: Duration::from_millis(3000),
            slave_read_enable: false,
            access_message_in_memory_max_ratio: 40,
        }
    }
}

impl HaConfig {
    /// Applies one key; `Ok(false)` for keys that are not about replication.
    pub fn apply(&mut self, key: &str, v: &str) -> Result<bool, ValueError> {
        conf::apply(KEYS, self, key, v)
    }
}

/// The replication keys of `broker.conf`.
pub const KEYS: &[Key<HaConfig>] = &[
    // Apache ignores addresses shorter than 6 characters.
    conf_key!("haMasterAddress": master_address = with(
        |v: &str| Ok(Some(v.to_owned()).filter(|a| a.len() >= 6)),
        |a: &Option<String>| a.clone().unwrap_or_default()
    )),
    conf_key!("haSendHeartbeatInterval": heartbeat_interval = millis(1)),
    conf_key!("haHousekeepingInterval": housekeeping_interval = millis(1)),
    conf_key!("haTransferBatchSize": transfer_batch_size = number(1, rmq_store::ha::frame::MAX_BODY_LEN)),
    conf_key!("haSlaveFallbehindMax": slave_fall_behind_max = number(1, u64::MAX)),
    conf_key!("slaveTimeout": slave_timeout = millis(1)),
    conf_key!("slaveReadEnable": slave_read_enable = value),
    conf_key!("accessMessageInMemoryMaxRatio": access_message_in_memory_max_ratio = number(0, 100)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_keys_take_apache_names_and_reject_bad_values_by_name() {
        let mut c = HaConfig::default();
        assert!(c.apply("haMasterAddress", "10.0.0.1:10912").unwrap());
        assert_eq!(c.master_address.as_deref(), Some("10.0.0.1:10912"));
        assert!(c.apply("haMasterAddress", "").unwrap());
        assert_eq!(c.master_address, None, "too short counts as unset");
        assert!(c.apply("slaveTimeout", "1500").unwrap());
        assert_eq!(c.slave_timeout, Duration::from_millis(1500));
        assert!(c.apply("haSlaveFallbehindMax", "1024").unwrap());
        assert!(c.apply("slaveReadEnable", "true").unwrap());
        assert!(!c.apply("brokerName", "b").unwrap());
        let err = c.apply("haTransferBatchSize", "0").unwrap_err();
        assert!(err.to_string().contains("haTransferBatchSize"), "{err}");
        assert!(c.apply("slaveReadEnable", "yes").is_err());
    }
}
