//! The requests of a cluster change (`rmqctl apply`): a group's write permission on one name
//! server, a topic's route as one name server has it, and a broker's whole topic and
//! subscription-group tables (what a new group is given; see [`crate::change`]).

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::route::TopicRouteData;
use rmq_protocol::body::topic_config::TopicConfigSerializeWrapper;
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
use rmq_protocol::command::wipe_write_perm::{
    AddWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerRequestHeader,
};

use super::{Admin, decode_body};
use crate::error::RpcError;

impl Admin {
    /// WIPE_WRITE_PERM_OF_BROKER on the name server `namesrv`.
    pub async fn wipe_write_perm(&self, namesrv: &str, broker_name: &str) -> Result<(), RpcError> {
        let header = WipeWritePermOfBrokerRequestHeader {
            broker_name: broker_name.to_owned(),
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::WipeWritePermOfBroker, &header);
        self.call(namesrv, request).await.map(drop)
    }

    /// ADD_WRITE_PERM_OF_BROKER on the name server `namesrv`.
    pub async fn add_write_perm(&self, namesrv: &str, broker_name: &str) -> Result<(), RpcError> {
        let header = AddWritePermOfBrokerRequestHeader {
            broker_name: broker_name.to_owned(),
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::AddWritePermOfBroker, &header);
        self.call(namesrv, request).await.map(drop)
    }

    /// GET_ROUTEINFO_BY_TOPIC on the name server `namesrv` only; `None` when it routes no
    /// broker for the topic (TOPIC_NOT_EXIST).
    pub async fn route_on(
        &self,
        namesrv: &str,
        topic: &str,
    ) -> Result<Option<TopicRouteData>, RpcError> {
        let code = RequestCode::GetRouteinfoByTopic;
        let header = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            accept_standard_json_only: Some(true),
        };
        let response = self
            .call_accepting(
                namesrv,
                RemotingCommand::request_with_header(code, &header),
                &[ResponseCode::TopicNotExist],
            )
            .await?;
        if response.code == ResponseCode::TopicNotExist.code() {
            return Ok(None);
        }
        decode_body(namesrv, code, || TopicRouteData::decode(&response.body)).map(Some)
    }

    /// GET_ALL_TOPIC_CONFIG: every topic a broker has.
    pub async fn all_topic_configs(
        &self,
        addr: &str,
    ) -> Result<TopicConfigSerializeWrapper, RpcError> {
        let code = RequestCode::GetAllTopicConfig;
        let response = self.call(addr, RemotingCommand::request(code)).await?;
        decode_body(addr, code, || {
            TopicConfigSerializeWrapper::decode(&response.body)
        })
    }

    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG: every subscription group a broker has, by name, each
    /// a `SubscriptionGroupConfig` as the broker wrote it (sent back as is when copied).
    pub async fn all_subscription_groups(
        &self,
        addr: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, RpcError> {
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "camelCase", default)]
        struct Wrapper {
            subscription_group_table: serde_json::Map<String, serde_json::Value>,
        }
        let code = RequestCode::GetAllSubscriptiongroupConfig;
        let response = self.call(addr, RemotingCommand::request(code)).await?;
        decode_body(addr, code, || {
            rmq_protocol::body::decode::<Wrapper>("SubscriptionGroupWrapper", &response.body)
        })
        .map(|w| w.subscription_group_table)
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_BROKER: the topics a broker keeps for itself.
    pub async fn system_topics(&self, addr: &str) -> Result<TopicList, RpcError> {
        let code = RequestCode::GetSystemTopicListFromBroker;
        let response = self.call(addr, RemotingCommand::request(code)).await?;
        decode_body(addr, code, || {
            rmq_protocol::body::decode::<TopicList>("TopicList", &response.body)
        })
    }
}
