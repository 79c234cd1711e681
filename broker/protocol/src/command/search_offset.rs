//! SEARCH_OFFSET_BY_TIMESTAMP (29): the consume-queue offset of a store time.

use super::{HeaderValue, command_header, header_field};

/// Which neighbour to answer when no message has exactly the timestamp (5.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundaryType {
    #[default]
    Lower,
    Upper,
}

impl HeaderValue for BoundaryType {
    const EXPECTED: &'static str = "LOWER or UPPER";
    fn insert_into(&self, key: &'static str, fields: &mut crate::ExtFields) {
        let text = match self {
            BoundaryType::Lower => "LOWER",
            BoundaryType::Upper => "UPPER",
        };
        fields.insert(key, text);
    }
    /// As Java's `BoundaryType.getType`: `upper` in any case is UPPER, anything else LOWER.
    fn from_field(text: &str) -> Option<Self> {
        if text.trim().eq_ignore_ascii_case("upper") {
            Some(BoundaryType::Upper)
        } else {
            Some(BoundaryType::Lower)
        }
    }
}

header_field!(BoundaryType);

command_header! {
    /// The search.
    pub struct SearchOffsetRequestHeader {
        topic: String => "topic",
        queue_id: i32 => "queueId",
        timestamp: i64 => "timestamp",
        boundary_type: Option<BoundaryType> => "boundaryType",
    }
}

command_header! {
    /// The answer.
    pub struct SearchOffsetResponseHeader {
        offset: i64 => "offset",
    }
}

#[cfg(test)]
mod tests {
    use super::super::CommandHeader;
    use super::super::testing::{assert_round_trip_and_required, fields};
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = SearchOffsetRequestHeader {
            topic: "T".into(),
            queue_id: 0,
            timestamp: 1_700_000_000_000,
            boundary_type: Some(BoundaryType::Upper),
        };
        assert_round_trip_and_required(&header, &["topic", "queueId", "timestamp"]);
    }

    #[test]
    fn boundary_type_is_read_like_java() {
        let read = |text: &str| {
            SearchOffsetRequestHeader::from_ext_fields(&fields(&[
                ("topic", "T"),
                ("queueId", "0"),
                ("timestamp", "1"),
                ("boundaryType", text),
            ]))
            .unwrap()
            .boundary_type
        };
        assert_eq!(read("upper"), Some(BoundaryType::Upper));
        assert_eq!(read("UPPER"), Some(BoundaryType::Upper));
        assert_eq!(read("LOWER"), Some(BoundaryType::Lower));
        assert_eq!(read("sideways"), Some(BoundaryType::Lower));
    }

    #[test]
    fn response_round_trips_and_requires_its_offset() {
        assert_round_trip_and_required(&SearchOffsetResponseHeader { offset: 5 }, &["offset"]);
    }
}
