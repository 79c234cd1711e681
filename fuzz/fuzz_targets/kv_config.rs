//! Arbitrary bytes as the name server's `kvConfig.json`: opening must never panic; a file that
//! opens takes a new entry, is written, and opens again with that entry and the entries it had
//! (in the namespaces the fuzzer's input names: `ORDER_TOPIC_CONFIG` and `fuzz`).
//!
//! Input: the file (cut at 64 KiB).

#![no_main]

#[path = "../common/scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use rmq_namesrv::kv::KvConfigStore;

const NAMESPACES: [&str; 2] = ["ORDER_TOPIC_CONFIG", "fuzz"];

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(64 * 1024)];
    let path = scratch::fresh("kv-config").join("kvConfig.json");
    std::fs::write(&path, data).expect("writing kvConfig.json");
    let Ok(mut store) = KvConfigStore::open(&path) else {
        return;
    };
    let before: Vec<_> = NAMESPACES
        .iter()
        .map(|ns| store.namespace(ns).cloned())
        .collect();
    store
        .put("added-by-fuzz", "k", "v")
        .expect("the KV config is written");
    let again = KvConfigStore::open(&path).expect("the written KV config opens");
    assert_eq!(again.get("added-by-fuzz", "k"), Some("v"));
    let after: Vec<_> = NAMESPACES
        .iter()
        .map(|ns| again.namespace(ns).cloned())
        .collect();
    assert_eq!(after, before, "entries changed through a write");
});
