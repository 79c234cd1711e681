//! What the store's integration tests share: a config whose files are small enough for a few
//! hundred messages to roll them, and plain messages to topic `T` and pulls from it.
// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::path::Path;

use rmq_store::{GetRequest, GetResult, MessageStore, PutMessage, StoreConfig};

/// The topic every helper here writes to and reads from.
pub const TOPIC: &str = "T";

/// Size of a commit log file under [`small_config`].
pub const COMMIT_LOG_FILE_SIZE: usize = 32 * 1024;

/// [`small_config`] whose retention may run at any hour and deletes files older than an hour,
/// by age only, however full this machine's disk is.
pub fn retention_by_age_config(root: &Path) -> StoreConfig {
    let mut c = small_config(root);
    c.delete_when = (0..24)
        .map(|h| format!("{h:02}"))
        .collect::<Vec<_>>()
        .join(";");
    c.file_reserved_time_hours = 1;
    c.disk_max_used_space_ratio = 100;
    c.disk_space_clean_forcibly_ratio = 1.0;
    c.disk_space_warning_level_ratio = 1.0;
    c
}

/// A store under `root` with 32 KiB commit log files, 64-entry consume queue files and an index
/// of 100 slots and 1000 entries.
pub fn small_config(root: &Path) -> StoreConfig {
    let mut c = StoreConfig::new(root);
    c.commit_log_file_size = COMMIT_LOG_FILE_SIZE;
    c.consume_queue_file_size = 64 * 20;
    c.max_hash_slot_num = 100;
    c.max_index_num = 1000;
    c
}

/// A plain message to queue `queue_id` of [`TOPIC`], born on 127.0.0.1 (an IPv4 host).
pub fn message(queue_id: i32, body: &[u8]) -> PutMessage<'_> {
    PutMessage::new(TOPIC, queue_id, body, "127.0.0.1:9".parse().unwrap())
}

/// Appends `body` with the property string `props` to queue `queue_id` of [`TOPIC`]; returns the
/// record's commit log offset.
pub fn put(store: &MessageStore, queue_id: i32, body: &[u8], props: &str) -> u64 {
    store
        .put_message(&PutMessage {
            properties: props.as_bytes(),
            ..message(queue_id, body)
        })
        .unwrap()
        .appended
        .record_offsets[0]
}

/// Pulls up to 32 messages (1 MiB) from queue `queue_id` of [`TOPIC`] at `offset`.
pub fn get(
    store: &MessageStore,
    queue_id: i32,
    offset: u64,
    filter: Option<&dyn Fn(i64) -> bool>,
) -> GetResult {
    store.get_message(&GetRequest {
        topic: TOPIC,
        queue_id,
        offset,
        max_count: 32,
        max_bytes: 1 << 20,
        filter,
    })
}

/// Every file of the commit log directory `dir`: name and bytes, by name.
pub fn commit_log_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}
