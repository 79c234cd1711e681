//! The message index: Apache's `IndexFile` format, byte for byte, so that a query by message key
//! (`KEYS`) or unique id (`UNIQ_KEY`) finds the physical offsets of the records filed under it.
//!
//! | module | what |
//! |---|---|
//! | [`file`] | one index file: header, hash slots, items; put and chain walk |
//! | [`service`] | the directory of index files: rollover, dispatch, query, flush, deletion |
//!
//! Files live in `{root}/index/`, named by their creation time `yyyyMMddHHmmssSSS` (UTC here;
//! Apache uses the JVM's local zone, which only matters for the order of mixed files). Every file
//! is `40 + maxHashSlotNum*4 + maxIndexNum*20` bytes, preallocated and memory-mapped. All integers
//! are big-endian.
//!
//! ```text
//! header, 40 bytes
//! 0        8        16              24            32            36          40
//! +--------+--------+---------------+-------------+-------------+-----------+
//! | begin  | end    | beginPhy      | endPhy      | hashSlot    | index     |
//! | ts i64 | ts i64 | Offset i64    | Offset i64  | Count i32   | Count i32 |
//! +--------+--------+---------------+-------------+-------------+-----------+
//!
//! hash slots, maxHashSlotNum x 4 bytes, at 40 + slot*4   (slot = keyHash % maxHashSlotNum)
//! +------------+------------+-----+
//! | newest i32 | newest i32 | ... |   index of the newest item of the bucket, 0 = empty
//! +------------+------------+-----+
//!
//! items, maxIndexNum x 20 bytes, at 40 + maxHashSlotNum*4 + index*20   (index 0 is never used)
//! 0          4                 12          16          20
//! +----------+-----------------+-----------+-----------+
//! | keyHash  | phyOffset i64   | timeDiff  | prevIndex |
//! | i32      |                 | i32 (s)   | i32       |
//! +----------+-----------------+-----------+-----------+
//! ```
//!
//! `keyHash` is `abs(String.hashCode(topic + "#" + key))` (0 when that overflows); `timeDiff` is the
//! store timestamp minus `beginTimestamp` in whole seconds, clamped to `0..=i32::MAX`; `prevIndex`
//! chains the items of one bucket from newest to oldest. `indexCount` is the index the next item
//! gets, so it starts at 1 and a file holds at most `maxIndexNum - 1` items. Several keys can share
//! a hash, so a query returns candidates and the caller checks the record's real keys.

pub mod file;
pub mod service;

pub use file::{HEADER_SIZE, ITEM_SIZE, IndexFile, IndexHeader, IndexItem, SLOT_SIZE};
pub use service::IndexService;

/// Length of an index file name, `yyyyMMddHHmmssSSS`.
pub const INDEX_FILE_NAME_LEN: usize = 17;

/// The name of an index file created at `millis` since the Unix epoch: its UTC time as
/// `yyyyMMddHHmmssSSS` (Apache's `UtilAll.timeMillisToHumanString`).
pub fn index_file_name(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let in_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}{milli:03}")
}

/// The creation time, in millis since the Unix epoch, that an index file name encodes, if the name
/// is a valid `yyyyMMddHHmmssSSS` time.
pub fn parse_index_file_name(name: &str) -> Option<i64> {
    if name.len() != INDEX_FILE_NAME_LEN || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| name.get(range).and_then(|s| s.parse::<i64>().ok());
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hour, minute, second, milli) = (
        field(8..10)?,
        field(10..12)?,
        field(12..14)?,
        field(14..17)?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * MILLIS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + milli)
}

const MILLIS_PER_DAY: i64 = 86_400_000;

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` / `civil_from_days`: proleptic Gregorian calendar, day 0 =
// 1970-01-01, computed in 400-year eras so no table or loop is needed.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The key an index item is filed under: `topic#key`, as Apache's `IndexService.buildKey`.
pub fn build_key(topic: &str, key: &str) -> String {
    let mut out = String::with_capacity(topic.len() + 1 + key.len());
    out.push_str(topic);
    out.push('#');
    out.push_str(key);
    out
}

/// `index_key_hash(&build_key(topic, key))` without building the key: Java's `String.hashCode`
/// folds UTF-16 units left to right, so the hash of `topic#key` continues the hash of its parts.
/// Dispatch files one or two keys per record, and the string per key was a measurable share of a
/// recovery's rebuild of the index.
pub fn key_hash(topic: &str, key: &str) -> i32 {
    let hash = java_hash_continue(java_hash_continue(0, topic), "#");
    java_hash_continue(hash, key).checked_abs().unwrap_or(0)
}

fn java_hash_continue(hash: i32, s: &str) -> i32 {
    let step = |h: i32, unit: i32| h.wrapping_mul(31).wrapping_add(unit);
    if s.is_ascii() {
        // One UTF-16 unit per byte.
        s.bytes().fold(hash, |h, b| step(h, i32::from(b)))
    } else {
        s.encode_utf16().fold(hash, |h, u| step(h, i32::from(u)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_the_utc_time_with_milliseconds() {
        assert_eq!(index_file_name(0), "19700101000000000");
        assert_eq!(index_file_name(1_700_000_000_123), "20231114221320123");
        assert_eq!(index_file_name(951_782_400_000), "20000229000000000");
        assert_eq!(index_file_name(4_102_444_799_999), "20991231235959999");
    }

    #[test]
    fn parsing_a_file_name_gives_back_its_time() {
        for millis in [
            0,
            1_700_000_000_123,
            951_782_400_000,
            4_102_444_799_999,
            1_234_567_890_001,
        ] {
            assert_eq!(
                parse_index_file_name(&index_file_name(millis)),
                Some(millis)
            );
        }
    }

    #[test]
    fn names_that_are_not_valid_times_are_rejected() {
        assert_eq!(parse_index_file_name("2023111422132012"), None, "16 digits");
        assert_eq!(parse_index_file_name("2023111422132012x"), None);
        assert_eq!(parse_index_file_name("20231314221320123"), None, "month 13");
        assert_eq!(
            parse_index_file_name("20230229221320123"),
            None,
            "2023 is not a leap year"
        );
        assert_eq!(parse_index_file_name("20231114241320123"), None, "hour 24");
        assert_eq!(
            parse_index_file_name("00000000000000000000"),
            None,
            "commit log name"
        );
    }

    #[test]
    fn file_names_sort_in_time_order() {
        let times = [999, 1_000, 86_399_999, 86_400_000, 1_700_000_000_000];
        let names: Vec<String> = times.iter().map(|t| index_file_name(*t)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn keys_are_topic_hash_key() {
        assert_eq!(build_key("TopicTest", "KEY1"), "TopicTest#KEY1");
    }

    proptest::proptest! {
        #[test]
        fn key_hash_is_the_hash_of_the_built_key(topic in "\\PC{0,12}", key in "\\PC{0,12}") {
            proptest::prop_assert_eq!(
                key_hash(&topic, &key),
                rmq_protocol::message::hash::index_key_hash(&build_key(&topic, &key))
            );
        }
    }
}
