//! Arbitrary bytes as the store's metadata files (`topics.json`, `consumerOffset.json`,
//! `subscriptionGroup.json`, `delayOffset.json`), read as `metadata::load` reads them (fastjson's
//! bare integer keys quoted, then serde): reading must never panic, and a table that reads must
//! be written in Apache's layout (`to_fastjson_string`, what `persist` writes) as text that
//! reads back to the same table (floats of unknown members up to one ULP: serde_json without
//! `float_roundtrip`).
//!
//! Input: byte 0 picks the table type; the rest is the file.

#![no_main]

#[path = "../common/json_close.rs"]
mod json_close;

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use rmq_store::metadata::json::{quote_bare_keys, to_fastjson_string};
use rmq_store::metadata::{
    ConsumerOffsetTable, DelayOffsetTable, SubscriptionGroupTable, TopicConfigTable,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn read<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    serde_json::from_slice(&quote_bare_keys(bytes)).ok()
}

fn check<T: DeserializeOwned + Serialize + Debug>(bytes: &[u8]) {
    let Some(table) = read::<T>(bytes) else {
        return;
    };
    let text = to_fastjson_string(&table).expect("a table read from a file writes");
    let again: T = read(text.as_bytes())
        .unwrap_or_else(|| panic!("the written table does not read back:\n{text}"));
    json_close::assert_close(&again, &table, &format!("written as:\n{text}"));
}

fuzz_target!(|data: &[u8]| {
    let [which, file @ ..] = data else {
        return;
    };
    match which % 4 {
        0 => check::<TopicConfigTable>(file),
        1 => check::<ConsumerOffsetTable>(file),
        2 => check::<SubscriptionGroupTable>(file),
        _ => check::<DelayOffsetTable>(file),
    }
});
