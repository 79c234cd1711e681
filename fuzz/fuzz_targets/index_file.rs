//! Arbitrary bytes as an index file (512 hash slots, 2,048 items: the Apache fixtures'
//! `maxHashSlotNum`/`maxIndexNum`; zero-padded or cut to its 43,048 bytes): opening must never
//! panic, and:
//! - the loaded count stays within the file (`index_count` in 1..=max, `item` answers exactly
//!   for 1..max);
//! - a lookup in every bucket, with any time range, ends, and returns at most what was asked,
//!   each offset once;
//! - an item put afterwards is found first in its bucket by a lookup over all time.

#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rmq_protocol::message::hash::index_key_hash;
use rmq_store::index::IndexFile;
use rmq_store::index::file::Found;

const SLOTS: u32 = 512;
const ITEMS: u32 = 2048;

/// A key for every bucket: `KEYS[s]` hashes to slot `s`.
fn keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = vec![String::new(); SLOTS as usize];
        let mut missing = SLOTS;
        let mut n = 0u64;
        while missing > 0 {
            let key = format!("k{n}");
            let slot = index_key_hash(&key).unsigned_abs() % SLOTS;
            if keys[slot as usize].is_empty() {
                keys[slot as usize] = key;
                missing -= 1;
            }
            n += 1;
        }
        keys
    })
}

fn i64_at(data: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    for (i, x) in data.iter().skip(at).take(8).enumerate() {
        b[i] = *x;
    }
    i64::from_be_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    let size = IndexFile::file_size(SLOTS, ITEMS);
    let mut image = data[..data.len().min(size)].to_vec();
    image.resize(size, 0);
    let path = scratch::fresh("index-file").join("20240101000000000");
    std::fs::write(&path, &image).expect("writing the index file");
    let file =
        IndexFile::open(&path, 0, SLOTS, ITEMS).expect("an index file of the right size opens");

    let header = file.header();
    assert!((1..=ITEMS as i32).contains(&header.index_count));
    assert_eq!(file.item_count(), header.index_count as usize - 1);
    for index in [-1, 0, 1, ITEMS as i32 - 1, ITEMS as i32, i32::MAX] {
        assert_eq!(
            file.item(index).is_some(),
            index >= 1 && index < ITEMS as i32,
            "item({index})"
        );
    }
    let (begin, end) = (i64_at(data, size), i64_at(data, size + 8));
    let _ = file.is_time_matched(begin, end);
    for key in keys() {
        let mut found = Found::new(8);
        file.select(key, begin, end, &mut found);
        let offsets = found.into_offsets();
        assert!(offsets.len() <= 8);
        let mut all = Found::new(usize::MAX);
        file.select(key, i64::MIN, i64::MAX, &mut all);
        let mut seen = std::collections::HashSet::new();
        assert!(
            all.into_offsets().into_iter().all(|o| seen.insert(o)),
            "an offset twice"
        );
    }

    let key = &keys()[usize::from(data.first().copied().unwrap_or(0))];
    let (phy, stored) = (i64_at(data, 8).wrapping_abs(), i64_at(data, 0));
    if file.put(key, phy, stored) {
        let mut found = Found::new(1);
        file.select(key, i64::MIN, i64::MAX, &mut found);
        assert_eq!(
            found.into_offsets(),
            [phy],
            "the item just put is not found first"
        );
    }
    file.flush().expect("flush");
});
