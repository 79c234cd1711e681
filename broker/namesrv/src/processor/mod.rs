//! Request processing: [`Namesrv`] holds the state and dispatches each request by code to the
//! module of its command family; the transport sees it as a [`Handler`].
//!
//! | module | codes |
//! |---|---|
//! | [`broker`] | REGISTER_BROKER, UNREGISTER_BROKER, QUERY_DATA_VERSION |
//! | [`route`] | GET_ROUTEINFO_BY_TOPIC, GET_BROKER_CLUSTER_INFO |
//! | [`topic`] | GET_ALL_TOPIC_LIST_FROM_NAMESERVER, DELETE_TOPIC_IN_NAMESRV, GET_TOPICS_BY_CLUSTER, GET_SYSTEM_TOPIC_LIST_FROM_NS, GET_UNIT_TOPIC_LIST, GET_HAS_UNIT_SUB_TOPIC_LIST, GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST |
//! | [`perm`] | WIPE_WRITE_PERM_OF_BROKER, ADD_WRITE_PERM_OF_BROKER |
//! | [`kv`] | PUT_KV_CONFIG, GET_KV_CONFIG, DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE |
//! | [`config`] | UPDATE_NAMESRV_CONFIG, GET_NAMESRV_CONFIG |
//!
//! Every other code is answered with REQUEST_CODE_NOT_SUPPORTED. A request that cannot be served
//! (bad header, bad body, a KV write that failed) is answered with SYSTEM_ERROR and the reason
//! in the remark, as Apache answers a processor exception.
//!
//! The route table sits behind a std `RwLock`: every operation is short and none awaits while
//! holding it. KV writes fsync, so they run on the blocking pool; a KV read (GET_KV_CONFIG, or
//! the order-topic namespace a REGISTER_BROKER answer carries) waits for a write in progress,
//! which costs one fsync at most and only happens on admin changes.

pub mod broker;
pub mod config;
pub mod kv;
pub mod perm;
pub mod route;
pub mod topic;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use rmq_protocol::body::{DecodeBodyError, EncodeBodyError};
use rmq_protocol::{ReadHeaderError, RemotingCommand, RequestCode, ResponseCode};
use rmq_remoting::{ConnHandle, Handler};
use tracing::{debug, warn};

use crate::config::NamesrvConfig;
use crate::kv::{KvConfigError, KvConfigStore};
use crate::metrics::{NamesrvMetrics, RouteCounts};
use crate::route::{ConnId, RouteTable};

/// The name server's state and request processing.
#[derive(Debug)]
pub struct Namesrv {
    routes: RwLock<RouteTable>,
    /// Connections that registered a broker, so an expired broker's can be closed.
    broker_conns: Mutex<HashMap<ConnId, ConnHandle>>,
    kv: Arc<Mutex<KvConfigStore>>,
    config: RwLock<NamesrvConfig>,
    metrics: NamesrvMetrics,
}

/// Serving one request failed; the answer is SYSTEM_ERROR with this as remark.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("invalid request header")]
    ReadHeader(#[from] ReadHeaderError),
    #[error("invalid request body")]
    DecodeBody(#[from] DecodeBodyError),
    #[error("response body could not be written")]
    EncodeBody(#[from] EncodeBodyError),
    /// Apache's exact remark.
    #[error("crc32 not match")]
    BodyCrcMismatch { expected: i32, actual: i32 },
    #[error("compressed REGISTER_BROKER body could not be read")]
    CompressedRegisterBody(#[from] rmq_protocol::body::register_compressed::DecodeCompressedError),
    #[error("KV config change not persisted")]
    PersistKvConfig(#[from] KvConfigError),
    #[error("KV config task did not finish")]
    KvTask(#[source] tokio::task::JoinError),
}

impl Namesrv {
    /// A name server with no brokers yet and the given KV store.
    pub fn new(config: NamesrvConfig, kv: KvConfigStore) -> Namesrv {
        Namesrv {
            routes: RwLock::new(RouteTable::new(config.broker_channel_expired_time)),
            broker_conns: Mutex::new(HashMap::new()),
            kv: Arc::new(Mutex::new(kv)),
            config: RwLock::new(config),
            metrics: NamesrvMetrics::default(),
        }
    }

    /// Answers one request that came over connection `conn`.
    pub async fn process(&self, conn: ConnId, request: &RemotingCommand) -> RemotingCommand {
        let Some(code) = request.request_code() else {
            debug!(code = request.code, "unknown request code");
            return RemotingCommand::request_code_not_supported(request);
        };
        let result = match code {
            RequestCode::RegisterBroker => broker::register(self, conn, request),
            RequestCode::UnregisterBroker => broker::unregister(self, request),
            RequestCode::QueryDataVersion => broker::query_data_version(self, request),
            RequestCode::GetRouteinfoByTopic => route::route_by_topic(self, request),
            RequestCode::GetBrokerClusterInfo => route::cluster_info(self, request),
            RequestCode::GetAllTopicListFromNameserver => topic::all_topics(self, request),
            RequestCode::DeleteTopicInNamesrv => topic::delete_topic(self, request),
            RequestCode::GetTopicsByCluster => topic::topics_by_cluster(self, request),
            RequestCode::GetSystemTopicListFromNs => topic::system_topics(self, request),
            RequestCode::GetUnitTopicList => topic::unit_topics(self, request),
            RequestCode::GetHasUnitSubTopicList => topic::has_unit_sub_topics(self, request),
            RequestCode::GetHasUnitSubUnunitTopicList => {
                topic::has_unit_sub_ununit_topics(self, request)
            }
            RequestCode::WipeWritePermOfBroker => perm::wipe_write_perm(self, request),
            RequestCode::AddWritePermOfBroker => perm::add_write_perm(self, request),
            RequestCode::PutKvConfig => kv::put(self, request).await,
            RequestCode::GetKvConfig => kv::get(self, request),
            RequestCode::DeleteKvConfig => kv::delete(self, request).await,
            RequestCode::GetKvlistByNamespace => kv::list_namespace(self, request),
            RequestCode::UpdateNamesrvConfig => config::update(self, request),
            RequestCode::GetNamesrvConfig => config::get(self, request),
            _ => {
                debug!(%code, "request code not served by a name server");
                return RemotingCommand::request_code_not_supported(request);
            }
        };
        result.unwrap_or_else(|error| {
            let remark = rmq_protocol::error_remark(&error);
            warn!(%code, error = %remark, "request failed");
            RemotingCommand::response_to(request, ResponseCode::SystemError).with_remark(remark)
        })
    }

    /// Forgets the brokers registered over a closed connection.
    pub fn connection_closed(&self, conn: ConnId) -> Vec<String> {
        self.routes_mut().connection_closed(conn)
    }

    /// Drops brokers silent for longer than their timeout and closes the connections they
    /// registered over (Apache's `scanNotActiveBroker` closes the channel): a broker that went
    /// silent is gone or hung, and its half-open connection would otherwise stay.
    pub fn scan_expired(&self, now: Instant) -> Vec<String> {
        let expired = self.routes_mut().scan_expired(now);
        let mut conns = self.conns();
        for (_, conn) in &expired {
            if let Some(handle) = conns.remove(conn) {
                handle.close();
            }
        }
        self.metrics.expired_brokers.add(expired.len() as u64);
        expired.into_iter().map(|(addr, _)| addr).collect()
    }

    /// The `/metrics` text of this name server, listening on `node_id`.
    pub fn scrape_metrics(&self, node_id: &str) -> String {
        let counts = {
            let routes = self.routes();
            RouteCounts::of(&routes.cluster_info(), routes.all_topics().len())
        };
        crate::metrics::scrape(node_id, &self.metrics, &counts)
    }

    fn conns(&self) -> MutexGuard<'_, HashMap<ConnId, ConnHandle>> {
        // A map of handles: consistent even if a holder panicked.
        self.broker_conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The current configuration (UPDATE_NAMESRV_CONFIG may change it).
    pub fn config(&self) -> NamesrvConfig {
        read(&self.config).clone()
    }

    /// A read view of the route table.
    pub fn routes(&self) -> RwLockReadGuard<'_, RouteTable> {
        read(&self.routes)
    }

    fn routes_mut(&self) -> RwLockWriteGuard<'_, RouteTable> {
        write(&self.routes)
    }

    fn kv(&self) -> MutexGuard<'_, KvConfigStore> {
        // The store is only replaced whole after a successful write, so it is consistent even
        // if a holder panicked.
        self.kv.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a KV change on the blocking pool: it writes and fsyncs a file.
    async fn change_kv(
        &self,
        change: impl FnOnce(&mut KvConfigStore) -> Result<(), KvConfigError> + Send + 'static,
    ) -> Result<(), ProcessError> {
        let kv = self.kv.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = kv.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut store)
        })
        .await
        .map_err(ProcessError::KvTask)?
        .map_err(ProcessError::from)
    }
}

impl Handler for Namesrv {
    fn handle(
        &self,
        conn: &ConnHandle,
        request: RemotingCommand,
    ) -> impl Future<Output = Option<RemotingCommand>> + Send {
        if request.code == RequestCode::RegisterBroker.code() {
            self.conns()
                .entry(conn.id())
                .or_insert_with(|| conn.clone());
        }
        let conn = conn.id();
        async move {
            let started = Instant::now();
            let response = self.process(conn, &request).await;
            self.metrics
                .requests
                .observe(request.code, response.code, started.elapsed());
            Some(response)
        }
    }

    fn connection_closed(&self, conn: &ConnHandle) {
        self.conns().remove(&conn.id());
        let removed = Namesrv::connection_closed(self, conn.id());
        if !removed.is_empty() {
            debug!(peer = %conn.peer(), ?removed, "brokers of a closed connection removed");
        }
    }
}

/// A SUCCESS answer to `request`, no header fields, no remark.
fn success(request: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(request, ResponseCode::Success)
}

/// The instant used as "now" by request processing: tokio's clock, so tests may pause it.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

// Route and config updates are single assignments or run to completion without panicking
// paths; a poisoned lock still holds a usable table.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use rmq_protocol::RemotingCommand;
    use rmq_protocol::body::topic_config::{
        DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper,
    };
    use rmq_protocol::command::register_broker::RegisterBrokerRequestHeader;
    use rmq_protocol::{RequestCode, ResponseCode};

    use super::Namesrv;
    use crate::config::NamesrvConfig;
    use crate::kv::KvConfigStore;

    /// A name server whose KV store lives in a temp dir (kept alive by the returned guard).
    pub fn namesrv() -> (tempfile::TempDir, Arc<Namesrv>) {
        let dir = tempfile::tempdir().unwrap();
        let config = NamesrvConfig {
            kv_config_path: dir.path().join("kvConfig.json"),
            ..NamesrvConfig::default()
        };
        let kv = KvConfigStore::open(&config.kv_config_path).unwrap();
        (dir, Arc::new(Namesrv::new(config, kv)))
    }

    pub fn register_header(name: &str, addr: &str, id: i64) -> RegisterBrokerRequestHeader {
        RegisterBrokerRequestHeader {
            broker_name: name.into(),
            broker_addr: addr.into(),
            cluster_name: "DefaultCluster".into(),
            ha_server_addr: format!("{addr}-ha"),
            broker_id: id,
            heartbeat_timeout_millis: None,
            enable_acting_master: None,
            compressed: false,
            body_crc32: 0,
        }
    }

    /// A REGISTER_BROKER request with a JSON body holding `topics` (4 queues, RW) at version 1.
    pub fn register_request(name: &str, addr: &str, id: i64, topics: &[&str]) -> RemotingCommand {
        let mut wrapper = TopicConfigSerializeWrapper {
            data_version: DataVersion {
                counter: 1,
                state_version: None,
                timestamp: 1,
            },
            ..TopicConfigSerializeWrapper::default()
        };
        for topic in topics {
            wrapper.topic_config_table.insert(
                (*topic).to_owned(),
                TopicConfig {
                    topic_name: (*topic).to_owned(),
                    read_queue_nums: 4,
                    write_queue_nums: 4,
                    perm: 6,
                    ..TopicConfig::default()
                },
            );
        }
        let body = RegisterBrokerBody {
            filter_server_list: vec![],
            topic_config_serialize_wrapper: wrapper,
        };
        RemotingCommand::request_with_header(
            RequestCode::RegisterBroker,
            &register_header(name, addr, id),
        )
        .with_body(body.to_json().unwrap())
    }

    /// Registers a master on connection 1 and checks it succeeded.
    pub async fn register_master(namesrv: &Namesrv, name: &str, addr: &str, topics: &[&str]) {
        let response = namesrv
            .process(1, &register_request(name, addr, 0, topics))
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use super::testing::namesrv;

    #[tokio::test]
    async fn an_unknown_code_is_answered_request_code_not_supported() {
        let (_dir, namesrv) = namesrv();
        let mut request = RemotingCommand::request(4321);
        request.opaque = 7;
        let response = namesrv.process(1, &request).await;
        assert_eq!(
            response.code,
            i32::from(ResponseCode::RequestCodeNotSupported)
        );
        assert_eq!(response.opaque, 7);
        assert!(response.is_response());
        assert_eq!(
            response.remark.as_deref(),
            Some(" request type 4321 not supported")
        );
    }

    #[tokio::test]
    async fn a_broker_code_sent_to_the_name_server_is_not_supported() {
        let (_dir, namesrv) = namesrv();
        let response = namesrv
            .process(1, &RemotingCommand::request(RequestCode::SendMessageV2))
            .await;
        assert_eq!(
            response.code,
            i32::from(ResponseCode::RequestCodeNotSupported)
        );
    }

    #[tokio::test]
    async fn a_missing_header_field_is_a_system_error_naming_it() {
        let (_dir, namesrv) = namesrv();
        let response = namesrv
            .process(
                1,
                &RemotingCommand::request(RequestCode::GetRouteinfoByTopic),
            )
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::SystemError));
        let remark = response.remark.unwrap();
        assert!(remark.contains("`topic`"), "{remark}");
    }
}
