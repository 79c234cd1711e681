//! Arbitrary bytes as a stored message property string (`name 0x01 value 0x02 ...`) and a name to
//! look up: nothing may panic; `iter`, `find` and `contains_each` must agree (the last
//! well-formed pair of a name decides, and a value that is not UTF-8 counts as absent);
//! `decode` must invert `encode`; the broker's edits must set (`props::with`) or remove
//! (`props::without`) exactly that name and keep every other pair as it was; `props::int` must
//! read what `find` reads.
//!
//! Input: the name, a 0x00 byte, the property string (without a 0x00, the name is `TAGS`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_broker::props;
use rmq_protocol::message::properties::{self, keys};

/// What `find` must answer, from `iter`.
fn expected_find<'a>(raw: &'a [u8], name: &str) -> Option<&'a str> {
    properties::iter(raw)
        .filter(|(k, _)| *k == name.as_bytes())
        .last()
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

fuzz_target!(|data: &[u8]| {
    let (name, raw) = match data.iter().position(|b| *b == 0) {
        Some(at) => (
            String::from_utf8_lossy(&data[..at]).into_owned(),
            &data[at + 1..],
        ),
        None => (keys::TAGS.to_owned(), data),
    };
    let name = name.as_str();

    let found = properties::find(raw, name);
    assert_eq!(found, expected_find(raw, name), "find({name:?})");
    for (k, _) in properties::iter(raw) {
        assert!(!k.is_empty() && !k.contains(&properties::NAME_VALUE_SEPARATOR));
        if let Ok(k) = std::str::from_utf8(k) {
            assert_eq!(
                properties::find(raw, k),
                expected_find(raw, k),
                "find({k:?})"
            );
        }
    }
    let each = properties::contains_each(raw, [name, keys::KEYS, keys::UNIQ_KEY]);
    assert_eq!(
        each,
        [
            found.is_some(),
            properties::find(raw, keys::KEYS).is_some(),
            properties::find(raw, keys::UNIQ_KEY).is_some()
        ]
    );

    let decoded = properties::decode(raw);
    let encoded = properties::encode(decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(properties::decode(&encoded), decoded);
    for (k, v) in &decoded {
        assert_eq!(properties::find(&encoded, k), Some(v.as_str()));
    }

    assert_eq!(
        props::int(raw, name),
        found.and_then(|v| v.trim().parse::<i64>().ok())
    );
    let without = props::without(raw, name);
    let kept: Vec<_> = properties::iter(raw)
        .filter(|(k, _)| *k != name.as_bytes())
        .collect();
    assert_eq!(properties::iter(&without).collect::<Vec<_>>(), kept);
    let valid_name = !name.is_empty() && !name.contains(['\u{1}', '\u{2}']);
    if valid_name {
        let value = "fuzz\u{1}value";
        let with = props::with(raw, name, value);
        assert_eq!(properties::find(&with, name), Some(value));
        let others: Vec<_> = properties::iter(&with)
            .filter(|(k, _)| *k != name.as_bytes())
            .collect();
        assert_eq!(others, kept);
    }
});
