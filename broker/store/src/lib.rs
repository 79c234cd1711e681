//! `rmq-store`: a synchronous storage engine that keeps Apache RocketMQ's on-disk formats.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | settings with `broker.conf` key names and defaults |
//! | [`error`] | one error enum per action that failed |
//! | [`mapped_file`] | one preallocated, memory-mapped file named by its start offset |
//! | [`file_queue`] | a directory of mapped files forming one byte sequence |
pub mod config;
pub mod error;
pub mod file_queue;
pub mod mapped_file;
pub mod checkpoint;
pub mod commit_log;
pub mod consume_queue;
pub mod flush;
pub mod index;
