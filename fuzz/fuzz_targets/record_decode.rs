//! Arbitrary bytes as stored message records (a commit log slice, a pull or query body):
//! `RecordView::decode`, its accessors, `verify` and `decode_all` must never panic.
//! - A V1 record whose body CRC holds must re-encode (`encode` of its `fields()`) to exactly
//!   its own bytes.
//! - Any record whose topic fits a V1 record must re-encode to a record that decodes to the
//!   same fields and verifies.
//! - `decode_all` must yield records laid end to end from byte 0, each as `decode` reads it
//!   at its position, stopping at the first error.
//! - Dispatch (consume queue and index) must read the same tags, keys and unique key as
//!   `properties::find`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_protocol::message::hash::tags_code;
use rmq_protocol::message::properties::{self, keys};
use rmq_protocol::message::record::{self, MAGIC_V1, MAX_TOPIC_LEN_V1, RecordView};
use rmq_store::delay_level::DelayLevels;
use rmq_store::dispatch::DispatchRequest;

fn check_one(view: &RecordView<'_>) {
    let fields = view.fields();
    let verified = view.verify().is_ok();
    if view.magic() == MAGIC_V1 && view.verify_body_crc().is_ok() {
        let encoded = record::encode(&fields)
            .unwrap_or_else(|e| panic!("a decoded V1 record re-encodes: {e}"));
        assert_eq!(
            encoded,
            view.as_bytes(),
            "V1 record bytes changed through encode"
        );
    }
    if fields.topic.len() <= MAX_TOPIC_LEN_V1 {
        let encoded = record::encode(&fields).expect("a record with a short topic encodes");
        let again = RecordView::decode(&encoded).expect("an encoded record decodes");
        assert_eq!(again.fields(), fields);
        if verified {
            again.verify().expect("a re-encoded valid record verifies");
        }
    }
    let request = DispatchRequest::from_record(view);
    let props = view.properties();
    assert_eq!(request.keys, properties::find(props, keys::KEYS));
    assert_eq!(request.uniq_key, properties::find(props, keys::UNIQ_KEY));
    assert_eq!(
        request.tags_code,
        tags_code(properties::find(props, keys::TAGS))
    );
    assert_eq!(request.size as usize, view.total_size());
    let _ = request
        .with_delay_levels(&DelayLevels::default())
        .cq_entry();
}

fuzz_target!(|data: &[u8]| {
    let _ = record::peek_head(data);
    let mut at = 0;
    let mut failed = false;
    for result in record::decode_all(data) {
        assert!(!failed, "decode_all went on after an error");
        match result {
            Ok(view) => {
                let here = RecordView::decode(&data[at..]).expect("decode_all's record decodes");
                assert_eq!(here.as_bytes(), view.as_bytes());
                assert_eq!(view.as_bytes(), &data[at..at + view.total_size()]);
                check_one(&view);
                at += view.total_size();
            }
            Err(e) => {
                assert_eq!(RecordView::decode(&data[at..]).err(), Some(e));
                failed = true;
            }
        }
    }
    assert!(
        failed || at == data.len(),
        "decode_all stopped early without an error"
    );
});
