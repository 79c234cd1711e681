//! Tag subscriptions: `*` (or empty) for everything, or `TagA || TagB`.
//!
//! The consume queue keeps each message's tag hash, so the store skips non-matching entries
//! without reading the commit log; hashes collide, so the broker then compares the tag string of
//! each message it is about to return (Apache leaves that second step to the client).

use rmq_protocol::message::hash::java_string_hash;

/// A parsed tag expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagFilter {
    All,
    Tags { tags: Vec<String>, codes: Vec<i64> },
}

impl TagFilter {
    /// Parses a TAG expression as `FilterAPI.buildSubscriptionData` does.
    pub fn parse(expression: Option<&str>) -> TagFilter {
        let expression = expression.map(str::trim).unwrap_or("");
        if expression.is_empty() || expression == "*" {
            return TagFilter::All;
        }
        let mut tags: Vec<String> = expression
            .split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        tags.dedup();
        if tags.is_empty() {
            return TagFilter::All;
        }
        let codes = tags
            .iter()
            .map(|t| i64::from(java_string_hash(t)))
            .collect();
        TagFilter::Tags { tags, codes }
    }

    /// Whether a consume queue entry's tag hash may match.
    pub fn matches_code(&self, tags_code: i64) -> bool {
        match self {
            TagFilter::All => true,
            TagFilter::Tags { codes, .. } => codes.contains(&tags_code),
        }
    }

    /// Whether a message's tag string matches.
    pub fn matches_tag(&self, tag: Option<&str>) -> bool {
        match self {
            TagFilter::All => true,
            TagFilter::Tags { tags, .. } => tag.is_some_and(|t| tags.iter().any(|x| x == t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_empty_match_everything_including_untagged_messages() {
        for expr in [None, Some(""), Some("*"), Some("  *  ")] {
            let filter = TagFilter::parse(expr);
            assert_eq!(filter, TagFilter::All);
            assert!(filter.matches_tag(None));
        }
    }

    #[test]
    fn or_expression_matches_listed_tags_by_hash_and_by_string() {
        let filter = TagFilter::parse(Some("TagA || TagB"));
        assert!(filter.matches_code(i64::from(java_string_hash("TagA"))));
        assert!(filter.matches_code(i64::from(java_string_hash("TagB"))));
        assert!(!filter.matches_code(i64::from(java_string_hash("TagC"))));
        assert!(filter.matches_tag(Some("TagB")));
        assert!(!filter.matches_tag(Some("TagC")));
        assert!(!filter.matches_tag(None));
    }

    #[test]
    fn colliding_hash_is_caught_by_the_string_compare() {
        // "Aa" and "BB" have the same Java hash code.
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        let filter = TagFilter::parse(Some("Aa"));
        assert!(filter.matches_code(i64::from(java_string_hash("BB"))));
        assert!(!filter.matches_tag(Some("BB")));
    }
}
