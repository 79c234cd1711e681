//! Editing a stored property string (`name 0x01 value 0x02 ...`) the way the broker rewrites
//! messages it moves between topics: set or remove one key, keep every other pair as it was.

use rmq_protocol::message::properties::{self, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR};

/// `raw` with `name` set to `value` (replacing any earlier value).
pub fn with(raw: &[u8], name: &str, value: &str) -> Vec<u8> {
    let mut out = without(raw, name);
    properties::push_property(&mut out, name, value);
    out
}

/// `raw` without `name`; the other valid pairs in their order.
pub fn without(raw: &[u8], name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 32);
    for (k, v) in properties::iter(raw) {
        if k == name.as_bytes() {
            continue;
        }
        out.extend_from_slice(k);
        out.push(NAME_VALUE_SEPARATOR);
        out.extend_from_slice(v);
        out.push(PROPERTY_SEPARATOR);
    }
    out
}

/// An integer property, `None` when absent or not a number.
pub fn int(raw: &[u8], name: &str) -> Option<i64> {
    properties::find(raw, name).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_remove_keeps_the_other_pairs_in_order() {
        let raw = b"TAGS\x01a\x02DELAY\x013\x02KEYS\x01k\x02";
        let set = with(raw, "DELAY", "5");
        assert_eq!(set, b"TAGS\x01a\x02KEYS\x01k\x02DELAY\x015\x02");
        assert_eq!(without(&set, "DELAY"), b"TAGS\x01a\x02KEYS\x01k\x02");
        assert_eq!(int(&set, "DELAY"), Some(5));
        assert_eq!(int(&set, "TAGS"), None);
        assert_eq!(with(b"", "A", "1"), b"A\x011\x02");
    }
}
