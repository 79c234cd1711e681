use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::*;

const T0: i64 = 1_700_000_000_000;
const ALL: (i64, i64) = (0, i64::MAX);

fn query(index: &IndexService, key: &str) -> Vec<i64> {
    index.query("T", key, 1000, ALL.0, ALL.1)
}

#[test]
fn dispatch_files_the_unique_key_and_every_space_separated_key() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 16, 64).unwrap();
    assert!(
        index
            .dispatch("T", Some("k1 k2  k3"), Some("UNIQ1"), 0, T0)
            .unwrap()
    );
    assert!(
        index
            .dispatch("T", Some("k2"), None, 200, T0 + 1000)
            .unwrap()
    );
    assert_eq!(query(&index, "UNIQ1"), vec![0]);
    assert_eq!(query(&index, "k1"), vec![0]);
    assert_eq!(query(&index, "k2"), vec![200, 0]);
    assert_eq!(query(&index, "k3"), vec![0]);
    assert_eq!(
        query(&index, ""),
        Vec::<i64>::new(),
        "empty keys are not filed"
    );
    assert!(
        index.query("Other", "k1", 10, ALL.0, ALL.1).is_empty(),
        "the topic is part of the key"
    );
    assert_eq!(index.files()[0].item_count(), 5);
    assert_eq!(index.last_update(), (T0 + 1000, 200));
}

#[test]
fn a_key_given_twice_for_one_record_is_returned_once() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 16, 64).unwrap();
    index
        .dispatch("T", Some("dup dup"), Some("dup"), 40, T0)
        .unwrap();
    assert_eq!(query(&index, "dup"), vec![40]);
}

#[test]
fn redispatching_records_at_or_below_the_watermark_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 16, 64).unwrap();
    index.dispatch("T", Some("a"), None, 0, T0).unwrap();
    index.dispatch("T", Some("a"), None, 100, T0).unwrap();
    assert_eq!(index.dispatch_watermark(), Some(100));
    assert!(!index.dispatch("T", Some("a"), None, 0, T0).unwrap());
    assert!(!index.dispatch("T", Some("a"), None, 100, T0).unwrap());
    assert!(index.dispatch("T", Some("a"), None, 150, T0).unwrap());
    assert_eq!(query(&index, "a"), vec![150, 100, 0]);
    assert_eq!(index.files()[0].item_count(), 3);

    index.reset_dispatch_watermark(Some(50));
    assert!(index.dispatch("T", Some("b"), None, 100, T0).unwrap());
    assert_eq!(query(&index, "b"), vec![100]);
}

#[test]
fn the_watermark_survives_a_reopen_and_the_first_record_at_offset_zero_is_indexed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = IndexService::open(dir.path(), 16, 64).unwrap();
        assert_eq!(index.dispatch_watermark(), None);
        assert!(
            index.dispatch("T", Some("a"), None, 0, T0).unwrap(),
            "offset 0 on an empty index"
        );
        index.dispatch("T", Some("a"), None, 300, T0).unwrap();
        index.flush().unwrap();
    }
    let index = IndexService::open(dir.path(), 16, 64).unwrap();
    assert_eq!(index.dispatch_watermark(), Some(300));
    assert!(!index.dispatch("T", Some("a"), None, 300, T0).unwrap());
    assert_eq!(query(&index, "a"), vec![300, 0]);
}

#[test]
fn a_full_file_rolls_over_and_queries_span_both_files() {
    let dir = tempfile::tempdir().unwrap();
    // 3 items per file
    let index = IndexService::open(dir.path(), 4, 4).unwrap();
    for i in 0..7 {
        index
            .dispatch("T", Some("k"), None, i * 10, T0 + i * 1000)
            .unwrap();
    }
    let files = index.files();
    assert_eq!(files.len(), 3);
    assert_eq!(
        files.iter().map(|f| f.item_count()).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    let names: Vec<String> = files
        .iter()
        .map(|f| f.path().file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "names are distinct and in creation order");
    let second = files[1].header();
    assert_eq!((second.begin_phy_offset, second.end_phy_offset), (30, 50));
    assert_eq!(
        (second.begin_timestamp, second.end_timestamp),
        (T0 + 3000, T0 + 5000)
    );
    assert_eq!(query(&index, "k"), vec![60, 50, 40, 30, 20, 10, 0]);
    assert_eq!(index.query("T", "k", 4, ALL.0, ALL.1), vec![60, 50, 40, 30]);
}

#[test]
fn queries_filter_by_time_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 4, 4).unwrap();
    for i in 0..9 {
        index
            .dispatch("T", Some("k"), None, i * 10, T0 + i * 10_000)
            .unwrap();
    }
    assert_eq!(index.files().len(), 3);
    // 20 s .. 50 s spans the first two files
    assert_eq!(
        index.query("T", "k", 100, T0 + 20_000, T0 + 50_000),
        vec![50, 40, 30, 20]
    );
    assert_eq!(
        index.query("T", "k", 100, T0 + 85_000, T0 + 99_000),
        Vec::<i64>::new()
    );
    assert_eq!(index.query("T", "k", 100, 0, T0), vec![0]);
}

#[test]
fn reopening_after_flush_finds_every_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = IndexService::open(dir.path(), 8, 5).unwrap();
        for i in 0..10 {
            index
                .dispatch(
                    "T",
                    Some(&format!("key{i} common")),
                    Some(&format!("u{i}")),
                    i * 100,
                    T0 + i,
                )
                .unwrap();
        }
        assert_eq!(index.flush().unwrap(), T0 + 9);
        assert!(index.files().iter().all(|f| !f.has_unflushed()));
    }
    let index = IndexService::open(dir.path(), 8, 5).unwrap();
    assert_eq!(index.files().len(), 8, "30 items, 4 per file");
    for i in 0..10 {
        assert_eq!(query(&index, &format!("key{i}")), vec![i * 100]);
        assert_eq!(query(&index, &format!("u{i}")), vec![i * 100]);
    }
    let common: Vec<i64> = (0..10).rev().map(|i| i * 100).collect();
    assert_eq!(query(&index, "common"), common);
    assert_eq!(index.last_update(), (T0 + 9, 900));
}

#[test]
fn open_rejects_files_of_another_size_and_ignores_foreign_names() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = IndexService::open(dir.path(), 8, 5).unwrap();
        index.put("T#a", 1, T0).unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
    assert_eq!(
        IndexService::open(dir.path(), 8, 5).unwrap().files().len(),
        1
    );
    assert!(matches!(
        IndexService::open(dir.path(), 16, 5),
        Err(IndexError::File(FileError::WrongSize { .. }))
    ));
    assert!(matches!(
        IndexService::open(dir.path(), 8, 1),
        Err(IndexError::InvalidSize {
            max_index_num: 1,
            ..
        })
    ));
}

#[test]
fn delete_files_below_removes_old_files_but_never_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 4, 3).unwrap();
    for i in 0..6 {
        index.dispatch("T", Some("k"), None, i * 10, T0).unwrap();
    }
    // files end at 10, 30, 50
    assert_eq!(index.files().len(), 3);
    assert_eq!(
        index.delete_files_below(10).unwrap(),
        0,
        "end 10 is not below 10"
    );
    assert_eq!(index.delete_files_below(31).unwrap(), 2);
    assert_eq!(query(&index, "k"), vec![50, 40]);
    assert_eq!(
        index.delete_files_below(i64::MAX).unwrap(),
        0,
        "the newest file stays"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn discarding_files_newer_than_the_checkpoint_moves_the_watermark_back() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 4, 3).unwrap();
    for i in 0..6 {
        index
            .dispatch("T", Some("k"), None, i * 10, T0 + i * 1000)
            .unwrap();
    }
    // files end at (T0+1000, 10), (T0+3000, 30), (T0+5000, 50)
    assert_eq!(index.discard_newer_than(T0 + 3000).unwrap(), 1);
    // The kept file is full: its last record may have keys in the discarded one.
    assert_eq!(index.dispatch_watermark(), Some(29));
    assert_eq!(index.last_update(), (T0 + 3000, 30));
    assert!(index.dispatch("T", Some("k"), None, 40, T0 + 4000).unwrap());
    assert_eq!(query(&index, "k"), vec![40, 30, 20, 10, 0]);
    assert_eq!(index.discard_newer_than(0).unwrap(), 3);
    assert_eq!(index.dispatch_watermark(), None);
    assert!(query(&index, "k").is_empty());
}

#[test]
fn a_record_whose_keys_straddle_a_discarded_file_is_indexed_again_with_every_key() {
    let dir = tempfile::tempdir().unwrap();
    // Two items a file: the record at 20 files `a` in the first file and `b` in the second.
    let index = IndexService::open(dir.path(), 4, 3).unwrap();
    index.dispatch("T", Some("x"), None, 10, T0).unwrap();
    index
        .dispatch("T", Some("a b"), None, 20, T0 + 1000)
        .unwrap();
    index.dispatch("T", Some("c"), None, 30, T0 + 2000).unwrap();
    assert_eq!(index.files().len(), 2);
    assert_eq!(query(&index, "b"), vec![20]);
    // The checkpoint vouches for the first file only.
    assert_eq!(index.discard_newer_than(T0 + 1000).unwrap(), 1);
    assert!(
        query(&index, "b").is_empty(),
        "b went with the discarded file"
    );

    assert!(
        index
            .dispatch("T", Some("a b"), None, 20, T0 + 1000)
            .unwrap()
    );
    assert_eq!(query(&index, "a"), vec![20]);
    assert_eq!(query(&index, "b"), vec![20]);
}

#[test]
fn flush_syncs_only_files_with_new_items_and_reports_the_newest_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let index = IndexService::open(dir.path(), 4, 3).unwrap();
    assert_eq!(index.flush().unwrap(), 0, "nothing indexed yet");
    for i in 0..3 {
        index.dispatch("T", Some("k"), None, i, T0 + i).unwrap();
    }
    let files = index.files();
    assert!(files.iter().all(|f| f.has_unflushed()));
    assert_eq!(index.flush().unwrap(), T0 + 2);
    assert!(files.iter().all(|f| !f.has_unflushed()));
}

#[test]
fn concurrent_queries_during_puts_see_only_complete_items() {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(IndexService::open(dir.path(), 7, 50).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (index, done) = (Arc::clone(&index), Arc::clone(&done));
            thread::spawn(move || {
                let mut rounds = 0u64;
                while !done.load(Ordering::Acquire) {
                    for key in ["k0", "k1", "k2"] {
                        let found = index.query("T", key, 10_000, ALL.0, ALL.1);
                        let key_no: i64 = key[1..].parse().unwrap();
                        // offsets are filed as n*3 + key number: a torn item would break this
                        assert!(found.iter().all(|o| o % 3 == key_no), "{key}: {found:?}");
                        assert!(
                            found.windows(2).all(|w| w[0] > w[1]),
                            "newest first: {found:?}"
                        );
                    }
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    for n in 0..3000i64 {
        let key = format!("k{}", n % 3);
        index
            .dispatch("T", Some(&key), None, n * 3 + n % 3, T0 + n)
            .unwrap();
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    assert_eq!(query(&index, "k1").len(), 1000);
}
