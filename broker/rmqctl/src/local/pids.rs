//! `<dir>/pids.json`: what `up` started, so that `down` (or a later `up`) can find it.
//!
//! `up` rewrites it after every spawn, so a crash of `up` itself leaves a record of every
//! process it had started. Each process is recorded with its start time (Linux
//! `/proc/<pid>/stat`), so that a pid the kernel has since given to another program is never
//! signalled.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::local::plan::Kind;

/// The file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PidsFile {
    /// The RocketCluster's name.
    pub cluster: String,
    /// The manifest `up` ran.
    pub manifest: PathBuf,
    /// Whether `up` returned (`--detach`) or stays in the foreground.
    pub detached: bool,
    /// Pid of the `rmqctl up` that started the cluster.
    pub rmqctl_pid: u32,
    /// Its start time, as [`ProcessRecord::start_time`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmqctl_start_time: Option<u64>,
    /// In start order: name servers, then brokers.
    pub processes: Vec<ProcessRecord>,
}

/// One started process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRecord {
    pub name: String,
    pub kind: Kind,
    pub pid: u32,
    /// `host:port` it serves.
    pub addr: String,
    pub log: PathBuf,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u64>,
}

impl ProcessRecord {
    /// The record of `node`, just spawned.
    pub fn spawned(
        node: &crate::local::plan::Node,
        spawned: &crate::local::process::Spawned,
    ) -> ProcessRecord {
        ProcessRecord {
            name: node.name.clone(),
            kind: node.kind,
            pid: spawned.child.id(),
            addr: node.addr.clone(),
            log: node.log.clone(),
            start_time: spawned.start_time,
        }
    }
}

/// Reading or writing the file failed.
#[derive(Debug, thiserror::Error)]
pub enum PidsError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a pids.json written by rmqctl up", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl PidsFile {
    /// Reads `path`; `None` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<PidsFile>, PidsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(PidsError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| PidsError::Parse {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Writes `path` whole: to a temporary file renamed over it, so a reader never sees half.
    pub fn write(&self, path: &Path) -> Result<(), PidsError> {
        let write_error = |source| PidsError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|error| write_error(io::Error::other(error)))?;
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(write_error)?;
        std::fs::rename(&tmp, path).map_err(write_error)
    }

    /// The processes of `kind`, in start order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &ProcessRecord> {
        self.processes.iter().filter(move |p| p.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> PidsFile {
        PidsFile {
            cluster: "demo".into(),
            manifest: "/m/minimal.yaml".into(),
            detached: true,
            rmqctl_pid: 7,
            rmqctl_start_time: None,
            processes: vec![
                ProcessRecord {
                    name: "demo-namesrv-0".into(),
                    kind: Kind::Namesrv,
                    pid: 100,
                    addr: "127.0.0.1:9876".into(),
                    log: "/s/logs/demo-namesrv-0.log".into(),
                    start_time: Some(5),
                },
                ProcessRecord {
                    name: "demo-broker-0-0".into(),
                    kind: Kind::Broker,
                    pid: 101,
                    addr: "127.0.0.1:10911".into(),
                    log: "/s/logs/demo-broker-0-0.log".into(),
                    start_time: None,
                },
            ],
        }
    }

    #[test]
    fn the_file_round_trips_and_a_missing_file_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pids.json");
        assert_eq!(PidsFile::read(&path).unwrap(), None);
        file().write(&path).unwrap();
        assert_eq!(PidsFile::read(&path).unwrap(), Some(file()));
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn the_json_names_every_field_in_camel_case() {
        let json = serde_json::to_value(file()).unwrap();
        assert_eq!(json["rmqctlPid"], 7);
        assert_eq!(json["processes"][0]["kind"], "namesrv");
        assert_eq!(json["processes"][0]["startTime"], 5);
        assert!(json["processes"][1].get("startTime").is_none());
    }

    #[test]
    fn a_file_that_is_not_ours_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pids.json");
        std::fs::write(&path, "[1, 2]").unwrap();
        let error = PidsFile::read(&path).unwrap_err();
        assert!(matches!(error, PidsError::Parse { .. }));
        assert!(error.to_string().contains("pids.json is not a pids.json"));
    }

    #[test]
    fn processes_are_selected_by_kind_in_start_order() {
        let file = file();
        let brokers: Vec<&str> = file
            .of_kind(Kind::Broker)
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(brokers, ["demo-broker-0-0"]);
    }
}
