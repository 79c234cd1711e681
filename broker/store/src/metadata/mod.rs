//! Apache's metadata JSON files under `{root}/config/`, read leniently and written atomically.
//!
//! | module | what |
//! |---|---|
//! | [`types`] | `topics.json`, `consumerOffset.json`, `subscriptionGroup.json`, `delayOffset.json` |
//! | [`json`] | fastjson's dialect: bare integer map keys in and out |
//!
//! Files on disk, for each `<name>`:
//!
//! ```text
//! config/<name>        the current version
//! config/<name>.bak    the version before it (Apache's ConfigManager keeps one too)
//! config/<name>.tmp    a version being written; ignored on load (left by a crash mid-write)
//! ```
//!
//! [`persist`] writes `<name>.tmp` and fsyncs it, hard-links the current `<name>` to
//! `<name>.bak` (through `<name>.bak.tmp` and a rename, so the backup is never half-written),
//! renames `<name>.tmp` over `<name>` and fsyncs the directory. After a crash at any point,
//! `<name>` is either the old or the new version, complete. [`load`] reads `<name>` and falls back
//! to `<name>.bak` when it is missing, empty or unparsable, logging which one it used.
//!
//! Unlike Apache, a main file that cannot be parsed and has no usable backup is an error, not an
//! empty table: silently forgetting every consumer offset would be worse than refusing to start.

pub mod json;
pub mod types;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{info, warn};

pub use types::{
    ConsumerOffsetTable, DataVersion, DelayOffsetTable, SubscriptionGroupConfig,
    SubscriptionGroupTable, TopicConfig, TopicConfigTable, TopicFilterType,
};

use crate::error::MetadataError;
use crate::mapped_file::sync_dir;

/// A metadata file type and its name under `{root}/config/`.
pub trait MetadataFile: Serialize + DeserializeOwned {
    const FILE_NAME: &'static str;

    /// `{config_dir}/<FILE_NAME>`.
    fn path(config_dir: &Path) -> PathBuf {
        config_dir.join(Self::FILE_NAME)
    }

    /// Loads the file from `config_dir` (see [`load`]).
    fn load_from(config_dir: &Path) -> Result<Option<Loaded<Self>>, MetadataError> {
        load(&Self::path(config_dir))
    }

    /// Persists the value into `config_dir` (see [`persist`]).
    fn persist_to(&self, config_dir: &Path) -> Result<(), MetadataError> {
        persist(&Self::path(config_dir), self)
    }
}

/// The directory holding the metadata files: `{root}/config`.
pub fn config_dir(root: &Path) -> PathBuf {
    root.join("config")
}

/// Which file a value was loaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Main,
    Backup,
}

/// A loaded value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    pub value: T,
    pub source: Source,
}

/// `<path>.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

/// `<path>.tmp`.
pub fn temp_path(path: &Path) -> PathBuf {
    with_suffix(path, ".tmp")
}

/// Loads `path`, or its `.bak` when `path` is missing, empty or unparsable. `Ok(None)` when
/// neither holds anything (a fresh store). An error when something is there but neither file
/// parses; the error is the main file's if it had one.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<Option<Loaded<T>>, MetadataError> {
    let main = read_json::<T>(path);
    let main_err = match main {
        Ok(Some(value)) => {
            info!(path = %path.display(), "loaded metadata");
            return Ok(Some(Loaded {
                value,
                source: Source::Main,
            }));
        }
        Ok(None) => None,
        Err(e) => {
            warn!(path = %path.display(), error = %rmq_protocol::error_remark(&e), "metadata file is unreadable, trying its backup");
            Some(e)
        }
    };
    let backup = backup_path(path);
    match read_json::<T>(&backup) {
        Ok(Some(value)) => {
            warn!(path = %path.display(), backup = %backup.display(), "loaded metadata from the backup");
            Ok(Some(Loaded {
                value,
                source: Source::Backup,
            }))
        }
        Ok(None) => main_err.map_or(Ok(None), Err),
        Err(e) => Err(main_err.unwrap_or(e)),
    }
}

/// Writes `value` to `path` atomically, keeping the previous version as `<path>.bak`.
pub fn persist<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), MetadataError> {
    let text = json::to_fastjson_string(value).map_err(|source| MetadataError::Serialize {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|source| MetadataError::CreateDir {
        path: dir.clone(),
        source,
    })?;

    let tmp = temp_path(path);
    write_synced(&tmp, text.as_bytes()).map_err(|source| MetadataError::Write {
        path: tmp.clone(),
        source,
    })?;

    if path.exists() {
        let backup = backup_path(path);
        keep_backup(path, &backup).map_err(|source| MetadataError::Backup {
            path: path.to_path_buf(),
            backup,
            source,
        })?;
    }

    // IMPORTANT: the rename comes after the fsync of `.tmp` above, so the name never points at
    // contents that are not on disk; rename replaces `path` atomically, so a reader or a crash
    // sees the old version or the new one, never a mix.
    fs::rename(&tmp, path).map_err(|source| MetadataError::Rename {
        from: tmp.clone(),
        to: path.to_path_buf(),
        source,
    })?;
    // IMPORTANT: the renames live in the directory; without this fsync a crash could bring back
    // the old entries after we reported the new version persisted.
    sync_dir(&dir).map_err(|source| MetadataError::SyncDir { path: dir, source })?;
    Ok(())
}

/// Makes `backup` a complete copy of the current `path`, atomically.
fn keep_backup(path: &Path, backup: &Path) -> io::Result<()> {
    let staged = with_suffix(backup, ".tmp");
    match fs::remove_file(&staged) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    // A hard link shares the current file's blocks, which are already on disk (it was written
    // and fsynced by an earlier persist, or by Apache, which forces it), and costs no copy.
    // The shared inode is never written in place: the rename below moves `path` to a new inode.
    if fs::hard_link(path, &staged).is_err() {
        // Filesystems without hard links: copy, and
        // IMPORTANT: fsync the copy before it can be renamed to `.bak`.
        fs::copy(path, &staged)?;
        File::open(&staged)?.sync_all()?;
    }
    // IMPORTANT: `.bak` is replaced by a rename, so it is always one whole version; it becomes
    // durable with the directory fsync in `persist`.
    fs::rename(&staged, backup)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    // IMPORTANT: the contents must be on disk before the rename makes them the current version.
    file.sync_all()
}

/// `Ok(None)` when the file is missing or blank.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, MetadataError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(MetadataError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        warn!(path = %path.display(), "metadata file is empty");
        return Ok(None);
    }
    let json = json::quote_bare_keys(&bytes);
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|source| MetadataError::Parse {
            path: path.to_path_buf(),
            source,
        })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests;
