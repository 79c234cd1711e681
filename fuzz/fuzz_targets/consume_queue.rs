//! Arbitrary bytes as the files of one consume queue (6,000-byte files of 20-byte entries, as
//! in the Apache fixtures; up to three, zero-padded): opening and recovering must never panic,
//! and:
//! - recovery keeps exactly the entries before the first invalid one (negative offset or
//!   non-positive size) and returns one past the last byte they reference (blanks aside);
//! - `get` and `range` read those entries and nothing past them;
//! - `truncate_dirty(end)` drops exactly the trailing entries that reference bytes past `end`;
//! - retention (`delete_expired`), a lookup by time and one more `put` keep the queue readable
//!   and consistent.

#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use std::fs;

use libfuzzer_sys::fuzz_target;
use rmq_store::consume_queue::{ConsumeQueue, CqEntry};
use rmq_store::file_queue::FileQueue;
use rmq_store::mapped_file::file_name;

const FILE_SIZE: usize = 6000;
const MAX_FILES: usize = 3;
const ENTRY: usize = 20;

fn entry(bytes: &[u8]) -> CqEntry {
    CqEntry {
        commit_log_offset: i64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")),
        size: i32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")),
        tags_code: i64::from_be_bytes(bytes[12..20].try_into().expect("8 bytes")),
    }
}

/// `of * byte / 255`: a point chosen by the input between 0 and `of`.
fn scale(byte: Option<&u8>, of: u64) -> u64 {
    (u128::from(of) * u128::from(byte.copied().unwrap_or(0)) / 255) as u64
}

fn end_of(e: &CqEntry) -> u64 {
    e.commit_log_offset as u64 + e.size as u64
}

fuzz_target!(|data: &[u8]| {
    let files = data.len().div_ceil(FILE_SIZE).clamp(1, MAX_FILES);
    let mut image = data[..data.len().min(files * FILE_SIZE)].to_vec();
    image.resize(files * FILE_SIZE, 0);
    let dir = scratch::fresh("consume-queue").join("0");
    fs::create_dir_all(&dir).expect("creating the queue directory");
    for (i, bytes) in image.chunks(FILE_SIZE).enumerate() {
        fs::write(dir.join(file_name((i * FILE_SIZE) as u64)), bytes).expect("writing a file");
    }
    let entries: Vec<CqEntry> = image.chunks_exact(ENTRY).map(entry).collect();
    let valid = entries
        .iter()
        .take_while(|e| e.commit_log_offset >= 0 && e.size > 0)
        .count();
    let expected_end = entries[..valid]
        .iter()
        .filter(|e| !e.is_blank())
        .map(end_of)
        .max()
        .unwrap_or(0);

    let queue = ConsumeQueue::new(
        "T",
        0,
        FileQueue::open_sparse(&dir, FILE_SIZE).expect("open"),
    );
    let end = queue.recover();
    assert_eq!(end, expected_end, "recovered end");
    assert_eq!(queue.max_offset(), valid as u64, "entries kept by recovery");
    assert_eq!(queue.min_offset(), 0);
    for (n, e) in entries[..valid].iter().enumerate() {
        assert_eq!(queue.get(n as u64), Some(*e), "entry {n}");
    }
    assert_eq!(
        queue.get(valid as u64),
        None,
        "an entry past the recovered end is readable"
    );
    for from in (0..valid as u64).step_by(97) {
        for (n, e) in queue.range(from, 64) {
            assert!(n < valid as u64);
            assert_eq!(e, entries[n as usize]);
        }
    }

    // Cut the commit log somewhere: entries past the cut go, those before stay.
    let cut = scale(data.first(), expected_end);
    queue.truncate_dirty(cut).expect("truncate_dirty");
    let kept = queue.max_offset() as usize;
    assert!(kept <= valid);
    let dirty = |e: &CqEntry| !e.is_blank() && end_of(e) > cut;
    assert!(
        entries[kept..valid].iter().all(dirty),
        "a clean entry was dropped"
    );
    assert!(
        kept == 0 || !dirty(&entries[kept - 1]),
        "a dirty entry was kept"
    );
    assert!(queue.max_physical_end() <= cut);
    for (n, e) in entries[..kept].iter().enumerate().step_by(13) {
        assert_eq!(queue.get(n as u64), Some(*e));
    }
    assert_eq!(queue.get(kept as u64), None);

    // Retention below a point, a lookup by time, one more entry.
    let min_phys = scale(data.get(1), cut);
    queue.delete_expired(min_phys).expect("delete_expired");
    let (min, max) = (queue.min_offset(), queue.max_offset());
    assert!(min <= max, "min {min} past max {max}");
    let at = queue.offset_by_time(
        i64::from(data.get(2).copied().unwrap_or(0)) << 8,
        |offset, _| Some(offset),
    );
    assert!(
        at >= min && (at < max || at == min),
        "offset_by_time {at} outside [{min}, {max})"
    );
    let next = CqEntry {
        commit_log_offset: queue.max_physical_end() as i64,
        size: 100,
        tags_code: 7,
    };
    queue.put(max, next).expect("put");
    assert_eq!(queue.max_offset(), max + 1);
    assert_eq!(queue.get(max), Some(next));
});
