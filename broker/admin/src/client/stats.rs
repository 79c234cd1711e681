//! The requests behind `statsAll` and `consumerStatus`: a broker's statistics windows, who
//! consumes a topic, and a consumer's running info (asked through the broker).

use bytes::Bytes;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::call_consumer::GetConsumerRunningInfoRequestHeader;
use rmq_protocol::command::query_topic_consume_by_who::{
    GroupList, QueryTopicConsumeByWhoRequestHeader,
};
use rmq_protocol::command::view_broker_stats::{BrokerStatsData, ViewBrokerStatsDataRequestHeader};

use super::{Admin, decode_body};
use crate::error::RpcError;

impl Admin {
    /// VIEW_BROKER_STATS_DATA: one statistic's minute, hour and day windows; `None` when the
    /// broker counted nothing under that name and key (Apache answers SYSTEM_ERROR
    /// `The stats <name> <key> not exist`).
    pub async fn broker_stats(
        &self,
        addr: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<BrokerStatsData>, RpcError> {
        let code = RequestCode::ViewBrokerStatsData;
        let header = ViewBrokerStatsDataRequestHeader {
            stats_name: name.to_owned(),
            stats_key: key.to_owned(),
        };
        match self
            .call(addr, RemotingCommand::request_with_header(code, &header))
            .await
        {
            Ok(response) => decode_body(addr, code, || {
                rmq_protocol::body::decode("BrokerStatsData", &response.body)
            })
            .map(Some),
            Err(RpcError::Refused {
                code: answered,
                remark,
                ..
            }) if answered == ResponseCode::SystemError.code()
                && remark.as_deref().is_some_and(|r| r.contains("not exist")) =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO: the groups consuming `topic` on a broker.
    pub async fn consumers_of_topic(&self, addr: &str, topic: &str) -> Result<GroupList, RpcError> {
        let code = RequestCode::QueryTopicConsumeByWho;
        let header = QueryTopicConsumeByWhoRequestHeader {
            topic: topic.to_owned(),
        };
        let response = self
            .call(addr, RemotingCommand::request_with_header(code, &header))
            .await?;
        decode_body(addr, code, || {
            rmq_protocol::body::decode("GroupList", &response.body)
        })
    }

    /// GET_CONSUMER_RUNNING_INFO: the raw running info the consumer `client_id` answered
    /// through the broker (each client library writes its own JSON dialect).
    pub async fn consumer_running_info(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
    ) -> Result<Bytes, RpcError> {
        let header = GetConsumerRunningInfoRequestHeader {
            consumer_group: group.to_owned(),
            client_id: client_id.to_owned(),
            jstack_enable: false,
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::GetConsumerRunningInfo, &header);
        Ok(self.call(addr, request).await?.body)
    }
}
