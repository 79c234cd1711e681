//! GET_CONSUMER_LIST_BY_GROUP (38): the client ids of a group, for rebalancing.

use serde::{Deserialize, Serialize};

use super::command_header;

command_header! {
    /// The query.
    pub struct GetConsumerListByGroupRequestHeader {
        consumer_group: String => "consumerGroup",
    }
}

/// The answer's body: `{"consumerIdList":["cid1","cid2"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerIdList {
    #[serde(default)]
    pub consumer_id_list: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_group() {
        let header = GetConsumerListByGroupRequestHeader {
            consumer_group: "cg".into(),
        };
        assert_round_trip_and_required(&header, &["consumerGroup"]);
    }

    #[test]
    fn body_has_the_java_shape() {
        let body = ConsumerIdList {
            consumer_id_list: vec!["a@1".into(), "b@2".into()],
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"consumerIdList":["a@1","b@2"]}"#);
        assert_eq!(serde_json::from_str::<ConsumerIdList>(&json).unwrap(), body);
    }
}
