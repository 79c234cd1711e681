//! Topic listing and deletion: GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206),
//! DELETE_TOPIC_IN_NAMESRV (216), GET_TOPICS_BY_CLUSTER (224), GET_SYSTEM_TOPIC_LIST_FROM_NS
//! (304), GET_UNIT_TOPIC_LIST (311), GET_HAS_UNIT_SUB_TOPIC_LIST (312) and
//! GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST (313). Lists are `{"topicList":[...]}` bodies.

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::command::delete_topic::DeleteTopicFromNamesrvRequestHeader;
use rmq_protocol::command::get_topics_by_cluster::GetTopicsByClusterRequestHeader;

use super::{Namesrv, ProcessError, success};

/// Every topic with a route.
pub(super) fn all_topics(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let topics = namesrv.routes().all_topics();
    list(request, topics)
}

/// Deletes a topic's routes, on one cluster when `clusterName` is given and not empty.
pub(super) fn delete_topic(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: DeleteTopicFromNamesrvRequestHeader = request.decode_header()?;
    let cluster = header
        .cluster_name
        .as_deref()
        .filter(|name| !name.is_empty());
    namesrv.routes_mut().delete_topic(&header.topic, cluster);
    Ok(success(request))
}

/// Topics with queues in one cluster.
pub(super) fn topics_by_cluster(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: GetTopicsByClusterRequestHeader = request.decode_header()?;
    let topics = namesrv.routes().topics_by_cluster(&header.cluster);
    list(request, topics)
}

/// Cluster and broker names, with one broker address.
pub(super) fn system_topics(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let topics = namesrv.routes().system_topics();
    Ok(success(request).with_body(rmq_protocol::body::encode("TopicList", &topics)?))
}

/// Topics flagged as unit topics.
pub(super) fn unit_topics(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let topics = namesrv.routes().unit_topics();
    list(request, topics)
}

/// Topics flagged as having unit subscriptions.
pub(super) fn has_unit_sub_topics(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let topics = namesrv.routes().has_unit_sub_topics();
    list(request, topics)
}

/// Non-unit topics flagged as having unit subscriptions.
pub(super) fn has_unit_sub_ununit_topics(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let topics = namesrv.routes().has_unit_sub_ununit_topics();
    list(request, topics)
}

fn list(request: &RemotingCommand, topics: Vec<String>) -> Result<RemotingCommand, ProcessError> {
    let body = TopicList {
        broker_addr: None,
        topic_list: topics,
    };
    Ok(success(request).with_body(rmq_protocol::body::encode("TopicList", &body)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmq_protocol::body::topic_list::TopicList;
    use rmq_protocol::command::delete_topic::DeleteTopicFromNamesrvRequestHeader;
    use rmq_protocol::command::get_topics_by_cluster::GetTopicsByClusterRequestHeader;
    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use crate::processor::Namesrv;
    use crate::processor::testing::{namesrv, register_master};

    async fn topics(namesrv: &Namesrv, request: RemotingCommand) -> TopicList {
        let response = namesrv.process(1, &request).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        rmq_protocol::body::decode("TopicList", &response.body).unwrap()
    }

    #[tokio::test]
    async fn all_topics_and_topics_by_cluster_list_registered_topics() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T", "TBW102"]).await;
        let all = topics(
            &namesrv,
            RemotingCommand::request(RequestCode::GetAllTopicListFromNameserver),
        )
        .await;
        assert_eq!(all.topic_list, vec!["T", "TBW102"]);

        let by_cluster = |cluster: &str| {
            RemotingCommand::request_with_header(
                RequestCode::GetTopicsByCluster,
                &GetTopicsByClusterRequestHeader {
                    cluster: cluster.into(),
                },
            )
        };
        let listed = topics(&namesrv, by_cluster("DefaultCluster")).await;
        assert_eq!(listed.topic_list, vec!["T", "TBW102"]);
        assert!(
            topics(&namesrv, by_cluster("Other"))
                .await
                .topic_list
                .is_empty()
        );
    }

    #[tokio::test]
    async fn delete_topic_removes_its_route_and_an_empty_cluster_means_everywhere() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T", "U"]).await;
        let delete = |topic: &str, cluster: Option<&str>| {
            RemotingCommand::request_with_header(
                RequestCode::DeleteTopicInNamesrv,
                &DeleteTopicFromNamesrvRequestHeader {
                    topic: topic.into(),
                    cluster_name: cluster.map(str::to_owned),
                },
            )
        };
        let response = namesrv.process(1, &delete("T", Some(""))).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        assert!(namesrv.routes().route("T").is_none());
        namesrv
            .process(1, &delete("U", Some("DefaultCluster")))
            .await;
        assert!(namesrv.routes().route("U").is_none());
    }

    #[tokio::test]
    async fn system_topics_name_clusters_and_brokers_with_an_address() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &[]).await;
        let system = topics(
            &namesrv,
            RemotingCommand::request(RequestCode::GetSystemTopicListFromNs),
        )
        .await;
        assert_eq!(system.topic_list, vec!["DefaultCluster", "broker-a"]);
        assert_eq!(system.broker_addr.as_deref(), Some("a:1"));
    }

    #[tokio::test]
    async fn unit_lists_are_empty_without_unit_topics() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T"]).await;
        for code in [
            RequestCode::GetUnitTopicList,
            RequestCode::GetHasUnitSubTopicList,
            RequestCode::GetHasUnitSubUnunitTopicList,
        ] {
            let listed = topics(&namesrv, RemotingCommand::request(code)).await;
            assert!(listed.topic_list.is_empty(), "{code}");
        }
    }
}
