//! GET_ROUTEINFO_BY_TOPIC (105). The answer's body is a
//! [`TopicRouteData`](crate::body::route::TopicRouteData).

use super::command_header;

command_header! {
    /// The route query.
    pub struct GetRouteInfoRequestHeader {
        topic: String => "topic",
        /// 5.x: answer with standard JSON (quoted integer keys) whatever the client version.
        accept_standard_json_only: Option<bool> => "acceptStandardJsonOnly",
    }
}

#[cfg(test)]
mod tests {
    use super::super::CommandHeader;
    use super::super::testing::{assert_round_trip_and_required, fields};
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_topic() {
        let header = GetRouteInfoRequestHeader {
            topic: "T".into(),
            accept_standard_json_only: Some(true),
        };
        assert_round_trip_and_required(&header, &["topic"]);
    }

    #[test]
    fn the_cpp_client_header_with_acl_fields_decodes() {
        let header = GetRouteInfoRequestHeader::from_ext_fields(&fields(&[
            ("AccessKey", ""),
            ("OnsChannel", "ALIYUN"),
            ("Signature", "xyz"),
            ("topic", "X1"),
        ]))
        .unwrap();
        assert_eq!(header.topic, "X1");
        assert_eq!(header.accept_standard_json_only, None);
    }
}
