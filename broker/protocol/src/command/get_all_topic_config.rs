//! GET_ALL_TOPIC_CONFIG (21): a broker's whole topic table, as a
//! [`TopicConfigSerializeWrapper`](crate::body::topic_config::TopicConfigSerializeWrapper) body.
//! 4.x requests have no header; 5.x may ask for a slice with the optional fields below.

use super::command_header;

command_header! {
    /// The optional 5.x slicing of the request; all absent means "everything".
    pub struct GetAllTopicConfigRequestHeader {
        topic_seq: Option<i32> => "topicSeq",
        data_version: Option<String> => "dataVersion",
        max_topic_num: Option<i32> => "maxTopicNum",
    }
}

command_header! {
    /// The 5.x answer header.
    pub struct GetAllTopicConfigResponseHeader {
        total_topic_num: i32 => "totalTopicNum",
    }
}

#[cfg(test)]
mod tests {
    use super::super::CommandHeader;
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn a_4x_request_without_header_reads_as_everything() {
        let header = GetAllTopicConfigRequestHeader::from_ext_fields(&Default::default()).unwrap();
        assert_eq!(header, GetAllTopicConfigRequestHeader::default());
    }

    #[test]
    fn response_round_trips_and_requires_its_count() {
        assert_round_trip_and_required(
            &GetAllTopicConfigResponseHeader { total_topic_num: 9 },
            &["totalTopicNum"],
        );
    }
}
