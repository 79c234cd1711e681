//! QUERY_CORRECTION_OFFSET (308): per queue, the least offset the filter groups committed,
//! or `i64::MAX` where the compare group is already behind it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command_header;

command_header! {
    /// The query; `filter_groups` is comma-separated.
    pub struct QueryCorrectionOffsetHeader {
        filter_groups: Option<String> => "filterGroups",
        compare_group: String => "compareGroup",
        topic: String => "topic",
    }
}

/// The answer: `{"correctionOffsets":{"0":5,"1":7}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryCorrectionOffsetBody {
    pub correction_offsets: BTreeMap<i32, i64>,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_requires_compare_group_and_topic_and_the_answer_reads_fastjsons_integer_keys() {
        let header = QueryCorrectionOffsetHeader {
            filter_groups: Some("a,b".into()),
            compare_group: "c".into(),
            topic: "T".into(),
        };
        assert_round_trip_and_required(&header, &["compareGroup", "topic"]);
        let body = QueryCorrectionOffsetBody {
            correction_offsets: [(0, 5)].into(),
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"correctionOffsets":{"0":5}}"#);
        assert_eq!(
            serde_json::from_str::<QueryCorrectionOffsetBody>(&json).unwrap(),
            body
        );
    }
}
