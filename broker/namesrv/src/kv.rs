//! The KV config store: namespace → key → value, kept in memory and in `kvConfig.json` in
//! Apache's format, so a store written by Apache's name server loads here and back.
//!
//! ```text
//! {"configTable":{"ORDER_TOPIC_CONFIG":{"T":"broker-a:4"},"ns":{"k":"v"}}}
//! ```
//!
//! Every change is written before it is acknowledged: the new table goes to `<path>.tmp`,
//! which is fsynced and renamed over `<path>`, then the directory is fsynced. A change whose
//! write fails is not applied (Apache logs the failure and keeps the change in memory; a client
//! told SUCCESS would then lose the value at the next restart).
//!
//! A missing or blank file is an empty store, as in Apache. An unparsable one is an error:
//! starting empty would overwrite it at the first change.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rmq_protocol::body::DecodeBodyError;
use serde::{Deserialize, Serialize};
use tracing::info;

/// Namespace → key → value.
pub type KvTable = BTreeMap<String, BTreeMap<String, String>>;

/// The namespace whose entries REGISTER_BROKER answers carry and routes may include.
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// The KV store and the file it persists to.
#[derive(Debug)]
pub struct KvConfigStore {
    path: PathBuf,
    table: KvTable,
}

/// `kvConfig.json`: Apache's `KVConfigSerializeWrapper`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct KvConfigFile {
    config_table: KvTable,
}

/// Loading or persisting the KV store failed.
#[derive(Debug, thiserror::Error)]
pub enum KvConfigError {
    #[error("cannot read KV config {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("KV config {} is not valid", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: DecodeBodyError,
    },
    #[error("cannot serialize the KV config")]
    Serialize {
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot create directory {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot rename {} to {}", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot sync directory {}", path.display())]
    SyncDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl KvConfigStore {
    /// Loads the store from `path` (empty when the file is missing or blank).
    pub fn open(path: impl Into<PathBuf>) -> Result<KvConfigStore, KvConfigError> {
        let path = path.into();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(KvConfigError::Read { path, source }),
        };
        let table = if bytes.iter().all(u8::is_ascii_whitespace) {
            KvTable::new()
        } else {
            rmq_protocol::body::decode::<KvConfigFile>("KVConfigSerializeWrapper", &bytes)
                .map_err(|source| KvConfigError::Parse {
                    path: path.clone(),
                    source,
                })?
                .config_table
        };
        info!(path = %path.display(), namespaces = table.len(), "KV config loaded");
        Ok(KvConfigStore { path, table })
    }

    /// The file this store persists to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One value.
    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.table.get(namespace)?.get(key).map(String::as_str)
    }

    /// Every entry of a namespace; `None` when the namespace never had one. A namespace whose
    /// keys were all deleted stays, empty, as in Apache.
    pub fn namespace(&self, namespace: &str) -> Option<&BTreeMap<String, String>> {
        self.table.get(namespace)
    }

    /// Stores a value and persists the store.
    pub fn put(&mut self, namespace: &str, key: &str, value: &str) -> Result<(), KvConfigError> {
        let mut next = self.table.clone();
        next.entry(namespace.to_owned())
            .or_default()
            .insert(key.to_owned(), value.to_owned());
        self.commit(next)
    }

    /// Deletes a value (absent is fine) and persists the store.
    pub fn delete(&mut self, namespace: &str, key: &str) -> Result<(), KvConfigError> {
        let mut next = self.table.clone();
        if let Some(entries) = next.get_mut(namespace) {
            entries.remove(key);
        }
        self.commit(next)
    }

    fn commit(&mut self, next: KvTable) -> Result<(), KvConfigError> {
        let file = KvConfigFile { config_table: next };
        let json =
            serde_json::to_vec(&file).map_err(|source| KvConfigError::Serialize { source })?;
        write_atomically(&self.path, &json)?;
        self.table = file.config_table;
        Ok(())
    }
}

/// Replaces `path` with `bytes` so that a crash leaves the old or the new contents, whole.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), KvConfigError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|source| KvConfigError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = File::create(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        // IMPORTANT: the contents must be on disk before the rename makes them current, or a
        // crash could leave `path` naming an empty or partial file.
        file.sync_all()
    });
    written.map_err(|source| KvConfigError::Write {
        path: tmp.clone(),
        source,
    })?;
    // IMPORTANT: rename replaces `path` atomically: readers and crashes see old or new, whole.
    fs::rename(&tmp, path).map_err(|source| KvConfigError::Rename {
        from: tmp.clone(),
        to: path.to_path_buf(),
        source,
    })?;
    // IMPORTANT: the rename lives in the directory; without this fsync a crash could bring the
    // old file back after the change was acknowledged.
    File::open(&dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| KvConfigError::SyncDir { path: dir, source })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn put_get_delete_round_trip_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("namesrv").join("kvConfig.json");
        let mut store = KvConfigStore::open(&path).unwrap();
        assert_eq!(store.get("ns", "k"), None);
        store.put("ns", "k", "v").unwrap();
        store.put("ns", "k2", "v2").unwrap();
        store.put("other", "k", "x").unwrap();
        assert_eq!(store.get("ns", "k"), Some("v"));
        store.delete("ns", "k2").unwrap();
        store.delete("ns", "never-there").unwrap();

        let reopened = KvConfigStore::open(&path).unwrap();
        assert_eq!(reopened.get("ns", "k"), Some("v"));
        assert_eq!(reopened.get("ns", "k2"), None);
        assert_eq!(reopened.get("other", "k"), Some("x"));
        assert!(!dir.path().join("namesrv/kvConfig.json.tmp").exists());
    }

    #[test]
    fn the_file_has_apaches_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        let mut store = KvConfigStore::open(&path).unwrap();
        store
            .put(NAMESPACE_ORDER_TOPIC_CONFIG, "T", "broker-a:4")
            .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"T":"broker-a:4"}}}"#
        );
    }

    #[test]
    fn a_file_written_by_apache_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        fs::write(
            &path,
            "{\n\t\"configTable\":{\n\t\t\"ns\":{\n\t\t\t\"k\":\"v\"\n\t\t}\n\t}\n}",
        )
        .unwrap();
        let store = KvConfigStore::open(&path).unwrap();
        assert_eq!(store.get("ns", "k"), Some("v"));
    }

    #[test]
    fn missing_and_blank_files_are_empty_stores_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        assert!(
            KvConfigStore::open(&path)
                .unwrap()
                .namespace("ns")
                .is_none()
        );
        fs::write(&path, "  \n").unwrap();
        assert!(
            KvConfigStore::open(&path)
                .unwrap()
                .namespace("ns")
                .is_none()
        );
        fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            KvConfigStore::open(&path),
            Err(KvConfigError::Parse { .. })
        ));
    }

    #[test]
    fn a_namespace_emptied_by_deletes_stays_listed_like_apache() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = KvConfigStore::open(dir.path().join("kv.json")).unwrap();
        store.put("ns", "k", "v").unwrap();
        store.delete("ns", "k").unwrap();
        assert_eq!(store.namespace("ns"), Some(&BTreeMap::new()));
    }

    #[test]
    fn a_failed_write_leaves_the_store_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        let mut store = KvConfigStore::open(&path).unwrap();
        store.put("ns", "k", "v").unwrap();
        // A directory where the temp file goes: the write must fail.
        fs::create_dir(dir.path().join("kvConfig.json.tmp")).unwrap();
        let error = store.put("ns", "k", "w").unwrap_err();
        assert!(matches!(error, KvConfigError::Write { .. }), "{error}");
        assert_eq!(store.get("ns", "k"), Some("v"));
        assert_eq!(
            KvConfigStore::open(&path).unwrap().get("ns", "k"),
            Some("v")
        );
    }
}
