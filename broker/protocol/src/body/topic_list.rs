//! `TopicList`: `{"topicList":[...]}`, the body of GET_ALL_TOPIC_LIST_FROM_NAMESERVER and
//! GET_TOPICS_BY_CLUSTER.

use serde::{Deserialize, Serialize};

/// A list of topic names.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
    pub topic_list: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_list_has_the_java_shape_and_round_trips() {
        let list = TopicList {
            broker_addr: None,
            topic_list: vec!["TBW102".into(), "T".into()],
        };
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"{"topicList":["TBW102","T"]}"#);
        assert_eq!(
            crate::body::decode::<TopicList>("TopicList", json.as_bytes()).unwrap(),
            list
        );
    }
}
