//! Start-up and shutdown: opens the store, loads metadata, builds the shared [`Broker`], binds
//! the listeners and starts the periodic services; [`RunningBroker::shutdown`] stops them in
//! order.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::AtomicI32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmq_protocol::RemotingCommand;
use rmq_remoting::{Client, ConnHandle, Handler, ServerConfig, serve};
use rmq_store::MessageStore;
use rmq_store::error::{MetadataError, OpenStoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::clients::Clients;
use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::groups::Groups;
use crate::ha::Replication;
use crate::long_poll::PullWaiters;
use crate::offsets::ConsumerOffsets;
use crate::state::Broker;
use crate::stats::{Counters, DayMarks, History, Items};
use crate::stop_signal::stopped;
use crate::topics::Topics;
use crate::{notify, processor, register};

/// The remoting handler: one dispatch by request code.
#[derive(Debug, Clone)]
pub struct BrokerHandler {
    pub broker: Arc<Broker>,
}

impl Handler for BrokerHandler {
    async fn handle(&self, conn: &ConnHandle, request: RemotingCommand) -> Option<RemotingCommand> {
        if let Some(rules) = &self.broker.acl
            && let Some(reason) = crate::acl::gate::refused(rules, conn.peer(), &request)
        {
            warn!(peer = %conn.peer(), code = request.code, %reason, "request refused by ACL");
            return (!request.is_oneway()).then(|| crate::acl::gate::answer(&request, &reason));
        }
        let started = Instant::now();
        let code = request.code;
        let response = processor::dispatch(&self.broker, conn, request).await;
        self.broker
            .metrics
            .request(code, response.code, started.elapsed());
        Some(response)
    }

    fn connection_closed(&self, conn: &ConnHandle) {
        let changed = self.broker.clients().connection_closed(conn.id());
        if !changed.is_empty() {
            info!(peer = %conn.peer(), groups = ?changed, "consumer connection closed");
            notify::consumer_ids_changed(&self.broker, &changed);
        }
    }
}

/// A broker that is serving.
#[derive(Debug)]
pub struct RunningBroker {
    broker: Arc<Broker>,
    local_addr: SocketAddr,
    fast_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    health_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningBroker {
    /// The main listener's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The Prometheus endpoint's address, when `metricsExporterType=PROM`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The health endpoint's address, when `healthListenPort` is set.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health_addr
    }

    /// The `listenPort - 2` listener's address, when it runs.
    pub fn fast_addr(&self) -> Option<SocketAddr> {
        self.fast_addr
    }

    /// Shared state, for tests and tools.
    pub fn broker(&self) -> &Arc<Broker> {
        &self.broker
    }

    /// Stops accepting, answers suspended pulls, drains connections, unregisters from name
    /// servers, persists offsets and shuts the store down cleanly.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.broker.waiters.wake_all();
        while self.tasks.join_next().await.is_some() {}
        register::unregister_all(&self.broker).await;
        crate::schedule::service::persist(&self.broker);
        if let Err(error) = self.broker.offsets.persist() {
            error!(error = %error, "consumer offsets could not be persisted at shutdown");
        }
        let store = self.broker.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
        info!("broker stopped");
    }
}

/// Starting the broker failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store could not be opened")]
    Store(#[from] OpenStoreError),
    #[error("metadata could not be loaded")]
    Metadata(#[from] MetadataError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("replication could not start")]
    Replication(#[from] rmq_store::error::ReplicaAppendError),
    #[error(
        "aclEnable=true but neither rocketmqHome (broker.conf) nor ROCKETMQ_HOME says where conf/plain_acl.yml is"
    )]
    AclHomeMissing,
    #[error("ACL rules could not be loaded")]
    Acl(#[from] crate::acl::rules::AclLoadError),
    #[error("TLS could not be set up")]
    Tls(#[from] rmq_remoting::tls::config::TlsSetupError),
}

/// The ACL rules when `aclEnable=true`: `{rocketmqHome}/conf/plain_acl.yml`.
fn load_acl(config: &BrokerConfig) -> Result<Option<Arc<crate::acl::rules::AclRules>>, StartError> {
    if !config.acl_enable {
        return Ok(None);
    }
    let env = std::env::var("ROCKETMQ_HOME").ok();
    let home = crate::acl::rules::rocketmq_home(Some(&config.rocketmq_home), env.as_deref())
        .ok_or(StartError::AclHomeMissing)?;
    let rules = crate::acl::rules::AclRules::load(crate::acl::rules::acl_file(&home))?;
    info!(file = %rules.path().display(), accounts = rules.current().accounts.len(), "ACL on");
    Ok(Some(Arc::new(rules)))
}

/// How often `plain_acl.yml` is checked for changes.
const ACL_RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Reloads the ACL rules when their file changes, until the broker stops.
async fn reload_acl(rules: Arc<crate::acl::rules::AclRules>, stopping: watch::Receiver<bool>) {
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(ACL_RELOAD_EVERY) => {}
        }
        let checked = rules.clone();
        match tokio::task::spawn_blocking(move || checked.reload_if_changed()).await {
            Ok(crate::acl::rules::Reload::Unchanged) => {}
            Ok(crate::acl::rules::Reload::Reloaded) => {
                info!(file = %rules.path().display(), accounts = rules.current().accounts.len(), "ACL rules reloaded");
            }
            Ok(crate::acl::rules::Reload::Refused(error)) => {
                error!(error = %rmq_protocol::error_remark(&error), "ACL file changed but is refused; the previous rules stay in force");
            }
            Err(join) => warn!(error = %join, "ACL reload task failed"),
        }
    }
}

/// Opens the store, loads metadata, binds the listeners and starts the periodic services.
pub async fn start(config: BrokerConfig) -> Result<RunningBroker, StartError> {
    start_with_clock(config, Clock::system()).await
}

/// [`start`] with the wall clock every part of the broker reads (tests pass a manual one).
pub async fn start_with_clock(
    mut config: BrokerConfig,
    clock: Clock,
) -> Result<RunningBroker, StartError> {
    for key in &config.unknown_keys {
        warn!(%key, "unknown broker.conf key ignored");
    }
    let acl = load_acl(&config)?;
    let tls = crate::tls::TlsSetup::new(&mut config)?;
    // listenPort=0 (tests): every port, the HA port included, is chosen by the kernel.
    let ephemeral = config.listen_port == 0;
    let bind = SocketAddr::new(config.bind_address, config.listen_port);
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| StartError::Bind { addr: bind, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr: bind, source })?;
    // Port 0 (tests): advertise the port the kernel chose.
    if config.listen_port == 0 {
        config.listen_port = local_addr.port();
        config.ha_listen_port = local_addr.port().saturating_add(1);
    }
    let fast_listener = if config.fast_listen_enable && config.listen_port > 2 {
        let fast = SocketAddr::new(config.bind_address, config.listen_port - 2);
        match TcpListener::bind(fast).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                warn!(addr = %fast, %error, "fast listener (listenPort - 2) not started");
                None
            }
        }
    } else {
        None
    };
    let metrics_listener = match config.metrics_exporter {
        crate::config::MetricsExporter::Prom => {
            let addr = config
                .metrics_prom_host
                .addr(config.bind_address, config.metrics_prom_port);
            Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            )
        }
        crate::config::MetricsExporter::Disable => None,
    };
    let health_listener = match config.health_listen_port {
        0 => None,
        port => {
            let addr = SocketAddr::new(config.bind_address, port);
            Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            )
        }
    };
    if ephemeral {
        config.ha_listen_port = 0;
    }
    let ha_listener =
        crate::ha::service::bind(&config)
            .await
            .map_err(|source| StartError::Bind {
                addr: SocketAddr::new(config.bind_address, config.ha_listen_port),
                source,
            })?;
    if let Some(port) = ha_listener.as_ref().and_then(|l| l.local_addr().ok()) {
        config.ha_listen_port = port.port();
    }
    // A slave's store takes only its master's bytes.
    config.store.replica = config.role == crate::config::BrokerRole::Slave;
    let store_host = resolve_store_host(&config.broker_ip1, config.listen_port, local_addr);
    config.store.store_host = store_host;
    let store_config = config.store.clone();
    let store = tokio::task::spawn_blocking(move || MessageStore::open_with_report(store_config))
        .await
        .map_err(|join| {
            StartError::Store(OpenStoreError::Config(format!(
                "store open panicked: {join}"
            )))
        })??;
    let (store, report) = store;
    info!(?report, "store opened");
    let store = Arc::new(store);
    let config_dir = config.store.config_dir();
    let topics = Topics::load(
        config_dir.clone(),
        &config.cluster_name,
        &config.broker_name,
        config.auto_create_topic_enable,
        config.default_topic_queue_nums,
        clock.clone(),
    )?;
    let groups = Groups::load(
        config_dir.clone(),
        config.auto_create_subscription_group,
        clock.clone(),
    )?;
    let offsets = ConsumerOffsets::load(config_dir)?;
    let waiters = Arc::new(PullWaiters::default());
    let replication = Replication::new(&config);
    {
        let waiters = waiters.clone();
        let slave = replication.slave().cloned();
        store.set_arrival_listener(Box::new(move |arrival| {
            waiters.arrived(arrival.topic, arrival.queue_id, arrival.max_offset);
            if arrival.max_offset == 1
                && let Some(slave) = &slave
            {
                slave.queue_opened();
            }
        }));
    }
    let messaging = crate::messaging::Messaging::default();
    messaging.delay_offsets.load(&config.store.config_dir())?;
    crate::messaging::create_system_topics(&topics, &config.messaging);
    let (stop, stopping) = watch::channel(false);
    let day_marks = DayMarks::starting(clock.now_ms(), Default::default());
    let metrics = crate::metrics::Metrics::new(config.metrics_max_topics);
    let namesrv_client = Client::new(rmq_remoting::ClientConfig {
        tls: tls.client.clone(),
        credentials: config.inner_credentials.clone(),
        ..rmq_remoting::ClientConfig::default()
    });
    let broker = Arc::new(Broker {
        permission: AtomicI32::new(config.broker_permission),
        registered: std::sync::atomic::AtomicBool::new(false),
        live: crate::live_config::LiveConfig::new(&config),
        acl,
        config,
        store,
        topics,
        groups,
        offsets,
        clients: Mutex::new(Clients::default()),
        waiters,
        store_host,
        started_at_ms: clock.now_ms(),
        clock,
        stats: Counters::default(),
        metrics,
        history: Mutex::new((History::default(), day_marks)),
        items: Mutex::new(Items::default()),
        namesrv_client,
        stopping: stopping.clone(),
        messaging,
        replication,
    });
    let handler = Arc::new(BrokerHandler {
        broker: broker.clone(),
    });
    let mut tasks = JoinSet::new();
    let server_config = ServerConfig {
        tls: tls.server.clone(),
        ..ServerConfig::default()
    };
    let fast_addr = fast_listener.as_ref().and_then(|l| l.local_addr().ok());
    tasks.spawn(serve(
        listener,
        handler.clone(),
        server_config.clone(),
        stopped(stopping.clone()),
    ));
    if let Some(fast) = fast_listener {
        tasks.spawn(serve(
            fast,
            handler.clone(),
            server_config,
            stopped(stopping.clone()),
        ));
    }
    tasks.spawn(register::run(broker.clone(), stopping.clone()));
    tasks.spawn(persist_offsets(broker.clone(), stopping.clone()));
    tasks.spawn(expire_clients(broker.clone(), stopping.clone()));
    tasks.spawn(crate::stats::service::run(broker.clone(), stopping.clone()));
    if let Some(rules) = broker.acl.clone() {
        tasks.spawn(reload_acl(rules, stopping.clone()));
    }
    if let Some(server) = tls.server.clone() {
        tasks.spawn(rmq_remoting::tls::server::reload_loop(
            server,
            rmq_remoting::tls::server::RELOAD_EVERY,
            stopped(stopping.clone()),
        ));
    }
    let health_addr = health_listener.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(listener) = health_listener {
        info!(addr = ?health_addr, "health probes at /livez and /readyz");
        tasks.spawn(rmq_remoting::prometheus::http::serve_pages(
            listener,
            crate::health::pages(broker.clone()),
            stopped(stopping.clone()),
        ));
    }
    let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(listener) = metrics_listener {
        info!(addr = ?metrics_addr, "Prometheus metrics at /metrics");
        let scraped = broker.clone();
        tasks.spawn(rmq_remoting::prometheus::http::serve(
            listener,
            Arc::new(move || crate::metrics::scrape::scrape(&scraped, &scraped.metrics)),
            stopped(stopping.clone()),
        ));
    }
    tasks.spawn(crate::schedule::service::run(
        broker.clone(),
        stopping.clone(),
    ));
    tasks.spawn(crate::transaction::check::run(
        broker.clone(),
        stopping.clone(),
    ));
    crate::ha::service::start(&broker, ha_listener, &tls, &stopping, &mut tasks)?;
    info!(
        addr = %local_addr,
        broker = %broker.config.broker_name,
        cluster = %broker.config.cluster_name,
        role = broker.config.role.name(),
        "rmq-broker listening on {local_addr}"
    );
    Ok(RunningBroker {
        broker,
        local_addr,
        fast_addr,
        metrics_addr,
        health_addr,
        stop,
        tasks,
    })
}

/// The address written into message ids: `brokerIP1` if it is (or resolves to) an IP, else the
/// address the listener is bound to.
fn resolve_store_host(broker_ip1: &str, port: u16, bound: SocketAddr) -> SocketAddr {
    if let Ok(ip) = broker_ip1.parse::<IpAddr>() {
        return SocketAddr::new(ip, port);
    }
    match (broker_ip1, port).to_socket_addrs() {
        Ok(mut addrs) => addrs.next().unwrap_or(bound),
        Err(error) => {
            warn!(%broker_ip1, %error, "brokerIP1 does not resolve; message ids use the bound address");
            SocketAddr::new(bound.ip(), port)
        }
    }
}

async fn persist_offsets(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    let period = broker
        .config
        .flush_consumer_offset_interval
        .max(Duration::from_millis(100));
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(period) => {}
        }
        let offsets = broker.clone();
        let result = tokio::task::spawn_blocking(move || offsets.offsets.persist()).await;
        if let Ok(Err(error)) = result {
            error!(error = %error, "consumer offsets could not be persisted");
        }
    }
}

async fn expire_clients(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    let timeout = broker.config.channel_expired_timeout;
    let period = Duration::from_secs(10)
        .min(timeout / 2)
        .max(Duration::from_millis(100));
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(period) => {}
        }
        let changed = broker.clients().expire(Instant::now(), timeout);
        if !changed.is_empty() {
            info!(groups = ?changed, "clients without heartbeat expired");
            notify::consumer_ids_changed(&broker, &changed);
        }
    }
}
