//! `rmq-store`: a synchronous storage engine that keeps Apache RocketMQ's on-disk formats.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | settings with `broker.conf` key names and defaults |
//! | [`error`] | one error enum per action that failed |
//! | [`mapped_file`] | one preallocated, memory-mapped file named by its start offset |
//! | [`file_queue`] | a directory of mapped files forming one byte sequence |
//! | [`commit_log`] | Apache's commit log: append under one short lock, scan, truncate |
//! | [`consume_queue`] | 20-byte entries per (topic, queue) pointing into the commit log |
//! | [`index`] | Apache's IndexFile: hash slots and items for lookups by key |
//! | [`delay_level`] | `messageDelayLevel` and the delivery time delayed messages keep as tag code |
//! | [`dispatch`] | what a record contributes to consume queues and index ("reput") |
//! | [`flush`] | group commit and the completion handle an append returns |
//! | [`checkpoint`] | store timestamps known to be on disk, for abnormal recovery |
//! | [`retention`] | which old commit log files to delete, as a pure decision |
//! | [`ha`] | master/slave replication without I/O: frames and the two state machines |
//! | [`metadata`] | Apache's JSON metadata files, written atomically |
//! | [`store`] | [`MessageStore`]: open and recover, put, get, query, shut down |
//!
//! Directory layout (Apache's):
//! ```text
//! {storePathRootDir}/
//!   commitlog/00000000000000000000        records, 1 GiB files named by start offset
//!   consumequeue/{topic}/{queueId}/0000…  20-byte entries, 300,000 per file
//!   index/yyyyMMddHHmmssSSS               hash index by key
//!   checkpoint                            flushed timestamps
//!   abort                                 present while running: its presence at start means a crash
//!   lock                                  flock held by the running store
//!   config/*.json                         topics, offsets, subscription groups, delay offsets
//!   config/destroyedTopics.json           queues destroyed by CLEAN_UNUSED_TOPIC (not Apache's)
//! ```
pub mod checkpoint;
pub mod commit_log;
pub mod config;
pub mod consume_queue;
pub mod delay_level;
pub mod dispatch;
pub mod error;
pub mod file_queue;
pub mod flush;
pub mod ha;
pub mod index;
pub mod mapped_file;
pub mod metadata;
pub mod retention;
pub mod store;
pub mod tombstones;

pub use commit_log::{BatchItem, PutBatch, PutMessage};
pub use config::{FlushDiskType, StoreConfig};
pub use flush::{FlushHandle, FlushStatus};
pub use store::{GetRequest, GetResult, GetStatus, MessageStore, PutResult, ReplicaWriter};
