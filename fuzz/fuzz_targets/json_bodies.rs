//! Arbitrary bytes as every other JSON body of the protocol (routes, cluster info, KV table,
//! topic list, heartbeat, queue locks, consumer ids, consume and topic stats with fastjson's
//! object keys): decoding must never panic, and what decodes must write (standard JSON and,
//! where the broker or name server writes it, fastjson's form) and read back to the same value.
//! The fastjson rewriters must never panic, and for standard JSON, unquoting integer keys and
//! quoting them again must give back the same bytes.
//!
//! Floats may move by one ULP through a round trip (serde_json without `float_roundtrip`).

#![no_main]

#[path = "../common/json_close.rs"]
mod json_close;

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use rmq_protocol::body::fastjson;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::route::{ClusterInfo, TopicRouteData};
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::body::{self, MessageQueue};
use rmq_protocol::command::get_consume_stats::ConsumeStats;
use rmq_protocol::command::get_consumer_list::ConsumerIdList;
use rmq_protocol::command::get_topic_stats::TopicStatsTable;
use rmq_protocol::command::heart_beat::HeartbeatData;
use rmq_protocol::command::lock_batch_mq::{LockBatchRequestBody, LockBatchResponseBody};

/// Decodes with `decode`; a value must survive each writer in `writers` (floats up to one ULP,
/// see `json_close`).
fn round_trip<T: serde::Serialize + Debug, E: Debug, F: Debug>(
    data: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, E>,
    writers: &[&dyn Fn(&T) -> Result<Vec<u8>, F>],
) {
    let Ok(value) = decode(data) else {
        return;
    };
    for write in writers {
        let written = write(&value).expect("a decoded body writes");
        let again = decode(&written).unwrap_or_else(|e| {
            panic!(
                "a written body reads: {e:?}\n{}",
                String::from_utf8_lossy(&written)
            )
        });
        json_close::assert_close(&again, &value, &String::from_utf8_lossy(&written));
    }
}

fn generic<T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + Debug>(
    name: &'static str,
    data: &[u8],
) {
    round_trip(
        data,
        |b| body::decode::<T>(name, b),
        &[&|v: &T| body::encode(name, v)],
    );
}

fuzz_target!(|data: &[u8]| {
    round_trip(
        data,
        TopicRouteData::decode,
        &[&TopicRouteData::to_json, &TopicRouteData::to_fastjson],
    );
    round_trip(
        data,
        ClusterInfo::decode,
        &[&ClusterInfo::to_json, &ClusterInfo::to_fastjson],
    );
    round_trip(data, HeartbeatData::decode, &[&HeartbeatData::to_json]);
    round_trip(
        data,
        LockBatchRequestBody::decode,
        &[&LockBatchRequestBody::to_json],
    );
    round_trip(
        data,
        LockBatchResponseBody::decode,
        &[&LockBatchResponseBody::to_json],
    );
    round_trip(data, ConsumeStats::decode, &[&ConsumeStats::to_fastjson]);
    round_trip(
        data,
        TopicStatsTable::decode,
        &[&TopicStatsTable::to_fastjson],
    );
    generic::<KvTable>("KVTable", data);
    generic::<TopicList>("TopicList", data);
    generic::<ConsumerIdList>("ConsumerIdList", data);
    generic::<MessageQueue>("MessageQueue", data);

    let _ = fastjson::quote_integer_keys(data);
    let _ = fastjson::object_keys_to_pairs(data);
    let _ = fastjson::unquote_integer_keys(data, |path| path.len() % 2 == 1);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let standard = serde_json::to_vec(&value).expect("a JSON value writes");
        let bare = fastjson::unquote_integer_keys(&standard, |_| true);
        let quoted = fastjson::quote_integer_keys(&bare);
        assert_eq!(
            String::from_utf8_lossy(&quoted),
            String::from_utf8_lossy(&standard),
            "through {}",
            String::from_utf8_lossy(&bare)
        );
    }
});
