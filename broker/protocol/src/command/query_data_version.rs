//! QUERY_DATA_VERSION (322): a broker asks a name server whether its topic config changed
//! since the last registration. The request body is the broker's
//! [`DataVersion`](crate::body::topic_config::DataVersion).

use super::command_header;

command_header! {
    /// The question.
    pub struct QueryDataVersionRequestHeader {
        broker_name: String => "brokerName",
        broker_addr: String => "brokerAddr",
        cluster_name: String => "clusterName",
        broker_id: i64 => "brokerId",
    }
}

command_header! {
    /// The answer: `changed` means "register again".
    pub struct QueryDataVersionResponseHeader {
        changed: bool => "changed",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_fields() {
        let header = QueryDataVersionRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: "10.0.0.1:10911".into(),
            cluster_name: "DefaultCluster".into(),
            broker_id: 0,
        };
        assert_round_trip_and_required(
            &header,
            &["brokerName", "brokerAddr", "clusterName", "brokerId"],
        );
    }

    #[test]
    fn response_round_trips_and_requires_changed() {
        assert_round_trip_and_required(
            &QueryDataVersionResponseHeader { changed: true },
            &["changed"],
        );
    }
}
