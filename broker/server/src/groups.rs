//! Subscription groups (`config/subscriptionGroup.json`): created by admin request or, when
//! `autoCreateSubscriptionGroup` is on, on a consumer's first heartbeat or pull.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rmq_store::error::MetadataError;
use rmq_store::metadata::{MetadataFile, SubscriptionGroupConfig, SubscriptionGroupTable};
use tracing::info;

use crate::clock::Clock;
use crate::topics::bump;

/// Groups Apache creates at start for its own tools.
const SYSTEM_GROUPS: &[&str] = &[
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "__MONITOR_CONSUMER",
    "CLIENT_INNER_PRODUCER",
    "SELF_TEST_P_GROUP",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
    "CID_ONSAPI_PULL",
    "CID_RMQ_SYS_TRANS",
];

/// The subscription groups of one broker.
#[derive(Debug)]
pub struct Groups {
    table: RwLock<SubscriptionGroupTable>,
    config_dir: PathBuf,
    /// `autoCreateSubscriptionGroup`, changeable at run time.
    auto_create: AtomicBool,
    /// Held from snapshot to rename: concurrent writers (first pulls of a new group on several
    /// queues at once) share one temp file name, and a later snapshot must win.
    persisting: std::sync::Mutex<()>,
    /// Stamps data versions.
    clock: Clock,
}

impl Groups {
    /// Loads `subscriptionGroup.json` and adds the system groups.
    pub fn load(
        config_dir: PathBuf,
        auto_create: bool,
        clock: Clock,
    ) -> Result<Groups, MetadataError> {
        let mut table = SubscriptionGroupTable::load_from(&config_dir)?
            .map(|loaded| loaded.value)
            .unwrap_or_default();
        for name in SYSTEM_GROUPS {
            table
                .subscription_group_table
                .entry((*name).to_owned())
                .or_insert_with(|| SubscriptionGroupConfig {
                    group_name: (*name).to_owned(),
                    ..SubscriptionGroupConfig::default()
                });
        }
        let groups = Groups {
            table: RwLock::new(table),
            config_dir,
            auto_create: AtomicBool::new(auto_create),
            clock,
            persisting: std::sync::Mutex::new(()),
        };
        groups.persist()?;
        Ok(groups)
    }

    /// Turns auto-creation of unknown groups on or off (`autoCreateSubscriptionGroup`).
    pub fn set_auto_create(&self, on: bool) {
        self.auto_create.store(on, Ordering::Relaxed);
    }

    /// The group's config; created with defaults when auto-creation is on.
    pub fn find_or_create(
        &self,
        group: &str,
    ) -> Result<Option<SubscriptionGroupConfig>, MetadataError> {
        if let Some(config) = self.read().subscription_group_table.get(group) {
            return Ok(Some(config.clone()));
        }
        if !self.auto_create.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let config = SubscriptionGroupConfig {
            group_name: group.to_owned(),
            ..SubscriptionGroupConfig::default()
        };
        info!(%group, "subscription group auto-created");
        self.upsert(config.clone())?;
        Ok(Some(config))
    }

    /// The group's config, if it exists.
    pub fn get(&self, group: &str) -> Option<SubscriptionGroupConfig> {
        self.read().subscription_group_table.get(group).cloned()
    }

    /// Creates or replaces a group.
    pub fn upsert(&self, config: SubscriptionGroupConfig) -> Result<(), MetadataError> {
        {
            let mut table = self.write();
            table
                .subscription_group_table
                .insert(config.group_name.clone(), config);
            bump(&mut table.data_version, self.clock.now_ms());
        }
        self.persist()
    }

    /// Deletes a group; returns whether it existed.
    pub fn delete(&self, group: &str) -> Result<bool, MetadataError> {
        let existed = {
            let mut table = self.write();
            let existed = table.subscription_group_table.remove(group).is_some();
            if existed {
                bump(&mut table.data_version, self.clock.now_ms());
            }
            existed
        };
        if existed {
            self.persist()?;
        }
        Ok(existed)
    }

    /// A slave takes its master's whole table when the data versions differ (Apache's
    /// `SlaveSynchronize.syncSubscriptionGroupConfig`); returns whether it did.
    pub fn replace_from_master(
        &self,
        table: SubscriptionGroupTable,
    ) -> Result<bool, MetadataError> {
        {
            let mut current = self.write();
            if current.data_version == table.data_version {
                return Ok(false);
            }
            *current = table;
        }
        self.persist()?;
        Ok(true)
    }

    /// A snapshot of the whole table.
    pub fn snapshot(&self) -> SubscriptionGroupTable {
        self.read().clone()
    }

    fn persist(&self) -> Result<(), MetadataError> {
        let _one_writer = self
            .persisting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let snapshot = self.read().clone();
        snapshot.persist_to(&self.config_dir)
    }

    fn read(&self) -> RwLockReadGuard<'_, SubscriptionGroupTable> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, SubscriptionGroupTable> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The config a slave serves a group with when the group is not in its table (the master
/// created it within a metadata sync period of dying, and auto-creation is off): the defaults,
/// not persisted, until the master's table replaces it.
pub fn unsynced_on_slave(group: &str) -> SubscriptionGroupConfig {
    SubscriptionGroupConfig {
        group_name: group.to_owned(),
        ..SubscriptionGroupConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_auto_created_only_when_enabled_and_survive_reload() {
        let dir = tempfile::tempdir().unwrap();
        let strict = Groups::load(dir.path().to_path_buf(), false, Clock::system()).unwrap();
        assert!(strict.find_or_create("cg").unwrap().is_none());
        let lenient = Groups::load(dir.path().to_path_buf(), true, Clock::system()).unwrap();
        let created = lenient.find_or_create("cg").unwrap().unwrap();
        assert!(created.consume_enable);
        assert_eq!(created.retry_max_times, 16);
        let reloaded = Groups::load(dir.path().to_path_buf(), false, Clock::system()).unwrap();
        assert!(reloaded.get("cg").is_some());
        assert!(reloaded.get("TOOLS_CONSUMER").is_some());
    }

    #[test]
    fn groups_created_concurrently_all_succeed_and_all_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let groups = std::sync::Arc::new(
            Groups::load(dir.path().to_path_buf(), true, Clock::system()).unwrap(),
        );
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let groups = groups.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        groups
                            .find_or_create(&format!("g-{t}-{i}"))
                            .unwrap()
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let reloaded = Groups::load(dir.path().to_path_buf(), false, Clock::system()).unwrap();
        for t in 0..8 {
            for i in 0..25 {
                assert!(
                    reloaded.get(&format!("g-{t}-{i}")).is_some(),
                    "g-{t}-{i} lost"
                );
            }
        }
    }
}
