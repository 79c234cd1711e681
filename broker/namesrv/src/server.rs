//! The shell: [`start`] binds the listener, loads the KV store and runs the remoting server and
//! the expiry scan until [`RunningNamesrv::shutdown`].

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rmq_remoting::ServerConfig;
use rmq_remoting::prometheus::{self, Exporter};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::NamesrvConfig;
use crate::kv::{KvConfigError, KvConfigStore};
use crate::processor::Namesrv;

/// A name server serving in the background.
#[derive(Debug)]
pub struct RunningNamesrv {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    namesrv: Arc<Namesrv>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    scanner: JoinHandle<()>,
    metrics: Option<JoinHandle<()>>,
}

/// Starting the name server failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load the KV config")]
    LoadKvConfig(#[source] KvConfigError),
    #[error("the KV config loading task did not finish")]
    LoadKvConfigTask(#[source] tokio::task::JoinError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the listening address")]
    LocalAddr(#[source] io::Error),
    #[error("TLS could not be set up")]
    Tls(#[from] rmq_remoting::tls::config::TlsSetupError),
}

/// Starts a name server on the current tokio runtime: loads `kvConfig.json`, binds
/// `bindAddress:listenPort` (and the metrics endpoint when `metricsExporterType=PROM`) and logs
/// `rmq-namesrv listening on <addr>` once it accepts.
pub async fn start(mut config: NamesrvConfig) -> Result<RunningNamesrv, StartError> {
    config.tls = std::mem::take(&mut config.tls).with_config_file()?;
    let tls = config.tls.server()?.map(Arc::new);
    if let Some(tls) = &tls {
        info!(mode = %tls.mode(), cert = %tls.files().cert.display(), "TLS on the name server's port");
    }
    let kv_path: PathBuf = config.kv_config_path.clone();
    let kv = tokio::task::spawn_blocking(move || KvConfigStore::open(kv_path))
        .await
        .map_err(StartError::LoadKvConfigTask)?
        .map_err(StartError::LoadKvConfig)?;
    let addr = config.listen_addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local_addr = listener.local_addr().map_err(StartError::LocalAddr)?;
    let metrics_listener = match config.metrics_exporter {
        Exporter::Prom => {
            let addr = config
                .metrics_prom_host
                .addr(config.bind_address, config.metrics_prom_port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind { addr, source })?;
            Some(listener)
        }
        Exporter::Disable => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(listener) => Some(listener.local_addr().map_err(StartError::LocalAddr)?),
        None => None,
    };

    let namesrv = Arc::new(Namesrv::new(config, kv));
    let (stop, stopped) = watch::channel(false);
    let server_config = ServerConfig {
        tls: tls.clone(),
        ..ServerConfig::default()
    };
    let server = tokio::spawn(rmq_remoting::serve(
        listener,
        namesrv.clone(),
        server_config,
        wait_for_stop(stopped.clone()),
    ));
    if let Some(tls) = tls {
        // Ends with the stop signal; nothing to wait for at shutdown.
        tokio::spawn(rmq_remoting::tls::server::reload_loop(
            tls,
            rmq_remoting::tls::server::RELOAD_EVERY,
            wait_for_stop(stopped.clone()),
        ));
    }
    let metrics = metrics_listener.map(|listener| {
        let scraped = namesrv.clone();
        let node_id = local_addr.to_string();
        info!(addr = ?metrics_addr, "Prometheus metrics at /metrics");
        tokio::spawn(prometheus::http::serve(
            listener,
            Arc::new(move || scraped.scrape_metrics(&node_id)),
            wait_for_stop(stopped.clone()),
        ))
    });
    let scanner = tokio::spawn(scan_expired_brokers(namesrv.clone(), stopped));
    info!("rmq-namesrv listening on {local_addr}");
    Ok(RunningNamesrv {
        local_addr,
        metrics_addr,
        namesrv,
        stop,
        server,
        scanner,
        metrics,
    })
}

impl RunningNamesrv {
    /// The address the server listens on (with the real port when `listenPort` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The Prometheus endpoint's address, when `metricsExporterType=PROM`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The state behind the server, for in-process inspection.
    pub fn namesrv(&self) -> &Arc<Namesrv> {
        &self.namesrv
    }

    /// Stops accepting, lets requests already read finish, and stops the expiry scan.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.server.await {
            warn!(%error, "remoting server task failed");
        }
        if let Err(error) = self.scanner.await {
            warn!(%error, "expiry scan task failed");
        }
        if let Some(metrics) = self.metrics
            && let Err(error) = metrics.await
        {
            warn!(%error, "metrics endpoint task failed");
        }
        info!(addr = %self.local_addr, "rmq-namesrv stopped");
    }
}

/// Completes when `stop` turns true or its sender is dropped (a dropped [`RunningNamesrv`]
/// stops its tasks too).
async fn wait_for_stop(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Every `scanNotActiveBrokerInterval` (read again each round, so updates apply), drops
/// brokers silent for longer than their timeout. Ends when asked to stop.
async fn scan_expired_brokers(namesrv: Arc<Namesrv>, stop: watch::Receiver<bool>) {
    let stopped = wait_for_stop(stop);
    tokio::pin!(stopped);
    loop {
        let interval = namesrv.config().scan_not_active_broker_interval;
        tokio::select! {
            () = &mut stopped => break,
            () = tokio::time::sleep(interval) => {}
        }
        let expired = namesrv.scan_expired(tokio::time::Instant::now().into_std());
        if !expired.is_empty() {
            warn!(brokers = ?expired, "expired brokers removed");
        }
    }
}
