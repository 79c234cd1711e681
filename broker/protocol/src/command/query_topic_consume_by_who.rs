//! QUERY_TOPIC_CONSUME_BY_WHO (300): the groups consuming a topic on a broker, online or with a
//! committed offset.

use serde::{Deserialize, Serialize};

use super::command_header;

command_header! {
    /// The query.
    pub struct QueryTopicConsumeByWhoRequestHeader {
        topic: String => "topic",
    }
}

/// The answer: `{"groupList":["g1","g2"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupList {
    pub group_list: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_requires_its_topic_and_the_answer_has_javas_shape() {
        assert_round_trip_and_required(
            &QueryTopicConsumeByWhoRequestHeader { topic: "T".into() },
            &["topic"],
        );
        let body = GroupList {
            group_list: vec!["g1".into()],
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"groupList":["g1"]}"#
        );
    }
}
