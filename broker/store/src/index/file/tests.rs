use std::path::Path;

use super::*;

const T0: i64 = 1_700_000_000_000;

fn hex(s: &str) -> Vec<u8> {
    let digits: String = s.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

fn raw(file: &IndexFile) -> Vec<u8> {
    std::fs::read(file.path()).unwrap()
}

fn create(dir: &Path, slots: u32, items: u32) -> IndexFile {
    IndexFile::create(dir, "20231114221320000", T0, slots, items, None).unwrap()
}

fn select(file: &IndexFile, key: &str, begin: i64, end: i64) -> Vec<i64> {
    let mut found = Found::new(usize::MAX);
    file.select(key, begin, end, &mut found);
    found.into_offsets()
}

#[test]
fn a_small_file_has_exactly_apaches_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), 4, 5);
    // Java hashes: "T#a" 81906 (slot 2), "T#b" 81907 (slot 3), "T#e" 81910 (slot 2).
    assert!(file.put("T#a", 0, T0));
    assert!(file.put("T#b", 100, T0 + 1_500));
    assert!(file.put("T#e", 250, T0 + 2_999));
    assert!(file.put("T#a", 400, T0 + 65_000));
    file.flush().unwrap();

    let expected = hex(concat!(
        // header: begin ts, end ts, begin phy, end phy, hashSlotCount 2, indexCount 5
        "0000018bcfe56800 0000018bcfe665e8 0000000000000000 0000000000000190 00000002 00000005",
        // slots 0..4: empty, empty, item 4, item 2
        "00000000 00000000 00000004 00000002",
        // item 0 is never used
        "00000000 0000000000000000 00000000 00000000",
        // item 1: T#a @0, +0 s, no previous
        "00013ff2 0000000000000000 00000000 00000000",
        // item 2: T#b @100, +1 s (1500 ms truncated), no previous
        "00013ff3 0000000000000064 00000001 00000000",
        // item 3: T#e @250, +2 s, previous 1 (same slot)
        "00013ff6 00000000000000fa 00000002 00000001",
        // item 4: T#a @400, +65 s, previous 3
        "00013ff2 0000000000000190 00000041 00000003",
    ));
    assert_eq!(expected.len(), IndexFile::file_size(4, 5));
    assert_eq!(raw(&file), expected);
}

#[test]
fn a_fresh_file_is_all_zeros_and_a_rolled_one_carries_the_previous_end() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = create(dir.path(), 2, 3);
    assert!(raw(&fresh).iter().all(|b| *b == 0));
    assert_eq!(fresh.header().index_count, 1);

    let rolled =
        IndexFile::create(dir.path(), "20231114221320001", T0, 2, 3, Some((T0, 4096))).unwrap();
    let bytes = raw(&rolled);
    let expected_header = hex(
        "0000018bcfe56800 0000018bcfe56800 0000000000001000 0000000000001000 00000000 00000000",
    );
    assert_eq!(&bytes[..HEADER_SIZE], expected_header.as_slice());
    assert!(bytes[HEADER_SIZE..].iter().all(|b| *b == 0));
}

#[test]
fn the_first_item_of_a_rolled_file_is_timed_from_its_own_store_time() {
    let dir = tempfile::tempdir().unwrap();
    let rolled =
        IndexFile::create(dir.path(), "20231114221320001", T0, 2, 3, Some((T0, 10))).unwrap();
    assert!(rolled.put("T#a", 20, T0 + 90_000));
    let item = rolled.item(1).unwrap();
    assert_eq!(
        item.time_diff, 0,
        "Apache would write 90 here and misplace the item in time"
    );
    assert_eq!(rolled.header().begin_timestamp, T0 + 90_000);
    assert_eq!(rolled.header().begin_phy_offset, 20);
    assert_eq!(select(&rolled, "T#a", T0 + 90_000, T0 + 90_000), vec![20]);
}

#[test]
fn colliding_keys_share_a_chain_and_only_matching_hashes_are_returned() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), 4, 16);
    // "T#a" and "T#e" land in slot 2 with different hashes.
    file.put("T#a", 1, T0);
    file.put("T#e", 2, T0);
    file.put("T#a", 3, T0);
    file.put("T#e", 4, T0);
    file.put("T#b", 5, T0);
    assert_eq!(select(&file, "T#a", 0, i64::MAX), vec![3, 1]);
    assert_eq!(select(&file, "T#e", 0, i64::MAX), vec![4, 2]);
    assert_eq!(select(&file, "T#b", 0, i64::MAX), vec![5]);
    assert_eq!(select(&file, "T#c", 0, i64::MAX), Vec::<i64>::new());
    // the chain of slot 2 is 4 -> 3 -> 2 -> 1
    assert_eq!(file.slot(2), 4);
    assert_eq!(file.item(4).unwrap().prev_index, 3);
    assert_eq!(file.item(2).unwrap().prev_index, 1);
    assert_eq!(file.header().hash_slot_count, 2);
}

#[test]
fn select_keeps_only_items_inside_the_time_window_and_stops_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), 8, 16);
    for (i, secs) in [0i64, 10, 20, 30, 40].iter().enumerate() {
        file.put("T#k", i as i64 * 100, T0 + secs * 1000);
    }
    assert_eq!(
        select(&file, "T#k", T0 + 10_000, T0 + 30_000),
        vec![300, 200, 100]
    );
    assert_eq!(
        select(&file, "T#k", T0 + 41_000, T0 + 99_000),
        Vec::<i64>::new()
    );
    assert_eq!(select(&file, "T#k", 0, T0 + 5_000), vec![0]);
    let mut two = Found::new(2);
    file.select("T#k", 0, i64::MAX, &mut two);
    assert_eq!(two.into_offsets(), vec![400, 300]);
}

#[test]
fn a_file_refuses_items_once_index_count_reaches_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), 2, 3);
    assert!(file.put("T#a", 1, T0));
    assert!(!file.is_full());
    assert!(file.put("T#b", 2, T0));
    assert!(file.is_full(), "indexCount 3 >= maxIndexNum 3");
    assert!(!file.put("T#c", 3, T0));
    assert_eq!(file.item_count(), 2);
}

#[test]
fn time_matching_follows_apache_for_overlaps_on_either_side() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), 2, 8);
    file.put("T#a", 1, 1_000);
    file.put("T#a", 2, 2_000);
    assert!(file.is_time_matched(0, 3_000), "window covers the file");
    assert!(file.is_time_matched(1_500, 9_000), "begin inside");
    assert!(file.is_time_matched(0, 1_000), "end on the first item");
    assert!(!file.is_time_matched(2_001, 9_000));
    assert!(!file.is_time_matched(0, 999));
}

#[test]
fn reopening_loads_the_header_and_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let file = create(dir.path(), 4, 8);
        file.put("T#a", 7, T0);
        file.put("T#b", 9, T0 + 2_000);
        file.flush().unwrap();
        file.path().to_path_buf()
    };
    let file = IndexFile::open(&path, T0, 4, 8).unwrap();
    let header = file.header();
    assert_eq!(
        (
            header.index_count,
            header.end_phy_offset,
            header.end_timestamp
        ),
        (3, 9, T0 + 2_000)
    );
    assert!(!file.has_unflushed());
    assert_eq!(select(&file, "T#b", 0, i64::MAX), vec![9]);
    assert!(file.put("T#a", 11, T0 + 3_000));
    assert_eq!(select(&file, "T#a", 0, i64::MAX), vec![11, 7]);
    assert!(file.has_unflushed());
}

#[test]
fn a_damaged_chain_that_points_forward_ends_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), 1, 8);
    file.put("T#a", 1, T0);
    file.put("T#a", 2, T0);
    // Make item 1 point at item 2, forming a cycle 2 -> 1 -> 2.
    let broken = IndexItem {
        prev_index: 2,
        ..file.item(1).unwrap()
    };
    file.map.write_at(file.item_pos(1), &broken.encode());
    assert_eq!(select(&file, "T#a", 0, i64::MAX), vec![2, 1]);
}

#[test]
fn header_and_item_codecs_round_trip() {
    let header = IndexHeader {
        begin_timestamp: -1,
        end_timestamp: i64::MAX,
        begin_phy_offset: 3,
        end_phy_offset: 4,
        hash_slot_count: 5,
        index_count: 6,
    };
    assert_eq!(IndexHeader::decode(&header.encode()), header);
    let item = IndexItem {
        key_hash: i32::MAX,
        phy_offset: 1 << 40,
        time_diff: 7,
        prev_index: 8,
    };
    assert_eq!(IndexItem::decode(&item.encode()), item);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn header_and_item_decode_what_they_encode(
            b in any::<i64>(), e in any::<i64>(), bp in any::<i64>(), ep in any::<i64>(),
            slots in any::<i32>(), count in any::<i32>(),
            hash in any::<i32>(), phy in any::<i64>(), diff in any::<i32>(), prev in any::<i32>(),
        ) {
            let header = IndexHeader {
                begin_timestamp: b,
                end_timestamp: e,
                begin_phy_offset: bp,
                end_phy_offset: ep,
                hash_slot_count: slots,
                index_count: count,
            };
            prop_assert_eq!(IndexHeader::decode(&header.encode()), header);
            let item = IndexItem { key_hash: hash, phy_offset: phy, time_diff: diff, prev_index: prev };
            prop_assert_eq!(IndexItem::decode(&item.encode()), item);
        }

        /// Whatever keys are put (few slots, so buckets collide), every key finds exactly the
        /// offsets stored under it, newest first, and no other key's.
        #[test]
        fn every_key_finds_exactly_its_own_offsets_newest_first(
            keys in proptest::collection::vec(0u8..12, 1..60),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let file = create(dir.path(), 4, 100);
            let mut expected: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
            for (i, k) in keys.iter().enumerate() {
                let key = format!("T#k{k}");
                let offset = 100 + i as i64;
                prop_assert!(file.put(&key, offset, T0 + i as i64));
                expected.entry(key).or_default().insert(0, offset);
            }
            for (key, offsets) in &expected {
                prop_assert_eq!(&select(&file, key, 0, i64::MAX), offsets);
            }
            prop_assert!(select(&file, "T#absent", 0, i64::MAX).is_empty());
        }
    }
}

#[test]
fn a_header_begin_timestamp_near_the_maximum_makes_lookups_end_without_overflow() {
    // A fuzz finding: begin timestamp i64::MAX plus an item's time difference overflowed.
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let file = create(dir.path(), 2, 3);
        assert!(file.put("k", 7, T0 + 5000));
        file.flush().unwrap();
        file.path().to_path_buf()
    };
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..8].copy_from_slice(&i64::MAX.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    let file = IndexFile::open(&path, T0, 2, 3).unwrap();
    assert!(select(&file, "k", 0, i64::MAX).len() <= 1);
    assert!(select(&file, "k", 0, T0).is_empty());
}
