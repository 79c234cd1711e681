//! The network shell: one thin async function per request, each returning a decoded answer.
//!
//! Requests to "the name server" go to the given addresses in order; the next one is tried only
//! when a server does not answer at all (as Java clients fail over), never after a refusal.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::route::{ClusterInfo, TopicRouteData};
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::connection_list::{
    ConsumerConnection, GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader, ProducerConnection,
};
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use rmq_protocol::command::delete_topic::{
    DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
};
use rmq_protocol::command::get_consume_stats::{ConsumeStats, GetConsumeStatsRequestHeader};
use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
use rmq_protocol::command::get_topic_stats::{GetTopicStatsInfoRequestHeader, TopicStatsTable};
use rmq_protocol::command::kv_config::{
    GetKvConfigRequestHeader, GetKvConfigResponseHeader, PutKvConfigRequestHeader,
};
use rmq_protocol::command::query_message::QueryMessageRequestHeader;
use rmq_protocol::command::reset_offset::{ResetOffsetBody, ResetOffsetRequestHeader};
use rmq_protocol::command::search_offset::{SearchOffsetRequestHeader, SearchOffsetResponseHeader};
use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
use rmq_protocol::command::view_message::ViewMessageRequestHeader;
use rmq_remoting::{Client, ClientConfig};

use crate::error::{CallNamesrvError, DecodeError, RpcError};

mod change;
mod stats;

/// A client bound to a list of name servers and a per-request timeout.
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
    namesrv: Vec<String>,
    timeout: Duration,
}

impl Admin {
    /// `timeout` bounds every request, connecting included.
    pub fn new(namesrv: Vec<String>, timeout: Duration) -> Admin {
        Admin::signing(namesrv, timeout, None)
    }

    /// [`Admin::new`] signing every request with `credentials` (ACL).
    pub fn signing(
        namesrv: Vec<String>,
        timeout: Duration,
        credentials: Option<rmq_protocol::acl::Credentials>,
    ) -> Admin {
        let config = ClientConfig {
            connect_timeout: timeout,
            credentials,
            ..ClientConfig::default()
        };
        Admin::with_config(namesrv, timeout, config)
    }

    /// An admin client over connections made as `config` says (ACL account, TLS).
    pub fn with_config(namesrv: Vec<String>, timeout: Duration, config: ClientConfig) -> Admin {
        Admin {
            client: Client::new(config),
            namesrv,
            timeout,
        }
    }

    /// The name server addresses; an error if there are none.
    pub fn namesrv_addrs(&self) -> Result<&[String], CallNamesrvError> {
        if self.namesrv.is_empty() {
            return Err(CallNamesrvError::NoNamesrv);
        }
        Ok(&self.namesrv)
    }

    /// GET_BROKER_CLUSTER_INFO.
    pub async fn cluster_info(&self) -> Result<ClusterInfo, CallNamesrvError> {
        let request = RemotingCommand::request(RequestCode::GetBrokerClusterInfo);
        let (addr, response) = self.call_namesrv(request).await?;
        decode_body(&addr, RequestCode::GetBrokerClusterInfo, || {
            ClusterInfo::decode(&response.body)
        })
        .map_err(CallNamesrvError::from)
    }

    /// GET_ROUTEINFO_BY_TOPIC.
    pub async fn topic_route(&self, topic: &str) -> Result<TopicRouteData, CallNamesrvError> {
        let header = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            accept_standard_json_only: Some(true),
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::GetRouteinfoByTopic, &header);
        let (addr, response) = self.call_namesrv(request).await?;
        decode_body(&addr, RequestCode::GetRouteinfoByTopic, || {
            TopicRouteData::decode(&response.body)
        })
        .map_err(CallNamesrvError::from)
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
    pub async fn topic_list(&self) -> Result<TopicList, CallNamesrvError> {
        let code = RequestCode::GetAllTopicListFromNameserver;
        let (addr, response) = self.call_namesrv(RemotingCommand::request(code)).await?;
        decode_body(&addr, code, || {
            rmq_protocol::body::decode("TopicList", &response.body)
        })
        .map_err(CallNamesrvError::from)
    }

    /// GET_BROKER_RUNTIME_INFO from a broker.
    pub async fn runtime_info(&self, addr: &str) -> Result<KvTable, RpcError> {
        let code = RequestCode::GetBrokerRuntimeInfo;
        let response = self.call(addr, RemotingCommand::request(code)).await?;
        decode_body(addr, code, || {
            rmq_protocol::body::decode("KVTable", &response.body)
        })
    }

    /// UPDATE_AND_CREATE_TOPIC on a broker.
    pub async fn create_topic(
        &self,
        addr: &str,
        header: &CreateTopicRequestHeader,
    ) -> Result<(), RpcError> {
        let request =
            RemotingCommand::request_with_header(RequestCode::UpdateAndCreateTopic, header);
        self.call(addr, request).await.map(drop)
    }

    /// DELETE_TOPIC_IN_BROKER.
    pub async fn delete_topic_in_broker(&self, addr: &str, topic: &str) -> Result<(), RpcError> {
        let header = DeleteTopicRequestHeader {
            topic: topic.to_owned(),
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::DeleteTopicInBroker, &header);
        self.call(addr, request).await.map(drop)
    }

    /// DELETE_TOPIC_IN_NAMESRV on one name server, limited to `cluster`'s brokers.
    pub async fn delete_topic_in_namesrv(
        &self,
        addr: &str,
        topic: &str,
        cluster: &str,
    ) -> Result<(), RpcError> {
        let header = DeleteTopicFromNamesrvRequestHeader {
            topic: topic.to_owned(),
            cluster_name: Some(cluster.to_owned()),
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::DeleteTopicInNamesrv, &header);
        self.call(addr, request).await.map(drop)
    }

    /// GET_KV_CONFIG on one name server; `None` when the key is not set (QUERY_NOT_FOUND).
    pub async fn get_kv_config(
        &self,
        addr: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<String>, RpcError> {
        let code = RequestCode::GetKvConfig;
        let header = GetKvConfigRequestHeader {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
        };
        let request = RemotingCommand::request_with_header(code, &header);
        let response = self
            .call_accepting(addr, request, &[ResponseCode::QueryNotFound])
            .await?;
        if response.code == ResponseCode::QueryNotFound.code() {
            return Ok(None);
        }
        let header: GetKvConfigResponseHeader =
            response
                .decode_header()
                .map_err(|source| RpcError::Decode {
                    request: code.code(),
                    addr: addr.to_owned(),
                    what: "header",
                    source: source.into(),
                })?;
        Ok(header.value)
    }

    /// PUT_KV_CONFIG on one name server.
    pub async fn put_kv_config(
        &self,
        addr: &str,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), RpcError> {
        let header = PutKvConfigRequestHeader {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
        };
        let request = RemotingCommand::request_with_header(RequestCode::PutKvConfig, &header);
        self.call(addr, request).await.map(drop)
    }

    /// GET_TOPIC_STATS_INFO from a broker.
    pub async fn topic_stats(&self, addr: &str, topic: &str) -> Result<TopicStatsTable, RpcError> {
        let code = RequestCode::GetTopicStatsInfo;
        let header = GetTopicStatsInfoRequestHeader {
            topic: topic.to_owned(),
        };
        let response = self
            .call(addr, RemotingCommand::request_with_header(code, &header))
            .await?;
        decode_body(addr, code, || TopicStatsTable::decode(&response.body))
    }

    /// GET_CONSUME_STATS from a broker: the group's progress on `topic`, or on all its topics.
    pub async fn consume_stats(
        &self,
        addr: &str,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats, RpcError> {
        let code = RequestCode::GetConsumeStats;
        let header = GetConsumeStatsRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.map(str::to_owned),
            topic_list: None,
        };
        let response = self
            .call(addr, RemotingCommand::request_with_header(code, &header))
            .await?;
        decode_body(addr, code, || ConsumeStats::decode(&response.body))
    }

    /// VIEW_MESSAGE_BY_ID: the raw stored record at a commit log offset.
    pub async fn view_message(&self, addr: &str, offset: i64) -> Result<Bytes, RpcError> {
        let header = ViewMessageRequestHeader {
            topic: None,
            offset,
        };
        let request = RemotingCommand::request_with_header(RequestCode::ViewMessageById, &header);
        Ok(self.call(addr, request).await?.body)
    }

    /// QUERY_MESSAGE: concatenated raw records, or `None` when the index has none
    /// (QUERY_NOT_FOUND).
    pub async fn query_message(
        &self,
        addr: &str,
        header: &QueryMessageRequestHeader,
    ) -> Result<Option<Bytes>, RpcError> {
        let request = RemotingCommand::request_with_header(RequestCode::QueryMessage, header);
        let response = self
            .call_accepting(addr, request, &[ResponseCode::QueryNotFound])
            .await?;
        if response.code == ResponseCode::QueryNotFound.code() {
            return Ok(None);
        }
        Ok(Some(response.body))
    }

    /// GET_CONSUMER_CONNECTION_LIST; `None` when the group has no member online there
    /// (CONSUMER_NOT_ONLINE).
    pub async fn consumer_connections(
        &self,
        addr: &str,
        group: &str,
    ) -> Result<Option<ConsumerConnection>, RpcError> {
        let code = RequestCode::GetConsumerConnectionList;
        let header = GetConsumerConnectionListRequestHeader {
            consumer_group: group.to_owned(),
        };
        let response = self
            .call_accepting(
                addr,
                RemotingCommand::request_with_header(code, &header),
                &[ResponseCode::ConsumerNotOnline],
            )
            .await?;
        if response.code == ResponseCode::ConsumerNotOnline.code() {
            return Ok(None);
        }
        decode_body(addr, code, || {
            rmq_protocol::body::decode("ConsumerConnection", &response.body)
        })
        .map(Some)
    }

    /// GET_PRODUCER_CONNECTION_LIST; `None` when the group has no connection there.
    pub async fn producer_connections(
        &self,
        addr: &str,
        group: &str,
    ) -> Result<Option<ProducerConnection>, RpcError> {
        let code = RequestCode::GetProducerConnectionList;
        let header = GetProducerConnectionListRequestHeader {
            producer_group: group.to_owned(),
        };
        match self
            .call(addr, RemotingCommand::request_with_header(code, &header))
            .await
        {
            Ok(response) => decode_body(addr, code, || {
                rmq_protocol::body::decode("ProducerConnection", &response.body)
            })
            .map(Some),
            // Apache answers SYSTEM_ERROR "the producer group[..] not exist".
            Err(RpcError::Refused { code: answered, .. })
                if answered == ResponseCode::SystemError.code() =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET; `None` when no consumer of the group is online there
    /// (CONSUMER_NOT_ONLINE), which is when tools reset the committed offsets themselves.
    pub async fn reset_offset(
        &self,
        addr: &str,
        header: &ResetOffsetRequestHeader,
    ) -> Result<Option<ResetOffsetBody>, RpcError> {
        let code = RequestCode::InvokeBrokerToResetOffset;
        let response = self
            .call_accepting(
                addr,
                RemotingCommand::request_with_header(code, header),
                &[ResponseCode::ConsumerNotOnline],
            )
            .await?;
        if response.code == ResponseCode::ConsumerNotOnline.code() {
            return Ok(None);
        }
        decode_body(addr, code, || ResetOffsetBody::decode(&response.body)).map(Some)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP: the first offset of a queue stored at or after `timestamp`.
    pub async fn search_offset(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
        timestamp: i64,
    ) -> Result<i64, RpcError> {
        let code = RequestCode::SearchOffsetByTimestamp;
        let header = SearchOffsetRequestHeader {
            topic: topic.to_owned(),
            queue_id,
            timestamp,
            boundary_type: None,
        };
        let response = self
            .call(addr, RemotingCommand::request_with_header(code, &header))
            .await?;
        response
            .decode_header::<SearchOffsetResponseHeader>()
            .map(|h| h.offset)
            .map_err(|source| RpcError::Decode {
                request: code.code(),
                addr: addr.to_owned(),
                what: "header",
                source: source.into(),
            })
    }

    /// UPDATE_CONSUMER_OFFSET: commits `offset` for `group` on one queue.
    pub async fn commit_offset(
        &self,
        addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<(), RpcError> {
        let header = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            commit_offset: offset,
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::UpdateConsumerOffset, &header);
        self.call(addr, request).await.map(drop)
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP with a `SubscriptionGroupConfig` body.
    pub async fn update_group(
        &self,
        addr: &str,
        config: &serde_json::Value,
    ) -> Result<(), RpcError> {
        let request = RemotingCommand::request(RequestCode::UpdateAndCreateSubscriptiongroup)
            .with_body(config.to_string());
        self.call(addr, request).await.map(drop)
    }

    /// DELETE_SUBSCRIPTIONGROUP.
    pub async fn delete_group(&self, addr: &str, group: &str) -> Result<(), RpcError> {
        let request = RemotingCommand::request(RequestCode::DeleteSubscriptiongroup)
            .with_ext_field("groupName", group);
        self.call(addr, request).await.map(drop)
    }

    /// A request without header or body that only needs a SUCCESS (CLEAN_EXPIRED_CONSUMEQUEUE,
    /// DELETE_EXPIRED_COMMITLOG).
    pub async fn plain(&self, addr: &str, code: RequestCode) -> Result<(), RpcError> {
        self.call(addr, RemotingCommand::request(code))
            .await
            .map(drop)
    }

    /// GET_BROKER_CONFIG: the broker's configuration as it runs (changes made at run time
    /// included).
    pub async fn broker_config(&self, addr: &str) -> Result<BTreeMap<String, String>, RpcError> {
        let request = RemotingCommand::request(RequestCode::GetBrokerConfig);
        let answer = self.call(addr, request).await?;
        Ok(rmq_protocol::command::broker_config::string_to_properties(
            &String::from_utf8_lossy(&answer.body),
        ))
    }

    /// UPDATE_BROKER_CONFIG with `key=value` lines; the broker's remark when it applied the
    /// change but could not write it to its config file.
    pub async fn update_broker_config(
        &self,
        addr: &str,
        properties: &str,
    ) -> Result<Option<String>, RpcError> {
        let request = RemotingCommand::request(RequestCode::UpdateBrokerConfig)
            .with_body(properties.to_owned());
        self.call(addr, request).await.map(|answer| answer.remark)
    }

    /// Sends to the name servers in turn until one answers; the answer must be SUCCESS.
    async fn call_namesrv(
        &self,
        request: RemotingCommand,
    ) -> Result<(String, RemotingCommand), CallNamesrvError> {
        let addrs = self.namesrv_addrs()?;
        let mut last = None;
        for addr in addrs {
            match self.call(addr, request.clone()).await {
                Ok(response) => return Ok((addr.clone(), response)),
                Err(error @ RpcError::Transport { .. }) => last = Some(error),
                Err(error) => return Err(error.into()),
            }
        }
        match last {
            Some(last) if addrs.len() > 1 => Err(CallNamesrvError::Unreachable {
                tried: addrs.join(";"),
                last: Box::new(last),
            }),
            Some(last) => Err(last.into()),
            None => Err(CallNamesrvError::NoNamesrv),
        }
    }

    /// Sends a request; anything but SUCCESS is an error.
    async fn call(
        &self,
        addr: &str,
        request: RemotingCommand,
    ) -> Result<RemotingCommand, RpcError> {
        self.call_accepting(addr, request, &[]).await
    }

    /// Sends a request; SUCCESS and the `also` codes are answers, anything else an error.
    async fn call_accepting(
        &self,
        addr: &str,
        request: RemotingCommand,
        also: &[ResponseCode],
    ) -> Result<RemotingCommand, RpcError> {
        let code = request.code;
        let response = self
            .client
            .invoke(addr, request, self.timeout)
            .await
            .map_err(|source| RpcError::Transport {
                request: code,
                addr: addr.to_owned(),
                source,
            })?;
        let accepted = response.code == ResponseCode::Success.code()
            || also.iter().any(|ok| ok.code() == response.code);
        if !accepted {
            return Err(RpcError::Refused {
                request: code,
                addr: addr.to_owned(),
                code: response.code,
                remark: response.remark,
            });
        }
        Ok(response)
    }
}

fn decode_body<T, E: Into<DecodeError>>(
    addr: &str,
    request: RequestCode,
    decode: impl FnOnce() -> Result<T, E>,
) -> Result<T, RpcError> {
    decode().map_err(|source| RpcError::Decode {
        request: request.code(),
        addr: addr.to_owned(),
        what: "body",
        source: source.into(),
    })
}

/// Milliseconds since the epoch, for "until now" queries.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
