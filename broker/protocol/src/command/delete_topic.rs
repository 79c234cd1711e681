//! DELETE_TOPIC_IN_BROKER (215) and DELETE_TOPIC_IN_NAMESRV (216).

use super::command_header;

command_header! {
    /// Delete a topic from a broker.
    pub struct DeleteTopicRequestHeader {
        topic: String => "topic",
    }
}

command_header! {
    /// Delete a topic's routes from a name server; with a cluster, only that cluster's.
    pub struct DeleteTopicFromNamesrvRequestHeader {
        topic: String => "topic",
        cluster_name: Option<String> => "clusterName",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn broker_request_round_trips_and_requires_its_topic() {
        assert_round_trip_and_required(&DeleteTopicRequestHeader { topic: "T".into() }, &["topic"]);
    }

    #[test]
    fn namesrv_request_round_trips_and_requires_its_topic() {
        let header = DeleteTopicFromNamesrvRequestHeader {
            topic: "T".into(),
            cluster_name: Some("DefaultCluster".into()),
        };
        assert_round_trip_and_required(&header, &["topic"]);
    }
}
