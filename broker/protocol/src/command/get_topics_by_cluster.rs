//! GET_TOPICS_BY_CLUSTER (224): a name server lists the topics of one cluster, as a
//! [`TopicList`](crate::body::topic_list::TopicList) body.

use super::command_header;

command_header! {
    /// The query.
    pub struct GetTopicsByClusterRequestHeader {
        cluster: String => "cluster",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_cluster() {
        let header = GetTopicsByClusterRequestHeader {
            cluster: "DefaultCluster".into(),
        };
        assert_round_trip_and_required(&header, &["cluster"]);
    }
}
