//! UPDATE_AND_CREATE_TOPIC (17): create or update one topic on a broker.

use super::command_header;
use crate::body::topic_config::{TopicConfig, TopicFilterType};

command_header! {
    /// The topic to create, with its config.
    pub struct CreateTopicRequestHeader {
        topic: String => "topic",
        default_topic: String => "defaultTopic",
        read_queue_nums: i32 => "readQueueNums",
        write_queue_nums: i32 => "writeQueueNums",
        /// Permission bits (see [`crate::body::perm`]).
        perm: i32 => "perm",
        topic_filter_type: TopicFilterType => "topicFilterType",
        topic_sys_flag: Option<i32> => "topicSysFlag",
        /// `Boolean order = false` in Java, so always sent.
        order: bool => "order" or false,
        /// 5.x: `+key=value,...`.
        attributes: Option<String> => "attributes",
        force: Option<bool> => "force",
    }
}

impl CreateTopicRequestHeader {
    /// The topic config this request asks for (attributes are left to the caller to parse).
    pub fn to_topic_config(&self) -> TopicConfig {
        TopicConfig {
            topic_name: self.topic.clone(),
            read_queue_nums: self.read_queue_nums,
            write_queue_nums: self.write_queue_nums,
            perm: self.perm,
            topic_filter_type: self.topic_filter_type,
            topic_sys_flag: self.topic_sys_flag.unwrap_or(0),
            order: self.order,
            attributes: Default::default(),
            extra: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::CommandHeader;
    use super::super::testing::{assert_round_trip_and_required, fields};
    use super::*;

    fn header() -> CreateTopicRequestHeader {
        CreateTopicRequestHeader {
            topic: "T".into(),
            default_topic: "TBW102".into(),
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: 6,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: Some(0),
            order: false,
            attributes: None,
            force: Some(false),
        }
    }

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        assert_round_trip_and_required(
            &header(),
            &[
                "topic",
                "defaultTopic",
                "readQueueNums",
                "writeQueueNums",
                "perm",
                "topicFilterType",
            ],
        );
        assert_eq!(&header().to_ext_fields()["topicFilterType"], "SINGLE_TAG");
        assert_eq!(&header().to_ext_fields()["order"], "false");
    }

    #[test]
    fn an_unknown_filter_type_is_an_invalid_field() {
        let mut raw = header().to_ext_fields();
        raw.insert("topicFilterType", "SQL");
        assert!(matches!(
            CreateTopicRequestHeader::from_ext_fields(&raw),
            Err(super::super::ReadHeaderError::InvalidField {
                field: "topicFilterType",
                ..
            })
        ));
    }

    #[test]
    fn the_ali_ons_create_request_decodes() {
        let header = CreateTopicRequestHeader::from_ext_fields(&fields(&[
            ("topic", "ons_topic"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "4"),
            ("writeQueueNums", "4"),
            ("perm", "6"),
            ("topicFilterType", "MULTI_TAG"),
            ("topicSysFlag", "0"),
            ("order", "false"),
        ]))
        .unwrap();
        let config = header.to_topic_config();
        assert_eq!(config.topic_filter_type, TopicFilterType::MultiTag);
        assert_eq!(config.write_queue_nums, 4);
    }
}
