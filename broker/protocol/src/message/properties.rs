//! The message property string: `name 0x01 value 0x02 name 0x01 value 0x02 ...`.
//!
//! The encoder writes a `0x02` after every pair. The decoder follows Apache's
//! `MessageDecoder.string2messageProperties`: segments are split on `0x02`; a segment counts only if it
//! is at least 3 bytes long and holds a `0x01` that is neither its first nor its last byte, so empty
//! names and values are dropped. Both separators are ASCII, so splitting the UTF-8 bytes is exact.

/// Separates a name from its value.
pub const NAME_VALUE_SEPARATOR: u8 = 1;
/// Ends every name/value pair.
pub const PROPERTY_SEPARATOR: u8 = 2;

/// Well-known property names (`MessageConst`).
pub mod keys {
    pub const TAGS: &str = "TAGS";
    pub const KEYS: &str = "KEYS";
    pub const WAIT: &str = "WAIT";
    pub const DELAY: &str = "DELAY";
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    pub const REAL_QID: &str = "REAL_QID";
    pub const TRAN_MSG: &str = "TRAN_MSG";
    pub const PGROUP: &str = "PGROUP";
    pub const MIN_OFFSET: &str = "MIN_OFFSET";
    pub const MAX_OFFSET: &str = "MAX_OFFSET";
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
    pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
    pub const TRAN_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
    pub const TRANSACTION_ID: &str = "__transactionId__";
    pub const MSG_REGION: &str = "MSG_REGION";
    pub const TRACE_ON: &str = "TRACE_ON";
    pub const CLUSTER: &str = "CLUSTER";
    pub const CONSUME_START_TIME: &str = "CONSUME_START_TIME";
    pub const BUYER_ID: &str = "BUYER_ID";
    pub const SHARDING_KEY: &str = "__SHARDINGKEY";
    /// Request-reply: the requester's client id, where the broker pushes the reply.
    pub const REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
    /// Request-reply: matches a reply to its request on the requester.
    pub const CORRELATION_ID: &str = "CORRELATION_ID";
    /// Request-reply: when the broker pushed the reply (ms), added to the pushed copy only.
    pub const PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
}

/// Appends one `name 0x01 value 0x02` pair.
pub fn push_property(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.push(NAME_VALUE_SEPARATOR);
    out.extend_from_slice(value.as_bytes());
    out.push(PROPERTY_SEPARATOR);
}

/// Encodes pairs in the given order.
pub fn encode<'a, I>(pairs: I) -> Vec<u8>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = Vec::new();
    for (name, value) in pairs {
        push_property(&mut out, name, value);
    }
    out
}

/// Iterates the valid pairs of a property string without allocating, in stored order.
pub fn iter(raw: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    raw.split(|b| *b == PROPERTY_SEPARATOR)
        .filter_map(|segment| {
            if segment.len() < 3 {
                return None;
            }
            let sep = segment.iter().position(|b| *b == NAME_VALUE_SEPARATOR)?;
            if sep == 0 || sep >= segment.len() - 1 {
                return None;
            }
            Some((&segment[..sep], &segment[sep + 1..]))
        })
}

/// The value of `name`, if present and valid UTF-8. The last occurrence wins, as in a Java map.
pub fn find<'a>(raw: &'a [u8], name: &str) -> Option<&'a str> {
    let name = name.as_bytes();
    if name.is_empty() || name.contains(&NAME_VALUE_SEPARATOR) {
        // A stored name is never empty and ends at the first separator.
        return None;
    }
    // From the end, so the first match is the last occurrence. A send looks up several names
    // in a string of a few short pairs: the name is compared in line, no `memcmp` call.
    raw.rsplit(|b| *b == PROPERTY_SEPARATOR)
        .find_map(|segment| {
            let head = segment.get(..=name.len())?;
            let matches = head[name.len()] == NAME_VALUE_SEPARATOR
                && head.iter().zip(name).all(|(a, b)| a == b)
                && segment.len() > name.len() + 1;
            matches.then(|| &segment[name.len() + 1..])
        })
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// Which of `names` [`find`] would answer `Some` for, in one pass over `raw` instead of one per
/// name. As in `find`, the last pair of a name decides: an earlier valid value does not count
/// when the last one is not UTF-8.
pub fn contains_each<const N: usize>(raw: &[u8], names: [&str; N]) -> [bool; N] {
    let mut found = [false; N];
    for (name, value) in iter(raw) {
        for (slot, wanted) in found.iter_mut().zip(names) {
            if name == wanted.as_bytes() {
                *slot = std::str::from_utf8(value).is_ok();
            }
        }
    }
    found
}

/// Decodes into owned pairs, dropping invalid UTF-8 segments; later duplicates replace earlier ones.
pub fn decode(raw: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in iter(raw) {
        let (Ok(k), Ok(v)) = (std::str::from_utf8(k), std::str::from_utf8(v)) else {
            continue;
        };
        match out.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v.to_owned(),
            None => out.push((k.to_owned(), v.to_owned())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encode_writes_separator_after_every_pair() {
        let raw = encode([("TAGS", "TagA"), ("KEYS", "k1 k2")]);
        assert_eq!(raw, b"TAGS\x01TagA\x02KEYS\x01k1 k2\x02");
    }

    #[test]
    fn decode_drops_empty_names_and_values_like_apache() {
        let raw = b"\x01v\x02k\x01\x02ok\x01yes\x02x\x02\x02a\x01b";
        assert_eq!(
            decode(raw),
            vec![
                ("ok".to_owned(), "yes".to_owned()),
                ("a".to_owned(), "b".to_owned())
            ]
        );
    }

    #[test]
    fn find_returns_the_value_of_a_key_and_none_for_a_missing_one() {
        let raw = encode([("TAGS", "TagA"), ("UNIQ_KEY", "ABC")]);
        assert_eq!(find(&raw, keys::TAGS), Some("TagA"));
        assert_eq!(find(&raw, keys::UNIQ_KEY), Some("ABC"));
        assert_eq!(find(&raw, keys::KEYS), None);
    }

    #[test]
    fn value_may_contain_the_name_separator() {
        let raw = b"k\x01a\x01b\x02";
        assert_eq!(find(raw, "k"), Some("a\x01b"));
    }

    #[test]
    fn contains_each_is_decided_by_the_last_pair_of_a_name_as_find_is() {
        let raw = b"a\x01ok\x02a\x01\xff\x02b\x01\xff\x02b\x01ok\x02";
        assert_eq!(find(raw, "a"), None);
        assert_eq!(find(raw, "b"), Some("ok"));
        assert_eq!(contains_each(raw, ["a", "b"]), [false, true]);
    }

    proptest! {
        #[test]
        fn find_answers_as_the_last_valid_pair_of_that_name(
            raw in proptest::collection::vec(prop_oneof![Just(1u8), Just(2u8), Just(b'a'), Just(b'b')], 0..24),
            name in "[ab\x01\x02]{0,2}",
        ) {
            let expected = iter(&raw)
                .filter(|(k, _)| *k == name.as_bytes())
                .last()
                .and_then(|(_, v)| std::str::from_utf8(v).ok());
            prop_assert_eq!(find(&raw, &name), expected);
        }

        #[test]
        fn contains_each_answers_as_find_does_for_every_name(
            raw in proptest::collection::vec(prop_oneof![Just(1u8), Just(2u8), Just(b'a'), Just(b'b'), Just(0xffu8)], 0..24),
            a in "[ab]{1,2}",
            b in "[ab]{1,2}",
        ) {
            let expected = [find(&raw, &a).is_some(), find(&raw, &b).is_some()];
            prop_assert_eq!(contains_each(&raw, [a.as_str(), b.as_str()]), expected);
        }

        #[test]
        fn decode_inverts_encode_for_names_and_values_without_separators(
            pairs in proptest::collection::btree_map("[a-zA-Z_]{1,12}", "[^\x01\x02]{1,20}", 0..8)
        ) {
            let raw = encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let decoded = decode(&raw);
            let expected: Vec<(String, String)> = pairs.into_iter().collect();
            prop_assert_eq!(decoded, expected);
        }
    }
}
