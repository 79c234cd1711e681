//! Committed consumer offsets (`config/consumerOffset.json`), keyed `topic@group` then queue id.
//!
//! Commits land in memory; [`ConsumerOffsets::persist`] writes the table, called every
//! `flushConsumerOffsetInterval` and at shutdown. A crash loses at most that interval of commits,
//! which means redelivery, never loss: consumers resume from an older offset (at-least-once).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rmq_store::error::MetadataError;
use rmq_store::metadata::{ConsumerOffsetTable, MetadataFile};

/// Committed offsets of every group on this broker.
#[derive(Debug)]
pub struct ConsumerOffsets {
    table: Mutex<ConsumerOffsetTable>,
    dirty: AtomicBool,
    config_dir: PathBuf,
}

impl ConsumerOffsets {
    /// Loads `consumerOffset.json` from `config_dir`.
    pub fn load(config_dir: PathBuf) -> Result<ConsumerOffsets, MetadataError> {
        let table = ConsumerOffsetTable::load_from(&config_dir)?
            .map(|loaded| loaded.value)
            .unwrap_or_default();
        Ok(ConsumerOffsets {
            table: Mutex::new(table),
            dirty: AtomicBool::new(false),
            config_dir,
        })
    }

    /// The committed offset, if any.
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.lock()
            .offset_table
            .get(&key(topic, group))
            .and_then(|queues| queues.get(&queue_id))
            .copied()
    }

    /// Records a commit.
    pub fn commit(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        self.lock()
            .offset_table
            .entry(key(topic, group))
            .or_default()
            .insert(queue_id, offset);
        self.dirty.store(true, Ordering::Release);
    }

    /// The offsets of one group on one topic.
    pub fn of(&self, group: &str, topic: &str) -> BTreeMap<i32, i64> {
        self.lock()
            .offset_table
            .get(&key(topic, group))
            .cloned()
            .unwrap_or_default()
    }

    /// Topics `group` has committed offsets on.
    pub fn topics_of(&self, group: &str) -> Vec<String> {
        let suffix = format!("@{group}");
        self.lock()
            .offset_table
            .keys()
            .filter_map(|k| k.strip_suffix(&suffix).map(str::to_owned))
            .collect()
    }

    /// Groups with committed offsets on `topic`.
    pub fn groups_of(&self, topic: &str) -> Vec<String> {
        let prefix = format!("{topic}@");
        self.lock()
            .offset_table
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// Drops every offset of `topic` (the topic was deleted).
    pub fn remove_topic(&self, topic: &str) {
        let prefix = format!("{topic}@");
        self.lock()
            .offset_table
            .retain(|k, _| !k.starts_with(&prefix));
        self.dirty.store(true, Ordering::Release);
    }

    /// Drops every offset of `group` (DELETE_SUBSCRIPTIONGROUP with `removeOffset`). Keys are
    /// `topic@group`; a topic may itself hold `@`, so the group is matched at the end.
    pub fn remove_group(&self, group: &str) {
        let suffix = format!("@{group}");
        self.lock()
            .offset_table
            .retain(|k, _| !k.ends_with(&suffix));
        self.dirty.store(true, Ordering::Release);
    }

    /// A slave adds its master's offsets over its own (Apache's `putAll`: per `topic@group`).
    pub fn merge_from_master(&self, master: ConsumerOffsetTable) {
        self.lock().offset_table.extend(master.offset_table);
        self.dirty.store(true, Ordering::Release);
    }

    /// A copy of the whole table.
    pub fn snapshot(&self) -> ConsumerOffsetTable {
        self.lock().clone()
    }

    /// Writes the table if anything changed since the last write.
    pub fn persist(&self) -> Result<(), MetadataError> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let snapshot = self.snapshot();
        snapshot.persist_to(&self.config_dir).inspect_err(|_| {
            // Try again next time.
            self.dirty.store(true, Ordering::Release);
        })
    }

    fn lock(&self) -> MutexGuard<'_, ConsumerOffsetTable> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(topic: &str, group: &str) -> String {
    format!("{topic}@{group}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_offsets_are_read_back_and_survive_persist_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let offsets = ConsumerOffsets::load(dir.path().to_path_buf()).unwrap();
        assert_eq!(offsets.query("g", "t", 0), None);
        offsets.commit("g", "t", 0, 42);
        offsets.commit("g", "t", 3, 7);
        assert_eq!(offsets.query("g", "t", 0), Some(42));
        assert_eq!(offsets.topics_of("g"), ["t"]);
        offsets.persist().unwrap();
        let reloaded = ConsumerOffsets::load(dir.path().to_path_buf()).unwrap();
        assert_eq!(reloaded.query("g", "t", 3), Some(7));
        let raw = std::fs::read_to_string(dir.path().join("consumerOffset.json")).unwrap();
        assert!(raw.contains("\"t@g\""), "{raw}");
    }
}
