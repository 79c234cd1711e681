//! The broker's topics (`config/topics.json`): system topics at start, creation by admin request,
//! auto-creation from `TBW102` on first send, retry topics for consumer groups, and the names
//! Apache accepts.
//!
//! Every change bumps the data version, persists the table (atomically, see
//! [`rmq_store::metadata`]) and wakes the name-server registration so routes follow at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rmq_protocol::body::perm;
use rmq_protocol::body::topic_config as wire;
use rmq_store::error::MetadataError;
use rmq_store::metadata::{DataVersion, MetadataFile, TopicConfig, TopicConfigTable};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::clock::Clock;

/// The topic clients name as `defaultTopic` to have topics created on first send.
pub const AUTO_CREATE_TOPIC: &str = "TBW102";
pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
pub const BENCHMARK_TOPIC: &str = "BenchmarkTest";
pub const OFFSET_MOVED_EVENT: &str = "OFFSET_MOVED_EVENT";
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
pub const TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
pub const TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
pub const TRANS_CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";

/// Longest topic name (`TopicValidator.TOPIC_MAX_LENGTH`).
pub const TOPIC_MAX_LENGTH: usize = 127;

/// Topics producers may not send to (`TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`).
const NOT_ALLOWED_SEND: &[&str] = &[
    SCHEDULE_TOPIC,
    TRANS_HALF_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
];

/// The topic table of one broker; cheap to share.
#[derive(Debug)]
pub struct Topics {
    table: RwLock<TopicConfigTable>,
    config_dir: PathBuf,
    changed: Arc<Notify>,
    /// Held from snapshot to rename: concurrent writers (auto-creation on several connections)
    /// share one temp file name, and a later snapshot must not be overwritten by an earlier one.
    persisting: std::sync::Mutex<()>,
    /// Stamps data versions.
    clock: Clock,
}

/// Why a topic name is refused, with Apache's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicNameError {
    #[error("The specified topic is blank.")]
    Blank,
    #[error(
        "The specified topic[{0}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
    )]
    IllegalCharacters(String),
    #[error("The specified topic is longer than topic max length {TOPIC_MAX_LENGTH}.")]
    TooLong,
}

/// Checks a topic name as `TopicValidator.validateTopic` does.
pub fn validate_topic_name(topic: &str) -> Result<(), TopicNameError> {
    if topic.trim().is_empty() {
        return Err(TopicNameError::Blank);
    }
    if !topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-'))
    {
        return Err(TopicNameError::IllegalCharacters(topic.to_owned()));
    }
    if topic.len() > TOPIC_MAX_LENGTH {
        return Err(TopicNameError::TooLong);
    }
    Ok(())
}

/// Whether producers are refused on this topic (system topics written by the broker itself).
pub fn is_not_allowed_send_topic(topic: &str) -> bool {
    NOT_ALLOWED_SEND.contains(&topic)
}

/// `%RETRY%<group>`.
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

impl Topics {
    /// Loads `topics.json` from `config_dir` and adds the system topics Apache creates at start.
    pub fn load(
        config_dir: PathBuf,
        cluster_name: &str,
        broker_name: &str,
        auto_create_topic_enable: bool,
        default_topic_queue_nums: i32,
        clock: Clock,
    ) -> Result<Topics, MetadataError> {
        let table = TopicConfigTable::load_from(&config_dir)?
            .map(|loaded| loaded.value)
            .unwrap_or_default();
        let topics = Topics {
            table: RwLock::new(table),
            config_dir,
            changed: Arc::new(Notify::new()),
            persisting: std::sync::Mutex::new(()),
            clock,
        };
        let rw = perm::READ | perm::WRITE;
        let mut system = vec![
            system_topic(SELF_TEST_TOPIC, 1, rw),
            system_topic(BENCHMARK_TOPIC, 1024, rw),
            system_topic(cluster_name, 16, rw),
            system_topic(broker_name, 1, rw),
            system_topic(OFFSET_MOVED_EVENT, 1, rw),
            system_topic(SCHEDULE_TOPIC, 18, rw),
            system_topic(&reply_topic(cluster_name), 1, rw),
        ];
        if auto_create_topic_enable {
            system.push(system_topic(
                AUTO_CREATE_TOPIC,
                default_topic_queue_nums,
                rw | perm::INHERIT,
            ));
        }
        {
            let mut table = topics.write();
            if !auto_create_topic_enable {
                table.topic_config_table.remove(AUTO_CREATE_TOPIC);
            }
            for config in system {
                table
                    .topic_config_table
                    .entry(config.topic_name.clone())
                    .or_insert(config);
            }
        }
        topics.persist()?;
        Ok(topics)
    }

    /// Woken after every change of the table.
    pub fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// The config of `topic`, if it exists.
    pub fn get(&self, topic: &str) -> Option<TopicConfig> {
        self.read().topic_config_table.get(topic).cloned()
    }

    /// Creates or replaces a topic (UPDATE_AND_CREATE_TOPIC).
    pub fn upsert(&self, config: TopicConfig) -> Result<(), MetadataError> {
        info!(topic = %config.topic_name, read = config.read_queue_nums, write = config.write_queue_nums, perm = config.perm, "topic created or updated");
        self.write()
            .topic_config_table
            .insert(config.topic_name.clone(), config);
        self.commit()
    }

    /// Deletes a topic; returns whether it existed.
    pub fn delete(&self, topic: &str) -> Result<bool, MetadataError> {
        let existed = self.write().topic_config_table.remove(topic).is_some();
        if existed {
            info!(%topic, "topic deleted");
            self.commit()?;
        }
        Ok(existed)
    }

    /// The topic's config, created from `default_topic` on first send when that topic allows it
    /// (`createTopicInSendMessageMethod`). `None` when it neither exists nor may be created.
    pub fn get_or_create_on_send(
        &self,
        topic: &str,
        default_topic: &str,
        client_queue_nums: i32,
    ) -> Result<Option<TopicConfig>, MetadataError> {
        if let Some(config) = self.get(topic) {
            return Ok(Some(config));
        }
        let created = {
            let mut table = self.write();
            if let Some(config) = table.topic_config_table.get(topic) {
                return Ok(Some(config.clone()));
            }
            let Some(default) = table.topic_config_table.get(default_topic) else {
                warn!(%topic, %default_topic, "default topic does not exist; topic not created");
                return Ok(None);
            };
            if !perm::is_inherited(default.perm) {
                warn!(%topic, %default_topic, perm = default.perm, "default topic has no inherit permission; topic not created");
                return Ok(None);
            }
            let queues = client_queue_nums.min(default.write_queue_nums).max(0);
            let config = TopicConfig {
                topic_name: topic.to_owned(),
                read_queue_nums: queues,
                write_queue_nums: queues,
                perm: default.perm & !perm::INHERIT,
                topic_sys_flag: 0,
                ..TopicConfig::default()
            };
            table
                .topic_config_table
                .insert(topic.to_owned(), config.clone());
            config
        };
        info!(%topic, %default_topic, queues = created.write_queue_nums, "topic auto-created on send");
        self.commit()?;
        Ok(Some(created))
    }

    /// The retry topic of a group, created with `queues` queues if missing.
    pub fn get_or_create_retry(
        &self,
        group: &str,
        queues: i32,
    ) -> Result<TopicConfig, MetadataError> {
        let topic = retry_topic(group);
        if let Some(config) = self.get(&topic) {
            return Ok(config);
        }
        let config = TopicConfig {
            topic_name: topic,
            read_queue_nums: queues,
            write_queue_nums: queues,
            perm: perm::READ | perm::WRITE,
            ..TopicConfig::default()
        };
        self.upsert(config.clone())?;
        Ok(config)
    }

    /// A snapshot of the whole table.
    pub fn snapshot(&self) -> TopicConfigTable {
        self.read().clone()
    }

    /// The table as name servers and admin tools read it (`TopicConfigSerializeWrapper`),
    /// with every topic's permission capped by the broker's own (`brokerPermission`).
    pub fn wire_snapshot(&self, broker_permission: i32) -> wire::TopicConfigSerializeWrapper {
        let table = self.read();
        let capped =
            !perm::is_writeable(broker_permission) || !perm::is_readable(broker_permission);
        wire::TopicConfigSerializeWrapper {
            data_version: table.data_version,
            topic_config_table: table
                .topic_config_table
                .iter()
                .map(|(name, config)| {
                    let mut out = config.clone();
                    if capped {
                        out.perm = broker_permission;
                    }
                    (name.clone(), out)
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    /// A slave takes its master's whole table when the data versions differ (Apache's
    /// `SlaveSynchronize.syncTopicConfig`); returns whether it did.
    pub fn replace_from_master(&self, table: TopicConfigTable) -> Result<bool, MetadataError> {
        {
            let mut current = self.write();
            if current.data_version == table.data_version {
                return Ok(false);
            }
            *current = table;
        }
        self.persist()?;
        self.changed.notify_one();
        Ok(true)
    }

    fn commit(&self) -> Result<(), MetadataError> {
        {
            let mut table = self.write();
            bump(&mut table.data_version, self.clock.now_ms());
        }
        let result = self.persist();
        self.changed.notify_one();
        result
    }

    fn persist(&self) -> Result<(), MetadataError> {
        let _one_writer = self
            .persisting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let snapshot = self.read().clone();
        snapshot.persist_to(&self.config_dir)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, TopicConfigTable> {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, TopicConfigTable> {
        self.table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Bumps a data version: counter + 1, timestamp `now_ms`.
pub fn bump(version: &mut DataVersion, now_ms: i64) {
    version.counter += 1;
    version.timestamp = now_ms;
}

/// The topic replies of request-reply go to (`{cluster}_REPLY_TOPIC`), created at start.
pub fn reply_topic(cluster_name: &str) -> String {
    format!("{cluster_name}_REPLY_TOPIC")
}

fn system_topic(name: &str, queues: i32, perm: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.to_owned(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        ..TopicConfig::default()
    }
}

/// The config a slave reads `topic` with when its master's config has not reached it (the master
/// died within a metadata sync period of creating the topic): read-only, with a queue for each
/// queue id up to the highest the store holds records for. `None` when the store holds none:
/// an acknowledged message that reached the slave must be readable from it, config or not.
pub fn held_by_store(topic: &str, queue_ids: impl IntoIterator<Item = i32>) -> Option<TopicConfig> {
    let queues = queue_ids.into_iter().filter(|id| *id >= 0).max()? + 1;
    Some(TopicConfig {
        topic_name: topic.to_owned(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm: rmq_protocol::body::perm::READ,
        ..TopicConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(dir: &std::path::Path, auto_create: bool) -> Topics {
        Topics::load(
            dir.to_path_buf(),
            "DefaultCluster",
            "broker-a",
            auto_create,
            8,
            Clock::system(),
        )
        .unwrap()
    }

    #[test]
    fn topic_names_are_checked_like_apache() {
        assert_eq!(validate_topic_name(""), Err(TopicNameError::Blank));
        assert_eq!(validate_topic_name("  "), Err(TopicNameError::Blank));
        assert!(matches!(
            validate_topic_name("a b"),
            Err(TopicNameError::IllegalCharacters(_))
        ));
        assert!(matches!(
            validate_topic_name("topic.with.dots"),
            Err(TopicNameError::IllegalCharacters(_))
        ));
        assert_eq!(
            validate_topic_name(&"t".repeat(128)),
            Err(TopicNameError::TooLong)
        );
        assert!(validate_topic_name(&"t".repeat(127)).is_ok());
        assert!(validate_topic_name("%RETRY%group-1_x|y").is_ok());
    }

    #[test]
    fn auto_create_takes_the_smaller_queue_count_and_drops_inherit() {
        let dir = tempfile::tempdir().unwrap();
        let topics = topics(dir.path(), true);
        let created = topics
            .get_or_create_on_send("Fresh", AUTO_CREATE_TOPIC, 4)
            .unwrap()
            .unwrap();
        assert_eq!(created.write_queue_nums, 4);
        assert_eq!(created.read_queue_nums, 4);
        assert_eq!(created.perm, perm::READ | perm::WRITE);
        let more = topics
            .get_or_create_on_send("Wide", AUTO_CREATE_TOPIC, 64)
            .unwrap()
            .unwrap();
        assert_eq!(more.write_queue_nums, 8);
    }

    #[test]
    fn without_auto_create_a_send_to_a_new_topic_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let topics = topics(dir.path(), false);
        assert!(topics.get(AUTO_CREATE_TOPIC).is_none());
        assert!(
            topics
                .get_or_create_on_send("Fresh", AUTO_CREATE_TOPIC, 4)
                .unwrap()
                .is_none()
        );
        assert!(topics.get("Fresh").is_none());
    }

    #[test]
    fn created_topics_survive_a_reload_and_bump_the_data_version() {
        let dir = tempfile::tempdir().unwrap();
        let before = {
            let topics = topics(dir.path(), true);
            let v0 = topics.snapshot().data_version.counter;
            topics
                .upsert(system_topic("Orders", 4, perm::READ | perm::WRITE))
                .unwrap();
            assert_eq!(topics.snapshot().data_version.counter, v0 + 1);
            topics.snapshot().data_version.counter
        };
        let reloaded = topics(dir.path(), true);
        assert_eq!(reloaded.get("Orders").unwrap().write_queue_nums, 4);
        assert_eq!(reloaded.snapshot().data_version.counter, before);
    }

    #[test]
    fn registration_snapshot_caps_topic_permission_by_the_brokers() {
        let dir = tempfile::tempdir().unwrap();
        let topics = topics(dir.path(), true);
        let read_only = topics.wire_snapshot(perm::READ);
        assert!(
            read_only
                .topic_config_table
                .values()
                .all(|t| t.perm == perm::READ)
        );
        let normal = topics.wire_snapshot(perm::READ | perm::WRITE);
        assert_eq!(
            normal.topic_config_table[AUTO_CREATE_TOPIC].perm,
            perm::READ | perm::WRITE | perm::INHERIT
        );
    }

    #[test]
    fn a_topic_held_only_by_the_store_is_read_only_with_a_queue_up_to_the_highest_held_id() {
        let config = held_by_store("T", [2, 0, 5]).expect("held");
        assert_eq!(config.topic_name, "T");
        assert_eq!((config.read_queue_nums, config.write_queue_nums), (6, 6));
        assert_eq!(config.perm, rmq_protocol::body::perm::READ);
        assert_eq!(held_by_store("T", []), None);
        assert_eq!(held_by_store("T", [-1]), None);
    }
}
