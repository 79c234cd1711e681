//! What can go wrong in `rmqctl apply`, one variant per action that failed.

use std::path::PathBuf;
use std::time::Duration;

use rmq_admin::RpcError;

use crate::local::UpError;
use crate::local::pids::PidsError;

/// `rmqctl apply` failed. What it changed before stays changed: the next `apply` of the same
/// manifest goes on from there.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Loading, validating or laying out a manifest, starting a process: as `up` reports it.
    #[error(transparent)]
    Up(#[from] UpError),
    #[error(transparent)]
    Pids(#[from] PidsError),
    #[error(
        "no cluster runs from {}: start one with `rmqctl up -f <manifest> --dir {} --detach`",
        .dir.display(), .dir.display()
    )]
    NotRunning { dir: PathBuf },
    #[error(
        "the cluster in {} runs in the foreground of `rmqctl up` (pid {pid}), which stops the \
         whole cluster when one process exits: apply changes only a cluster started with \
         --detach",
        .dir.display()
    )]
    Foreground { dir: PathBuf, pid: u32 },
    #[error("{} has no manifest copy of the running cluster ({})", .dir.display(), .source)]
    NoManifestCopy {
        dir: PathBuf,
        #[source]
        source: Box<UpError>,
    },
    #[error("{} describes cluster {new}, but {} runs cluster {old}", .path.display(), .dir.display())]
    OtherCluster {
        path: PathBuf,
        dir: PathBuf,
        old: String,
        new: String,
    },
    #[error(
        "spec.security changed: rmqctl apply does not change security settings; stop the \
         cluster with `rmqctl down` and start it again with `rmqctl up`"
    )]
    SecurityChanged,
    #[error(
        "{name} would move from ports {old:?} to {new:?} (it is not in pids.json, and the \
         ports it had are another process's now): stop the cluster with `rmqctl down` and start \
         it again with `rmqctl up`"
    )]
    LayoutMoved {
        name: String,
        old: Vec<u16>,
        new: Vec<u16>,
    },
    #[error("cannot find the ports of {} in {}", .name, .dir.display())]
    NoBasePort { name: String, dir: PathBuf },
    #[error("cannot {action}")]
    Request {
        /// `wipe the write permission of orders-broker-1 on 127.0.0.1:9876`, ...
        action: String,
        #[source]
        source: Box<RpcError>,
    },
    #[error("cannot give {to} the cluster's topics and subscription groups")]
    Sync {
        to: String,
        #[source]
        source: rmq_admin::change::SyncError,
    },
    #[error("{name} (pid {pid}) is still running after SIGKILL; nothing more was changed")]
    Survived { name: String, pid: u32 },
    #[error(
        "the change did not finish within {} s; it was waiting for: {last}. Run the same \
         `rmqctl apply` again to go on",
        .waited.as_secs()
    )]
    TimedOut { waited: Duration, last: String },
}

impl ApplyError {
    /// A failed request, with what it was for.
    pub fn request(action: impl Into<String>, source: RpcError) -> ApplyError {
        ApplyError::Request {
            action: action.into(),
            source: Box::new(source),
        }
    }
}
