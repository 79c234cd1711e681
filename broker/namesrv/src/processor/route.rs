//! GET_ROUTEINFO_BY_TOPIC (105) and GET_BROKER_CLUSTER_INFO (106).
//!
//! A route answer has no header fields and no remark; its body is the `TopicRouteData` JSON in
//! the dialect Apache picks per client: fastjson's bare broker-id keys (`{0:"addr"}`) for
//! clients older than V4_9_4 (the C++ clients, ali-ons and old Java clients parse that form, and
//! some only that one), standard JSON for V4_9_4 and later or when the request says
//! `acceptStandardJsonOnly=true`.
//!
//! Producers sending to a topic that does not exist yet ask for the route of `TBW102`; it
//! exists when a broker with `autoCreateTopicEnable=true` registered it, like any other topic.

use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
use rmq_protocol::language::version;
use rmq_protocol::{RemotingCommand, ResponseCode};

use super::{Namesrv, ProcessError, success};
use crate::kv::NAMESPACE_ORDER_TOPIC_CONFIG;

/// Apache's `FAQUrl.suggestTodo(APPLY_TOPIC_URL)`, appended to TOPIC_NOT_EXIST remarks.
const APPLY_TOPIC_SUGGESTION: &str =
    "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";

/// The route of one topic, or TOPIC_NOT_EXIST.
pub(super) fn route_by_topic(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: GetRouteInfoRequestHeader = request.decode_header()?;
    let route = namesrv.routes().route(&header.topic);
    let Some(mut route) = route else {
        return Ok(
            RemotingCommand::response_to(request, ResponseCode::TopicNotExist).with_remark(
                format!(
                    "No topic route info in name server for the topic: {}{APPLY_TOPIC_SUGGESTION}",
                    header.topic
                ),
            ),
        );
    };
    if namesrv.config().order_message_enable {
        route.order_topic_conf = namesrv
            .kv()
            .get(NAMESPACE_ORDER_TOPIC_CONFIG, &header.topic)
            .map(str::to_owned);
    }
    let standard =
        request.version >= version::V4_9_4 || header.accept_standard_json_only == Some(true);
    let body = if standard {
        route.to_json()?
    } else {
        route.to_fastjson()?
    };
    Ok(success(request).with_body(body))
}

/// Every broker group by name and every cluster's broker names. Apache writes this body with
/// plain fastjson whatever the client version, so the broker-id keys are bare.
pub(super) fn cluster_info(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let info = namesrv.routes().cluster_info();
    Ok(success(request).with_body(info.to_fastjson()?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmq_protocol::body::route::{ClusterInfo, TopicRouteData};
    use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
    use rmq_protocol::language::version;
    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use crate::kv::NAMESPACE_ORDER_TOPIC_CONFIG;
    use crate::processor::testing::{namesrv, register_master};

    fn route_request(topic: &str, client_version: i32) -> RemotingCommand {
        let mut request = RemotingCommand::request_with_header(
            RequestCode::GetRouteinfoByTopic,
            &GetRouteInfoRequestHeader {
                topic: topic.into(),
                accept_standard_json_only: None,
            },
        );
        request.version = client_version;
        request
    }

    #[tokio::test]
    async fn old_clients_get_bare_broker_ids_and_no_header_fields_or_remark() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "10.0.0.1:10911", &["T"]).await;
        let response = namesrv.process(1, &route_request("T", 63)).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        assert!(response.ext_fields.is_empty());
        assert_eq!(response.remark, None);
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(
            text.contains(r#""brokerAddrs":{0:"10.0.0.1:10911"}"#),
            "{text}"
        );
        let route = TopicRouteData::decode(&response.body).unwrap();
        assert_eq!(route.queue_datas[0].broker_name, "broker-a");
    }

    #[tokio::test]
    async fn clients_from_4_9_4_or_asking_for_it_get_standard_json() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "10.0.0.1:10911", &["T"]).await;
        let response = namesrv
            .process(1, &route_request("T", version::V4_9_4))
            .await;
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(text.contains(r#"{"0":"10.0.0.1:10911"}"#), "{text}");

        let mut asking = route_request("T", version::V4_0_0);
        asking.ext_fields.insert("acceptStandardJsonOnly", "true");
        let response = namesrv.process(1, &asking).await;
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(text.contains(r#"{"0":"10.0.0.1:10911"}"#), "{text}");
    }

    #[tokio::test]
    async fn an_unknown_topic_is_topic_not_exist_with_apaches_remark() {
        let (_dir, namesrv) = namesrv();
        let response = namesrv.process(1, &route_request("Nope", 63)).await;
        assert_eq!(response.code, i32::from(ResponseCode::TopicNotExist));
        assert_eq!(
            response.remark.as_deref(),
            Some(
                "No topic route info in name server for the topic: Nope\nSee http://rocketmq.apache.org/docs/faq/ for further details."
            )
        );
        assert!(response.body.is_empty());
    }

    #[tokio::test]
    async fn the_default_topic_route_is_served_once_a_broker_registers_tbw102() {
        let (_dir, namesrv) = namesrv();
        let response = namesrv.process(1, &route_request("TBW102", 63)).await;
        assert_eq!(response.code, i32::from(ResponseCode::TopicNotExist));
        register_master(&namesrv, "broker-a", "a:1", &["TBW102"]).await;
        let response = namesrv.process(1, &route_request("TBW102", 63)).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let route = TopicRouteData::decode(&response.body).unwrap();
        assert_eq!(route.broker_datas[0].master_addr(), Some("a:1"));
    }

    #[tokio::test]
    async fn order_topic_conf_is_added_only_when_enabled() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T"]).await;
        namesrv
            .kv()
            .put(NAMESPACE_ORDER_TOPIC_CONFIG, "T", "broker-a:4")
            .unwrap();
        let response = namesrv.process(1, &route_request("T", 63)).await;
        let route = TopicRouteData::decode(&response.body).unwrap();
        assert_eq!(route.order_topic_conf, None);

        namesrv
            .process(
                1,
                &RemotingCommand::request(RequestCode::UpdateNamesrvConfig)
                    .with_body("orderMessageEnable=true\n"),
            )
            .await;
        let response = namesrv.process(1, &route_request("T", 63)).await;
        let route = TopicRouteData::decode(&response.body).unwrap();
        assert_eq!(route.order_topic_conf.as_deref(), Some("broker-a:4"));
    }

    #[tokio::test]
    async fn cluster_info_lists_registered_brokers_with_bare_ids() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &[]).await;
        let response = namesrv
            .process(
                1,
                &RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
            )
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(text.contains(r#""brokerAddrs":{0:"a:1"}"#), "{text}");
        let info = ClusterInfo::decode(&response.body).unwrap();
        assert!(info.cluster_addr_table["DefaultCluster"].contains("broker-a"));
    }
}
