//! Arbitrary bytes as what a slave receives from its master: appended through
//! `ReplicaWriter::append` in chunks, dispatched (consume queues and index built from them), then
//! the store shut down and opened again. Nothing may panic, and:
//! - an append at the writer's end is taken whole (the end moves by its length) or refused
//!   whole (bytes that do not read as records); an append anywhere else is refused; a refused
//!   append changes nothing;
//! - every byte taken is on disk unchanged after the shutdown (the slave's log is the master's,
//!   byte for byte);
//! - the reopened store's recovered end is not past what was written, and the bytes before it
//!   are still the bytes taken.
//!
//! Input: byte 0 is the chunk size in 64-byte units (0: one chunk), byte 1 bit 0 asks for one
//! append at a wrong offset first; the rest (cut at 16 KiB) is the stream. The commit log file
//! is 32 KiB, so a stream never rolls it.
//!
//! An input that takes more than `RMQ_FUZZ_HANG_SECS` (10) seconds aborts as a hang (see
//! `common/watchdog.rs`).

#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;
#[path = "../common/watchdog.rs"]
mod watchdog;

use std::fs;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rmq_store::mapped_file::file_name;
use rmq_store::{MessageStore, StoreConfig};

const FILE: usize = 32 * 1024;
const MAX_STREAM: usize = 16 * 1024;

fn config(root: &std::path::Path) -> StoreConfig {
    let mut config = StoreConfig::new(root);
    config.commit_log_file_size = FILE;
    config.consume_queue_file_size = 64 * 20;
    config.max_hash_slot_num = 64;
    config.max_index_num = 256;
    config.replica = true;
    config
}

fuzz_target!(|data: &[u8]| {
    let [chunk, flags, stream @ ..] = data else {
        return;
    };
    let _clock = watchdog::arm();
    let stream = &stream[..stream.len().min(MAX_STREAM)];
    let chunk = match usize::from(*chunk) * 64 {
        0 => stream.len().max(1),
        n => n,
    };
    let root = scratch::fresh("replica-append");
    let store = MessageStore::open(config(&root)).expect("a fresh replica store opens");
    let mut writer = store.replica_writer().expect("a replica store has a writer");
    let mut taken = 0usize;
    if flags & 1 != 0 && !stream.is_empty() {
        assert!(
            writer.append(7, &stream[..1]).is_err(),
            "an append away from the end was taken"
        );
        assert_eq!(writer.max_offset(), 0, "a refused append moved the end");
    }
    for piece in stream.chunks(chunk) {
        match writer.append(taken as u64, piece) {
            Ok(end) => {
                taken += piece.len();
                assert_eq!(end, taken as u64, "the end did not move by the append");
            }
            // Bytes that are not records (an invalid record head) are refused whole; the
            // slave stops there, as it would drop the connection.
            Err(_) => {
                assert_eq!(writer.max_offset(), taken as u64, "a refused append moved the end");
                break;
            }
        }
    }
    // Long enough for valid records to be dispatched; bytes that do not parse stall dispatch
    // at themselves, which must not keep the store from shutting down.
    let _ = store.wait_dispatched(Duration::from_millis(20));
    store.shutdown();
    drop(writer);
    drop(store);
    let path = config(&root).commit_log_dir().join(file_name(0));
    let on_disk = fs::read(&path).unwrap_or_default();
    assert!(
        on_disk.len() >= taken && on_disk[..taken] == stream[..taken],
        "bytes taken from the master changed on disk"
    );
    // Reopened as after a clean restart: recovery keeps what it can read and never more.
    if let Ok((store, report)) = MessageStore::open_with_report(config(&root)) {
        let end = report.end_offset as usize;
        assert!(end <= taken, "recovered end {end} past the {taken} bytes written");
        store.shutdown();
        drop(store);
        let after = fs::read(&path).unwrap_or_default();
        assert!(
            after.len() >= end && after[..end] == stream[..end],
            "bytes before the recovered end changed"
        );
    }
});
