//! Errors, one enum per action that failed.

use std::io;
use std::path::PathBuf;

use rmq_protocol::message::record::EncodeRecordError;

/// A file operation of a file queue failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("failed to create {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is {actual} bytes, expected {expected}")]
    WrongSize {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("failed to map {path}")]
    Map {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to write to {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to fdatasync {path}")]
    Sync {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to delete {path}")]
    Delete {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to list {path}")]
    ListDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("files in {dir} are not contiguous: {path} starts at {start}, expected {expected}")]
    Gap {
        dir: PathBuf,
        path: PathBuf,
        start: u64,
        expected: u64,
    },
    #[error("failed to allocate disk blocks of {path}")]
    Allocate {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl FileError {
    /// The filesystem had no room (ENOSPC, or EDQUOT for a quota): the operation can succeed once
    /// space is freed, unlike a failed write of data already promised to someone.
    pub fn is_out_of_space(&self) -> bool {
        let source = match self {
            FileError::Create { source, .. }
            | FileError::Write { source, .. }
            | FileError::Allocate { source, .. }
            | FileError::Sync { source, .. } => source,
            _ => return false,
        };
        matches!(source.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
    }
}

/// Opening (loading and recovering) a store failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenStoreError {
    #[error("cannot read the destroyed topics file")]
    Tombstones(#[source] MetadataError),
    #[error("failed to create directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("store {path} is locked by another process")]
    Locked { path: PathBuf },
    #[error("failed to lock {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to write the abort marker {path}")]
    AbortMarker {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
    #[error(
        "commit log {path} is corrupt at offset {offset} ({reason}) and {bytes_following} bytes of \
         written data follow it; nothing was deleted. Inspect the file, or set \
         recoverCorruptCommitLog=truncate to move the {bytes_at_stake} bytes from offset {offset} \
         into {quarantine} and start without them"
    )]
    CorruptCommitLog {
        path: PathBuf,
        offset: u64,
        reason: String,
        bytes_following: u64,
        bytes_at_stake: u64,
        quarantine: PathBuf,
    },
    #[error("failed to set commit log bytes from offset {offset} aside into {path}")]
    Quarantine {
        path: PathBuf,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("failed to start thread {name}")]
    Thread {
        name: &'static str,
        #[source]
        source: io::Error,
    },
}

/// Appending a message failed. The message is not stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("store refuses writes after an earlier write or fsync failure")]
    Poisoned,
    #[error("store is shut down")]
    ShutDown,
    #[error("store is a replica and does not accept messages")]
    ReadOnly,
    #[error("disk is full: {used_ratio:.2} of the commit log disk used")]
    DiskFull { used_ratio: f64 },
    #[error("message body of {size} bytes exceeds maxMessageSize {max}")]
    BodyTooLarge { size: usize, max: usize },
    #[error("message record of {size} bytes cannot fit in a commit log file of {file_size}")]
    RecordTooLarge { size: usize, file_size: usize },
    #[error("message cannot be encoded")]
    Encode(#[from] EncodeRecordError),
    #[error("failed to roll to a new commit log file")]
    Roll(#[source] FileError),
    #[error("failed to write to the commit log")]
    Write(#[source] FileError),
    #[error("batch is empty")]
    EmptyBatch,
}

impl PutError {
    /// Refused for lack of disk space (the disk-usage guard, or a new commit log file that could
    /// not get its blocks): the send can succeed once space is freed.
    pub fn is_out_of_space(&self) -> bool {
        match self {
            PutError::DiskFull { .. } => true,
            PutError::Roll(source) => source.is_out_of_space(),
            _ => false,
        }
    }
}

/// Writing or reading a metadata JSON file failed.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to parse {path}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to serialize {path}")]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to create directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to keep {path} as the backup {backup}")]
    Backup {
        path: PathBuf,
        backup: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to rename {from} to {to}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to fsync directory {path}")]
    SyncDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Opening or writing the message index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "index files of {max_hash_slot_num} hash slots and {max_index_num} items are invalid: {reason}"
    )]
    InvalidSize {
        max_hash_slot_num: u32,
        max_index_num: u32,
        reason: &'static str,
    },
    #[error("failed to create index directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    File(#[from] FileError),
}

/// Building consume queue or index entries for a record failed.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("failed to write consume queue {topic}/{queue_id}")]
    ConsumeQueue {
        topic: String,
        queue_id: i32,
        #[source]
        source: FileError,
    },
    #[error("failed to write the index")]
    Index(#[source] IndexError),
    #[error("failed to flush consume queues, index or checkpoint")]
    Flush(#[source] FileError),
}

impl DispatchError {
    /// Building the entries needs disk space that is not there: dispatch can resume once space
    /// is freed (the record itself is safe in the commit log).
    pub fn is_out_of_space(&self) -> bool {
        match self {
            DispatchError::ConsumeQueue { source, .. }
            | DispatchError::Index(IndexError::File(source)) => source.is_out_of_space(),
            _ => false,
        }
    }
}

/// Appending bytes replicated from a master failed. Nothing was appended; the connection to the
/// master should be dropped and re-established from the slave's offset.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaAppendError {
    #[error("store is not a replica (brokerRole is not SLAVE): replicated bytes are refused")]
    NotAReplica,
    #[error("replicated bytes start at {got}, the commit log ends at {expected}")]
    OffsetMismatch { expected: u64, got: u64 },
    #[error(
        "replicated bytes into an empty commit log start at {offset}, not at a file boundary of \
         mappedFileSizeCommitLog={file_size}: master and slave must use the same file size"
    )]
    NotAtFileStart { offset: u64, file_size: usize },
    #[error(
        "replicated bytes [{offset}, {end}) cross the end of the local file at {file_end}: the \
         master's mappedFileSizeCommitLog differs from ours ({file_size})"
    )]
    CrossesFileEnd {
        offset: u64,
        end: u64,
        file_end: u64,
        file_size: usize,
    },
    #[error(
        "the record at {record} ({size} bytes) would cross the end of the local file at \
         {file_end}: the master's mappedFileSizeCommitLog differs from ours ({file_size})"
    )]
    RecordCrossesFileEnd {
        record: u64,
        size: usize,
        file_end: u64,
        file_size: usize,
    },
    #[error(
        "the blank record at {record} ends at {blank_end}, the local file at {file_end}: the \
         master's mappedFileSizeCommitLog differs from ours ({file_size})"
    )]
    BlankMisaligned {
        record: u64,
        blank_end: u64,
        file_end: u64,
        file_size: usize,
    },
    #[error("replicated bytes hold an invalid record head at {record}")]
    BadRecord {
        record: u64,
        #[source]
        source: rmq_protocol::message::record::DecodeRecordError,
    },
    #[error(transparent)]
    Refused(PutError),
    #[error("failed to write replicated bytes to the commit log")]
    Write(#[source] FileError),
    #[error("failed to create the next commit log file")]
    Roll(#[source] FileError),
}

/// Destroying a topic's consume queues failed; what was deleted before the failure stays
/// deleted, and the tombstone written first keeps recovery from rebuilding it.
#[derive(Debug, thiserror::Error)]
pub enum DestroyQueuesError {
    #[error("cannot record the destroyed topic")]
    Tombstone(#[source] MetadataError),
    #[error(
        "dispatch is behind (at {dispatched}, appended up to {appended}): nothing destroyed, try again"
    )]
    DispatchBehind { dispatched: u64, appended: u64 },
    #[error(transparent)]
    File(#[from] FileError),
}
