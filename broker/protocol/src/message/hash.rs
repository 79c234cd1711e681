//! Java's `String.hashCode`, which RocketMQ uses for tag codes and index keys.

/// Java `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping in i32.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The consume-queue tag code of a `TAGS` value: its Java hash sign-extended to i64; 0 when absent or empty.
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(t) if !t.is_empty() => i64::from(java_string_hash(t)),
        _ => 0,
    }
}

/// The hash an index key is filed under: `abs(hashCode)`, or 0 when the absolute value overflows.
pub fn index_key_hash(key: &str) -> i32 {
    java_string_hash(key).checked_abs().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_java_for_known_strings() {
        // Values computed by java.lang.String#hashCode.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash("hello world"), 1_794_106_052);
        assert_eq!(java_string_hash("TopicTest#KEY1"), -1_656_969_516);
    }

    #[test]
    fn hash_uses_utf16_code_units_for_characters_outside_the_bmp() {
        // U+1F600 is the surrogate pair D83D DE00 in UTF-16: 0xD83D * 31 + 0xDE00.
        assert_eq!(java_string_hash("\u{1F600}"), 1_772_899);
    }

    #[test]
    fn tags_code_is_zero_for_absent_or_empty_tags() {
        assert_eq!(tags_code(None), 0);
        assert_eq!(tags_code(Some("")), 0);
        assert_eq!(tags_code(Some("TagA")), 2_598_919);
    }

    #[test]
    fn index_key_hash_is_never_negative() {
        assert_eq!(index_key_hash("TopicTest#KEY1"), 1_656_969_516);
        // Java: "polygenelubricants".hashCode() == Integer.MIN_VALUE, whose abs overflows.
        assert_eq!(index_key_hash("polygenelubricants"), 0);
    }
}
