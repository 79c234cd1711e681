//! QUERY_CONSUME_QUEUE (321): raw consume queue entries from an index (`mqadmin queryCq`).

use serde::{Deserialize, Serialize};

use super::command_header;
use super::heart_beat::SubscriptionData;

command_header! {
    /// Up to `count` entries of queue `queue_id` of `topic` from entry `index`.
    pub struct QueryConsumeQueueRequestHeader {
        topic: String => "topic",
        queue_id: i32 => "queueId",
        index: i64 => "index",
        count: i32 => "count",
        consumer_group: Option<String> => "consumerGroup",
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeQueueData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_map: Option<String>,
    pub eval: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extend_data_json: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    pub physic_offset: i64,
    pub physic_size: i32,
    pub tags_code: i64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryConsumeQueueResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_data: Option<String>,
    pub max_queue_index: i64,
    pub min_queue_index: i64,
    pub queue_data: Vec<ConsumeQueueData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_data: Option<SubscriptionData>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CommandHeader;

    #[test]
    fn the_header_reads_javas_fields_and_the_body_has_javas_names() {
        let header = QueryConsumeQueueRequestHeader {
            topic: "T".into(),
            queue_id: 1,
            index: 5,
            count: 10,
            consumer_group: None,
        };
        let back =
            QueryConsumeQueueRequestHeader::from_ext_fields(&header.to_ext_fields()).unwrap();
        assert_eq!(back, header);
        let body = QueryConsumeQueueResponseBody {
            queue_data: vec![ConsumeQueueData {
                physic_offset: 100,
                physic_size: 20,
                tags_code: 7,
                ..ConsumeQueueData::default()
            }],
            max_queue_index: 6,
            ..QueryConsumeQueueResponseBody::default()
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"maxQueueIndex":6,"minQueueIndex":0,"queueData":[{"eval":false,"physicOffset":100,"physicSize":20,"tagsCode":7}]}"#
        );
    }
}
