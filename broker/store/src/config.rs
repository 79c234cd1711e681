//! Store settings, with Apache's `broker.conf` key names and defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rmq_protocol::conf::{self, Key, Value, ValueError};
use rmq_protocol::conf_key;

/// How an append is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushDiskType {
    /// An acknowledgement means the record is in the page cache; a background flush writes it to
    /// disk every `flushIntervalCommitLog` ms. A machine crash can lose the last interval.
    AsyncFlush,
    /// An acknowledgement means an fdatasync covered the record's last byte (group commit).
    SyncFlush,
}

impl Value for FlushDiskType {
    const EXPECTED: &'static str = "ASYNC_FLUSH or SYNC_FLUSH";
    fn parse_value(text: &str) -> Option<FlushDiskType> {
        match text {
            "ASYNC_FLUSH" => Some(FlushDiskType::AsyncFlush),
            "SYNC_FLUSH" => Some(FlushDiskType::SyncFlush),
            _ => None,
        }
    }
    fn write_value(&self) -> String {
        match self {
            FlushDiskType::AsyncFlush => "ASYNC_FLUSH",
            FlushDiskType::SyncFlush => "SYNC_FLUSH",
        }
        .to_owned()
    }
}

/// `recoverCorruptCommitLog`: what recovery does when written data follows an invalid record
/// (see [`crate::store::tail`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CorruptTailPolicy {
    /// `refuse` (default): the store does not open; the error names the file, offset and reason,
    /// and nothing is deleted.
    #[default]
    Refuse,
    /// `truncate`: the bytes from the invalid record to the end of written data are copied to
    /// `{storePathRootDir}/quarantine/`, then the log is cut at the invalid record.
    Quarantine,
}

impl Value for CorruptTailPolicy {
    const EXPECTED: &'static str = "refuse or truncate";
    fn parse_value(text: &str) -> Option<CorruptTailPolicy> {
        match text {
            "refuse" => Some(CorruptTailPolicy::Refuse),
            "truncate" => Some(CorruptTailPolicy::Quarantine),
            _ => None,
        }
    }
    fn write_value(&self) -> String {
        match self {
            CorruptTailPolicy::Refuse => "refuse",
            CorruptTailPolicy::Quarantine => "truncate",
        }
        .to_owned()
    }
}

/// A store key's value does not parse or is outside its bounds.
pub type ConfigError = ValueError;

/// Settings of a [`crate::MessageStore`].
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `storePathRootDir`.
    pub root_dir: PathBuf,
    /// `storePathCommitLog`; `{root}/commitlog` when unset.
    pub commit_log_dir: Option<PathBuf>,
    /// `mappedFileSizeCommitLog` (old spelling `mapedFileSizeCommitLog`), default 1 GiB.
    pub commit_log_file_size: usize,
    /// `mappedFileSizeConsumeQueue`, default 300,000 entries × 20 bytes.
    pub consume_queue_file_size: usize,
    pub flush_disk_type: FlushDiskType,
    /// `flushIntervalCommitLog`, default 500 ms.
    pub flush_interval_commit_log: Duration,
    /// `flushCommitLogLeastPages`, default 4 pages of 4 KiB.
    pub flush_commit_log_least_pages: usize,
    /// `flushCommitLogThoroughInterval`, default 10 s.
    pub flush_commit_log_thorough_interval: Duration,
    /// `syncFlushTimeout`, default 5 s.
    pub sync_flush_timeout: Duration,
    /// `flushIntervalConsumeQueue`, default 1 s.
    pub flush_interval_consume_queue: Duration,
    /// `flushConsumeQueueThoroughInterval`, default 60 s.
    pub flush_consume_queue_thorough_interval: Duration,
    /// `maxMessageSize`, default 4 MiB.
    pub max_message_size: usize,
    /// `messageIndexEnable`, default true.
    pub message_index_enable: bool,
    /// `maxHashSlotNum`, default 5,000,000.
    pub max_hash_slot_num: u32,
    /// `maxIndexNum`, default 20,000,000.
    pub max_index_num: u32,
    /// `checkCRCOnRecover`, default true.
    pub check_crc_on_recover: bool,
    /// `recoverCorruptCommitLog` (not an Apache key), default `refuse`.
    pub recover_corrupt_commit_log: CorruptTailPolicy,
    /// `deleteWhen`: hours of the day, `;`-separated, default "04".
    pub delete_when: String,
    /// `fileReservedTime` in hours, default 72.
    pub file_reserved_time_hours: u64,
    /// `diskMaxUsedSpaceRatio` in percent (clamped 10..=95), default 75.
    pub disk_max_used_space_ratio: u32,
    /// `cleanResourceInterval`, default 10 s.
    pub clean_resource_interval: Duration,
    /// `deleteFileBatchMax`, default 10.
    pub delete_file_batch_max: usize,
    /// `diskSpaceWarningLevelRatio`: above it writes are refused, default 0.90.
    pub disk_space_warning_level_ratio: f64,
    /// `diskSpaceCleanForciblyRatio`: above it files are deleted regardless of age, default 0.85.
    pub disk_space_clean_forcibly_ratio: f64,
    /// Address written as STOREHOST and used in offset message ids (`brokerIP1:listenPort`).
    pub store_host: SocketAddr,
    /// `messageDelayLevel`: dispatch writes delivery times of delayed messages with it.
    pub delay_levels: crate::delay_level::DelayLevels,
    /// A slave's store (`brokerRole=SLAVE`): producer appends are refused with
    /// [`crate::error::PutError::ReadOnly`]; data arrives through [`crate::store::ReplicaWriter`].
    pub replica: bool,
}

pub const DEFAULT_COMMIT_LOG_FILE_SIZE: usize = 1024 * 1024 * 1024;
pub const CQ_ENTRY_SIZE: usize = 20;
pub const DEFAULT_CONSUME_QUEUE_FILE_SIZE: usize = 300_000 * CQ_ENTRY_SIZE;

impl StoreConfig {
    /// Apache's defaults, rooted at `root_dir`.
    pub fn new(root_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            root_dir: root_dir.into(),
            commit_log_dir: None,
            commit_log_file_size: DEFAULT_COMMIT_LOG_FILE_SIZE,
            consume_queue_file_size: DEFAULT_CONSUME_QUEUE_FILE_SIZE,
            flush_disk_type: FlushDiskType::AsyncFlush,
            flush_interval_commit_log: Duration::from_millis(500),
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval: Duration::from_secs(10),
            sync_flush_timeout: Duration::from_secs(5),
            flush_interval_consume_queue: Duration::from_secs(1),
            flush_consume_queue_thorough_interval: Duration::from_secs(60),
            max_message_size: 4 * 1024 * 1024,
            message_index_enable: true,
            max_hash_slot_num: 5_000_000,
            max_index_num: 20_000_000,
            check_crc_on_recover: true,
            recover_corrupt_commit_log: CorruptTailPolicy::Refuse,
            delete_when: "04".into(),
            file_reserved_time_hours: 72,
            disk_max_used_space_ratio: 75,
            clean_resource_interval: Duration::from_secs(10),
            delete_file_batch_max: 10,
            disk_space_warning_level_ratio: 0.90,
            disk_space_clean_forcibly_ratio: 0.85,
            store_host: SocketAddr::from(([127, 0, 0, 1], 10911)),
            delay_levels: crate::delay_level::DelayLevels::default(),
            replica: false,
        }
    }

    pub fn commit_log_dir(&self) -> PathBuf {
        self.commit_log_dir
            .clone()
            .unwrap_or_else(|| self.root_dir.join("commitlog"))
    }
    pub fn consume_queue_dir(&self) -> PathBuf {
        self.root_dir.join("consumequeue")
    }
    pub fn index_dir(&self) -> PathBuf {
        self.root_dir.join("index")
    }
    pub fn checkpoint_path(&self) -> PathBuf {
        self.root_dir.join("checkpoint")
    }
    pub fn abort_path(&self) -> PathBuf {
        self.root_dir.join("abort")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.root_dir.join("lock")
    }
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root_dir.join("quarantine")
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root_dir.join("config")
    }

    /// Applies one key; `Ok(false)` when it is not a store key.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        conf::apply(KEYS, self, key, value)
    }
}

/// The store's keys of `broker.conf`, with Apache's names (and old spellings) and bounds.
pub const KEYS: &[Key<StoreConfig>] = &[
    conf_key!("storePathRootDir": root_dir = value),
    Key {
        name: "storePathCommitLog",
        aliases: &[],
        set: |c, v| {
            c.commit_log_dir = Some(conf::value(v)?);
            Ok(())
        },
        get: |c| c.commit_log_dir().display().to_string(),
    },
    conf_key!("mappedFileSizeCommitLog" | "mapedFileSizeCommitLog":
        commit_log_file_size = number(4096, i32::MAX as usize)),
    Key {
        name: "mappedFileSizeConsumeQueue",
        aliases: &["mapedFileSizeConsumeQueue"],
        set: |c, v| {
            let size = conf::number(v, CQ_ENTRY_SIZE, i32::MAX as usize)?;
            // Apache rounds to a whole number of entries.
            c.consume_queue_file_size = size / CQ_ENTRY_SIZE * CQ_ENTRY_SIZE;
            Ok(())
        },
        get: |c| c.consume_queue_file_size.to_string(),
    },
    conf_key!("flushDiskType": flush_disk_type = value),
    conf_key!("flushIntervalCommitLog": flush_interval_commit_log = millis(0)),
    conf_key!("flushCommitLogLeastPages": flush_commit_log_least_pages = number(0, 1 << 20)),
    conf_key!("flushCommitLogThoroughInterval": flush_commit_log_thorough_interval = millis(0)),
    conf_key!("syncFlushTimeout": sync_flush_timeout = millis(0)),
    conf_key!("flushIntervalConsumeQueue": flush_interval_consume_queue = millis(0)),
    conf_key!("flushConsumeQueueThoroughInterval": flush_consume_queue_thorough_interval = millis(0)),
    conf_key!("maxMessageSize": max_message_size = number(1, 1 << 30)),
    conf_key!("messageIndexEnable": message_index_enable = value),
    conf_key!("maxHashSlotNum": max_hash_slot_num = number(1, 50_000_000)),
    conf_key!("maxIndexNum": max_index_num = number(1, 100_000_000)),
    conf_key!("checkCRCOnRecover": check_crc_on_recover = value),
    conf_key!("recoverCorruptCommitLog": recover_corrupt_commit_log = value),
    conf_key!("deleteWhen": delete_when = with(delete_when, String::clone)),
    conf_key!("fileReservedTime": file_reserved_time_hours = number(0, 24 * 365 * 100)),
    conf_key!("diskMaxUsedSpaceRatio": disk_max_used_space_ratio = with(
        |v: &str| conf::number(v, 0u32, 100).map(|ratio| ratio.clamp(10, 95)),
        u32::to_string
    )),
    conf_key!("cleanResourceInterval": clean_resource_interval = millis(0)),
    conf_key!("deleteFileBatchMax": delete_file_batch_max = number(1, 10_000)),
    conf_key!("messageDelayLevel": delay_levels = value),
];

/// `deleteWhen`: hours of the day (0-23) separated by `;`.
fn delete_when(v: &str) -> Result<String, &'static str> {
    for hour in v.split(';').filter(|h| !h.is_empty()) {
        conf::number::<u32>(hour, 0, 23).map_err(|_| "hours 0-23 separated by ';'")?;
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_the_commit_log_file_size_are_accepted() {
        let mut c = StoreConfig::new("/tmp/x");
        assert_eq!(c.commit_log_file_size, 1 << 30);
        assert!(c.apply("mapedFileSizeCommitLog", "1048576").unwrap());
        assert_eq!(c.commit_log_file_size, 1 << 20);
        assert!(c.apply("mappedFileSizeCommitLog", "2097152").unwrap());
        assert_eq!(c.commit_log_file_size, 2 << 20);
    }

    #[test]
    fn invalid_values_name_the_key_and_unknown_keys_are_not_ours() {
        let mut c = StoreConfig::new("/tmp/x");
        let err = c.apply("flushDiskType", "SOMETIMES").unwrap_err();
        assert!(err.to_string().contains("flushDiskType"));
        assert!(c.apply("deleteWhen", "04;25").is_err());
        assert!(c.apply("mappedFileSizeCommitLog", "-1").is_err());
        assert!(!c.apply("brokerName", "b").unwrap());
    }

    #[test]
    fn every_store_key_is_shown_as_it_reads_back() {
        let mut c = StoreConfig::new("/data/store");
        for (key, value) in [
            ("flushDiskType", "SYNC_FLUSH"),
            ("recoverCorruptCommitLog", "truncate"),
            ("messageDelayLevel", "1s 90s 2h 1d"),
            ("deleteWhen", "03;15"),
            ("diskMaxUsedSpaceRatio", "99"),
            ("storePathCommitLog", "/fast/commitlog"),
        ] {
            assert!(c.apply(key, value).unwrap(), "{key}");
        }
        assert_eq!(c.disk_max_used_space_ratio, 95, "clamped as Apache does");
        let shown = conf::show(KEYS, &c);
        assert!(shown.contains(&("messageDelayLevel", "1s 90s 2h 1d".to_owned())));
        assert!(shown.contains(&("flushDiskType", "SYNC_FLUSH".to_owned())));
        let mut again = StoreConfig::new("/elsewhere");
        for (key, value) in &shown {
            again.apply(key, value).unwrap();
        }
        assert_eq!(conf::show(KEYS, &again), shown);
    }

    #[test]
    fn consume_queue_file_size_is_rounded_to_whole_entries() {
        let mut c = StoreConfig::new("/tmp/x");
        c.apply("mappedFileSizeConsumeQueue", "1001").unwrap();
        assert_eq!(c.consume_queue_file_size, 1000);
    }
}
