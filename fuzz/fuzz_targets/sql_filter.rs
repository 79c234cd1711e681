//! Arbitrary text as a consumer's subscription expression (SQL92 and TAG), evaluated against
//! an arbitrary property string: parsing, compiling and evaluating must never panic (nor
//! overflow the stack), and:
//! - `SqlFilter::compile` accepts exactly what `parse` accepts, and `MessageFilter::build`
//!   agrees with both;
//! - `matches` on a property string answers as `matches_with` over `properties::find`;
//! - a TAG filter holds non-empty trimmed tags with their Java hash codes, and matches each of
//!   its tags by string and by code.
//!
//! Input: the expression, a 0x00 byte, the property string.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_broker::filter::TagFilter;
use rmq_broker::sql_filter::select::{MessageFilter, SQL92, TAG};
use rmq_broker::sql_filter::{SqlFilter, parse};
use rmq_protocol::message::hash::java_string_hash;
use rmq_protocol::message::properties;

fuzz_target!(|data: &[u8]| {
    let (expression, raw) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(expression) = std::str::from_utf8(expression) else {
        return;
    };

    let parsed = parse(expression);
    let compiled = SqlFilter::compile(expression);
    assert_eq!(parsed.is_ok(), compiled.is_ok());
    let built = MessageFilter::build(true, Some(SQL92), Some(expression));
    assert_eq!(built.is_ok(), compiled.is_ok());
    assert!(MessageFilter::build(false, Some(SQL92), Some(expression)).is_err());
    if let Ok(filter) = compiled {
        let lookup = |name: &str| properties::find(raw, name).map(str::to_owned);
        assert_eq!(filter.matches(raw), filter.matches_with(&lookup));
        if let Ok(MessageFilter::Sql(built)) = built {
            assert_eq!(built.matches(raw), filter.matches(raw));
        }
    }

    let tag = TagFilter::parse(Some(expression));
    assert_eq!(
        MessageFilter::build(false, Some(TAG), Some(expression)).ok(),
        Some(MessageFilter::Tag(tag.clone()))
    );
    match &tag {
        TagFilter::All => {
            assert!(tag.matches_code(i64::from(java_string_hash(expression))));
        }
        TagFilter::Tags { tags, codes } => {
            assert!(!tags.is_empty());
            assert_eq!(tags.len(), codes.len());
            for (t, code) in tags.iter().zip(codes) {
                assert!(!t.is_empty() && t.trim() == t, "tag {t:?}");
                assert_eq!(*code, i64::from(java_string_hash(t)));
                assert!(tag.matches_tag(Some(t)) && tag.matches_code(*code));
            }
        }
    }
    let stored_tag = properties::find(raw, properties::keys::TAGS);
    let _ = tag.matches_tag(stored_tag);
});
