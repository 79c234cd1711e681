//! Topics whose consume queues were destroyed (CLEAN_UNUSED_TOPIC), each with the commit log
//! offset at that moment. Recovery re-dispatches the commit log's tail; without these it would
//! rebuild a destroyed queue from the records still in the log, and a topic created again under
//! the same name would find its new entries mixed with the old ones.
//!
//! `{storePathRootDir}/config/destroyedTopics.json` (`{"topic": offset}`), written atomically
//! with a backup like the other metadata files, and before any queue file is deleted. An entry
//! is dropped once retention has removed every record below its offset. A file that cannot be
//! parsed stops the start with its path named: guessing would rebuild or lose queues.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use crate::error::MetadataError;
use crate::metadata;

/// File name under the metadata directory.
pub const FILE: &str = "destroyedTopics.json";

/// The destroyed topics of one store.
#[derive(Debug)]
pub struct Tombstones {
    path: PathBuf,
    by_topic: RwLock<BTreeMap<String, u64>>,
}

/// Whether the record of `topic` at commit log offset `offset` belongs to a destroyed queue.
pub fn buried(tombstones: &HashMap<String, u64>, topic: &str, offset: u64) -> bool {
    tombstones.get(topic).is_some_and(|below| offset < *below)
}

/// The entries still needed once the commit log starts at `min_offset`.
pub fn still_needed(by_topic: &BTreeMap<String, u64>, min_offset: u64) -> BTreeMap<String, u64> {
    by_topic
        .iter()
        .filter(|(_, below)| **below > min_offset)
        .map(|(topic, below)| (topic.clone(), *below))
        .collect()
}

impl Tombstones {
    /// Loads the file under `config_dir` (none yet: no tombstone).
    pub fn load(config_dir: &Path) -> Result<Tombstones, MetadataError> {
        let path = config_dir.join(FILE);
        let by_topic = metadata::load::<BTreeMap<String, u64>>(&path)?
            .map(|loaded| loaded.value)
            .unwrap_or_default();
        Ok(Tombstones {
            path,
            by_topic: RwLock::new(by_topic),
        })
    }

    /// Every tombstone, for a recovery scan.
    pub fn snapshot(&self) -> HashMap<String, u64> {
        self.read().iter().map(|(t, o)| (t.clone(), *o)).collect()
    }

    /// Records that every record of `topic` below `offset` belongs to destroyed queues, on disk
    /// before it returns.
    pub fn bury(&self, topic: &str, offset: u64) -> Result<(), MetadataError> {
        let mut by_topic = self
            .by_topic
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = by_topic.clone();
        next.insert(topic.to_owned(), offset);
        metadata::persist(&self.path, &next)?;
        *by_topic = next;
        Ok(())
    }

    /// Drops the entries no record in the log (which starts at `min_offset`) is older than.
    pub fn prune(&self, min_offset: u64) -> Result<(), MetadataError> {
        let mut by_topic = self
            .by_topic
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let next = still_needed(&by_topic, min_offset);
        if next.len() != by_topic.len() {
            metadata::persist(&self.path, &next)?;
            *by_topic = next;
        }
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, u64>> {
        self.by_topic.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_records_of_the_topic_below_its_offset_are_buried() {
        let tombstones = HashMap::from([("Gone".to_owned(), 1000u64)]);
        assert!(buried(&tombstones, "Gone", 999));
        assert!(!buried(&tombstones, "Gone", 1000));
        assert!(!buried(&tombstones, "Kept", 10));
    }

    #[test]
    fn an_entry_goes_once_the_log_starts_at_or_past_its_offset() {
        let by_topic = BTreeMap::from([("a".to_owned(), 100u64), ("b".to_owned(), 500u64)]);
        assert_eq!(
            still_needed(&by_topic, 100).keys().collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(still_needed(&by_topic, 0).len(), 2);
    }

    #[test]
    fn tombstones_survive_a_reload_and_pruning_rewrites_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let stones = Tombstones::load(dir.path()).unwrap();
        assert!(stones.snapshot().is_empty());
        stones.bury("Gone", 4096).unwrap();
        stones.bury("Old", 10).unwrap();
        let again = Tombstones::load(dir.path()).unwrap();
        assert_eq!(again.snapshot().get("Gone"), Some(&4096));
        again.prune(100).unwrap();
        let pruned = Tombstones::load(dir.path()).unwrap().snapshot();
        assert_eq!(pruned.keys().collect::<Vec<_>>(), ["Gone"]);
    }

    #[test]
    fn an_unparsable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "{not json").unwrap();
        std::fs::write(metadata::backup_path(&dir.path().join(FILE)), "{").unwrap();
        let error = Tombstones::load(dir.path()).unwrap_err();
        assert!(error.to_string().contains(FILE), "{error}");
    }
}
