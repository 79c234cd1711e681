//! The master's tokio shell around [`rmq_store::ha::Master`]: the `haListenPort` listener, one
//! reader and one writer per slave connection, the waiter deadlines and the lag log.
//!
//! Per connection the reader takes offset reports (and completes SYNC_MASTER waiters); the
//! writer streams the commit log from where the slave asked, in batches of at most
//! `haTransferBatchSize`, read zero-copy from the store, and sends a heartbeat header when idle.
//! The writer wakes on every append made through the send path ([`MasterHa::appended`]) and polls
//! every 100 ms for appends made any other way.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{Buf, Bytes};
use rmq_remoting::tls::HANDSHAKE_TIMEOUT;
use rmq_remoting::tls::server::{Accepted, ServerTls};
use rmq_store::MessageStore;
use rmq_store::ha::frame::{ReportReader, TransferHeader};
use rmq_store::ha::{Lag, Master, MasterConfig, Registered, ReplicaStatus, SlaveId};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot, watch};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::stop_signal::stopped;

/// What a send waits for before it is answered.
#[derive(Debug)]
pub enum ReplicaWait {
    Done(ReplicaStatus),
    Pending(oneshot::Receiver<ReplicaStatus>),
}

impl ReplicaWait {
    /// Waits (asynchronously, holding no thread) for the outcome.
    pub async fn outcome(self) -> ReplicaStatus {
        match self {
            ReplicaWait::Done(status) => status,
            // The waiter was dropped (shutdown): nobody will confirm.
            ReplicaWait::Pending(rx) => rx.await.unwrap_or(ReplicaStatus::Timeout),
        }
    }
}

/// How often a writer with nothing to send looks at the commit log anyway.
const POLL: Duration = Duration::from_millis(100);
/// How often waiter deadlines are checked at the latest.
const EXPIRE_TICK: Duration = Duration::from_millis(50);
/// How often the lag is logged.
const LAG_LOG_INTERVAL: Duration = Duration::from_secs(30);

type Token = oneshot::Sender<ReplicaStatus>;

/// The master's replication state shared by the send path, the connections and the timers.
#[derive(Debug)]
pub struct MasterHa {
    state: Mutex<Master<Token>>,
    /// Woken by appends, so writers stream without delay.
    data: Notify,
    sync: bool,
    batch: usize,
    housekeeping: Duration,
}

/// A replication connection ended.
#[derive(Debug, thiserror::Error)]
enum ConnectionError {
    #[error("slave closed the connection")]
    Closed,
    #[error("no report from the slave for {0:?} (haHousekeepingInterval)")]
    Silent(Duration),
    #[error("socket error")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Frame(#[from] rmq_store::ha::FrameError),
    #[error(transparent)]
    Report(#[from] rmq_store::ha::ReportError),
    #[error("writing to the slave stalled for {0:?}")]
    WriteStalled(Duration),
}

impl MasterHa {
    pub fn new(config: MasterConfig, sync: bool, batch: usize, housekeeping: Duration) -> Self {
        MasterHa {
            state: Mutex::new(Master::new(config)),
            data: Notify::new(),
            sync,
            batch,
            housekeeping,
        }
    }

    fn state(&self) -> MutexGuard<'_, Master<Token>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The commit log now ends at `end_offset`. Under SYNC_MASTER with `wait`, returns the wait
    /// for a slave's confirmation; otherwise a decided one.
    pub fn appended(&self, end_offset: u64, wait: bool) -> ReplicaWait {
        let now = std::time::Instant::now();
        let outcome = {
            let mut state = self.state();
            state.on_append(end_offset, now);
            if self.sync && wait {
                let (tx, rx) = oneshot::channel();
                match state.register_wait(end_offset, now, tx) {
                    Registered::Decided(_, status) => ReplicaWait::Done(status),
                    Registered::Waiting(_) => ReplicaWait::Pending(rx),
                }
            } else {
                ReplicaWait::Done(ReplicaStatus::Replicated)
            }
        };
        self.data.notify_waiters();
        outcome
    }

    /// The lag now.
    pub fn lag(&self, master_max: u64) -> Lag {
        self.state().lag(master_max, std::time::Instant::now())
    }

    /// SYNC_MASTER waiters not yet decided.
    pub fn waiting(&self) -> usize {
        self.state().waiting()
    }
}

/// Binds `haListenPort` on `bindAddress`.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Accepts slaves until stopping.
pub async fn accept_loop(
    ha: Arc<MasterHa>,
    store: Arc<MessageStore>,
    listener: TcpListener,
    tls: Option<Arc<ServerTls>>,
    stopping: watch::Receiver<bool>,
) {
    let stop = stopped(stopping.clone());
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(admit_slave(
                    ha.clone(),
                    store.clone(),
                    stream,
                    peer,
                    tls.clone(),
                    stopping.clone(),
                ));
            }
            Err(error) => {
                warn!(%error, "accepting a replication connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves a slave's connection, over TLS when the port has it (plain slaves, Apache's among
/// them, are served on a permissive port: their first byte is an offset's high byte, not 0x16).
async fn admit_slave(
    ha: Arc<MasterHa>,
    store: Arc<MessageStore>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<Arc<ServerTls>>,
    stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        let (rd, wr) = stream.into_split();
        return serve_slave(ha, store, rd, wr, peer, stopping).await;
    };
    match tls.accept(stream, HANDSHAKE_TIMEOUT).await {
        Ok(Accepted::Plain(stream)) => {
            let (rd, wr) = stream.into_split();
            serve_slave(ha, store, rd, wr, peer, stopping).await;
        }
        Ok(Accepted::Tls(stream)) => {
            let (rd, wr) = tokio::io::split(*stream);
            serve_slave(ha, store, rd, wr, peer, stopping).await;
        }
        Err(error) => warn!(%peer, %error, "replication connection refused on the TLS port"),
    }
}

async fn serve_slave(
    ha: Arc<MasterHa>,
    store: Arc<MessageStore>,
    rd: impl AsyncRead + Unpin,
    wr: impl AsyncWrite + Unpin,
    peer: SocketAddr,
    stopping: watch::Receiver<bool>,
) {
    let id = ha.state().connect(std::time::Instant::now());
    info!(%peer, slave = id, "slave connected for replication");
    let first_report = Notify::new();
    let outcome = tokio::select! {
        result = read_reports(&ha, &store, id, rd, &first_report) => result,
        result = write_stream(&ha, &store, id, wr, &first_report) => result,
        () = stopped(stopping) => Ok(()),
    };
    ha.state().disconnect(id);
    match outcome {
        Ok(()) => info!(%peer, slave = id, "replication connection closed at shutdown"),
        Err(error) => {
            warn!(%peer, slave = id, %error, "replication connection to slave ended")
        }
    }
}

async fn read_reports(
    ha: &MasterHa,
    store: &MessageStore,
    id: SlaveId,
    mut rd: impl AsyncRead + Unpin,
    first_report: &Notify,
) -> Result<(), ConnectionError> {
    let mut reports = ReportReader::default();
    let mut buf = [0u8; 1024];
    let mut first = true;
    loop {
        let n = match tokio::time::timeout(ha.housekeeping, rd.read(&mut buf)).await {
            Err(_elapsed) => return Err(ConnectionError::Silent(ha.housekeeping)),
            Ok(Ok(0)) => return Err(ConnectionError::Closed),
            Ok(read) => read?,
        };
        let Some(offset) = reports.feed(&buf[..n])? else {
            continue;
        };
        let master_max = store.commit_log_max_offset();
        let confirmed = ha.state().on_report(id, offset, master_max)?;
        for (token, status) in confirmed {
            let _ = token.send(status);
        }
        if first {
            first = false;
            let start = ha.state().next_transfer(id);
            info!(slave = id, requested = offset, start = ?start, master_max, "slave asked for the commit log from its offset");
            first_report.notify_one();
        }
    }
}

async fn write_stream(
    ha: &MasterHa,
    store: &MessageStore,
    id: SlaveId,
    mut wr: impl AsyncWrite + Unpin,
    first_report: &Notify,
) -> Result<(), ConnectionError> {
    // Nothing goes out before the slave said where it stands.
    while ha.state().next_transfer(id).is_none() {
        first_report.notified().await;
    }
    let mut warned_gone = false;
    loop {
        let appended = ha.data.notified();
        tokio::pin!(appended);
        // Registered before looking, so an append in between is not missed.
        appended.as_mut().enable();
        let Some(next) = ha.state().next_transfer(id) else {
            return Ok(());
        };
        if let Some(bytes) = store.read_commit_log(next, ha.batch) {
            let len = bytes.len();
            send(
                ha,
                &mut wr,
                TransferHeader {
                    offset: next,
                    body_len: len,
                },
                bytes,
            )
            .await?;
            ha.state().on_sent(id, next, len, std::time::Instant::now());
            warned_gone = false;
            continue;
        }
        if next < store.commit_log_min_offset() && !warned_gone {
            warned_gone = true;
            warn!(
                slave = id,
                next,
                min = store.commit_log_min_offset(),
                "the slave needs commit log data that retention already deleted; it cannot catch up"
            );
        }
        let now = std::time::Instant::now();
        if ha.state().heartbeat_due(id, now) {
            send(ha, &mut wr, TransferHeader::heartbeat(next), Bytes::new()).await?;
            ha.state().on_sent(id, next, 0, now);
            continue;
        }
        let heartbeat_at = ha
            .state()
            .heartbeat_at(id)
            .map_or(Instant::now() + POLL, Instant::from_std);
        tokio::select! {
            () = appended => {}
            () = tokio::time::sleep_until(heartbeat_at.min(Instant::now() + POLL)) => {}
        }
        // Let the sends that are ready append too, so one frame carries them all: fewer,
        // larger frames and fewer confirmations for the same data.
        tokio::task::yield_now().await;
    }
}

async fn send(
    ha: &MasterHa,
    wr: &mut (impl AsyncWrite + Unpin),
    header: TransferHeader,
    body: Bytes,
) -> Result<(), ConnectionError> {
    let header = header.encode();
    // One vectored write for header and body.
    let mut frame = Buf::chain(&header[..], body);
    match tokio::time::timeout(ha.housekeeping, wr.write_all_buf(&mut frame)).await {
        Ok(result) => Ok(result?),
        Err(_elapsed) => Err(ConnectionError::WriteStalled(ha.housekeeping)),
    }
}

/// Times out SYNC_MASTER waiters; at shutdown answers the rest with a timeout.
pub async fn expire_loop(ha: Arc<MasterHa>, stopping: watch::Receiver<bool>) {
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        let next = ha.state().next_deadline();
        let wake = next.map_or(Instant::now() + EXPIRE_TICK, |d| {
            Instant::from_std(d).min(Instant::now() + EXPIRE_TICK)
        });
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep_until(wake) => {}
        }
        let expired = ha.state().expire(std::time::Instant::now());
        if !expired.is_empty() {
            warn!(
                count = expired.len(),
                "no slave confirmed within slaveTimeout; answering FLUSH_SLAVE_TIMEOUT"
            );
        }
        for (token, status) in expired {
            let _ = token.send(status);
        }
    }
    for (token, status) in ha.state().drain(ReplicaStatus::Timeout) {
        let _ = token.send(status);
    }
}

/// Logs the lag periodically (Apache: "Slave fall behind master").
pub async fn lag_log_loop(
    ha: Arc<MasterHa>,
    store: Arc<MessageStore>,
    stopping: watch::Receiver<bool>,
) {
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(LAG_LOG_INTERVAL) => {}
        }
        let lag = ha.lag(store.commit_log_max_offset());
        match (lag.bytes, lag.millis) {
            (Some(bytes), Some(millis)) => {
                info!(
                    slaves = lag.slaves,
                    bytes, millis, "replication lag: slave fall behind master"
                )
            }
            _ => info!(
                slaves = lag.slaves,
                "replication lag unknown: no slave has reported"
            ),
        }
    }
}
