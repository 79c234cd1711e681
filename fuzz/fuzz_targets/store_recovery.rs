//! Arbitrary bytes as the only commit log file of a fresh store, opened as after a restart:
//! `MessageStore::open_with_report` must never panic; it either fails or opens (and then shuts
//! down), and:
//! - after an open, every byte before the recovered end offset is unchanged on disk, and bytes
//!   set aside (`recoverCorruptCommitLog=truncate`) are exactly the bytes from that end;
//! - a refused open (the default policy) leaves the file as it was;
//! - (strict, unless `RMQ_FUZZ_RECOVERY_LENIENT` is set) an open that cut the log without setting
//!   anything aside did not cut a complete, valid record lying at its own offset past the end:
//!   that is acknowledged data lost silently, not a torn write.
//!
//! Input: byte 0 holds options (bit 0: abort marker present, i.e. recovery after a crash; bit 1:
//! `checkCRCOnRecover=false`; bit 2: `recoverCorruptCommitLog=truncate`; bit 3: no index;
//! bit 4: SYNC_FLUSH); the rest, cut at 64 KiB and zero-padded to a multiple of 4 KiB, is the
//! file (`mappedFileSizeCommitLog` is its size).
//!
//! An input that takes more than `RMQ_FUZZ_HANG_SECS` (10) seconds aborts as a hang (see
//! `common/watchdog.rs`).

#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;
#[path = "../common/watchdog.rs"]
mod watchdog;

use std::fs;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmq_protocol::message::record::RecordView;
use rmq_store::config::CorruptTailPolicy;
use rmq_store::mapped_file::file_name;
use rmq_store::{FlushDiskType, MessageStore, StoreConfig};

const MAX_LOG: usize = 64 * 1024;
const PAGE: usize = 4096;

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("RMQ_FUZZ_RECOVERY_LENIENT").is_none())
}

/// The first complete record that verifies and says it lies where it lies, at or after `from`.
fn valid_record_after(image: &[u8], from: usize) -> Option<(usize, usize)> {
    (from..image.len()).find_map(|pos| {
        let view = RecordView::decode(&image[pos..]).ok()?;
        (view.verify().is_ok() && view.physical_offset() == pos as i64)
            .then(|| (pos, view.total_size()))
    })
}

fuzz_target!(|data: &[u8]| {
    let [options, log @ ..] = data else {
        return;
    };
    let _clock = watchdog::arm();
    let log = &log[..log.len().min(MAX_LOG)];
    let file_size = log.len().div_ceil(PAGE).max(1) * PAGE;
    let mut image = log.to_vec();
    image.resize(file_size, 0);

    let root = scratch::fresh("store-recovery");
    let mut config = StoreConfig::new(&root);
    config.commit_log_file_size = file_size;
    config.consume_queue_file_size = 64 * 20;
    config.max_hash_slot_num = 64;
    config.max_index_num = 256;
    config.check_crc_on_recover = options & 2 == 0;
    let refuse = options & 4 == 0;
    config.recover_corrupt_commit_log = if refuse {
        CorruptTailPolicy::Refuse
    } else {
        CorruptTailPolicy::Quarantine
    };
    config.message_index_enable = options & 8 == 0;
    if options & 16 != 0 {
        config.flush_disk_type = FlushDiskType::SyncFlush;
    }
    let dir = config.commit_log_dir();
    fs::create_dir_all(&dir).expect("creating the commit log directory");
    let path = dir.join(file_name(0));
    fs::write(&path, &image).expect("writing the commit log file");
    if options & 1 != 0 {
        fs::write(config.abort_path(), b"").expect("writing the abort marker");
    }

    match MessageStore::open_with_report(config.clone()) {
        Ok((store, report)) => {
            let end = report.end_offset as usize;
            assert!(
                end <= file_size,
                "recovered end {end} past the file ({file_size})"
            );
            store.shutdown();
            drop(store);
            // Recovery to offset 0 may delete the file.
            let after = fs::read(&path).unwrap_or_default();
            assert!(
                after.len() >= end,
                "the file is shorter than the recovered end {end}"
            );
            assert!(
                after[..end] == image[..end],
                "bytes before the recovered end {end} changed"
            );
            if let Some(q) = &report.quarantined {
                assert_eq!(q.offset as usize, end);
                let kept = fs::read(q.dir.join(file_name(q.offset)))
                    .expect("the quarantined bytes are on disk");
                assert!(
                    kept[..] == image[end..end + q.bytes as usize],
                    "the quarantined bytes are not the bytes cut"
                );
            } else if strict() && config.check_crc_on_recover {
                if let Some((pos, size)) = valid_record_after(&image, end + 1) {
                    panic!(
                        "recovery ended at {end} ({}) and silently cut the valid {size}-byte \
                         record at {pos}",
                        report.stop
                    );
                }
            }
        }
        Err(error) => {
            if refuse {
                let after = fs::read(&path).expect("the commit log file is still there");
                assert!(
                    after == image,
                    "a refused open changed the commit log: {error}"
                );
            }
        }
    }
});
