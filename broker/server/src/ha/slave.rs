//! The slave's tokio shell around [`rmq_store::ha::Slave`]: connect to the master's HA address,
//! report, append what arrives, report again; reconnect with backoff when anything goes wrong.
//!
//! One task per session reads into a buffer (cancel-safe, so the heartbeat timer never cuts a
//! frame in half), applies every complete frame through the store's [`ReplicaWriter`], and then
//! sends one report for all of them: under load, one confirmation covers many frames.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rmq_remoting::tls::client::ClientTls;
use rmq_store::ReplicaWriter;
use rmq_store::error::ReplicaAppendError;
use rmq_store::ha::frame::{HEADER_LEN, TransferHeader, encode_report};
use rmq_store::ha::{FrameError, Slave, SlaveAction, SlaveConfig, SlaveError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::stop_signal::stopped;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Read buffer: several frames per read under load, so one report confirms them all.
const READ_BUFFER: usize = 256 * 1024;

/// What the slave knows about its replication, for GET_BROKER_RUNTIME_INFO.
#[derive(Debug, Clone, Default)]
pub struct SlaveStatus {
    /// The master's HA address in use.
    pub master_ha_addr: Option<String>,
    pub connected: bool,
    /// End of the last frame received: how far the master had got when it sent it.
    pub master_offset: Option<u64>,
    /// When the last frame (data or heartbeat) arrived.
    pub last_frame: Option<std::time::Instant>,
}

/// The slave's replication state shared with the broker.
#[derive(Debug)]
pub struct SlaveHa {
    /// The master's `host:haListenPort`: from `haMasterAddress`, else from registration.
    ha_addr: watch::Sender<Option<String>>,
    fixed_addr: bool,
    /// The master's remoting address (from registration), for metadata sync.
    master_addr: Mutex<Option<String>>,
    status: Mutex<SlaveStatus>,
    /// Woken when replicated data holds something the metadata may not cover yet.
    metadata_due: tokio::sync::Notify,
}

/// A replication session ended.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("cannot connect to the master at {addr}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to the master at {addr} timed out")]
    ConnectTimeout { addr: String },
    #[error("TLS handshake with the master at {addr} failed")]
    Tls {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("master closed the connection")]
    Closed,
    #[error("socket error")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Slave(#[from] SlaveError),
    #[error("appending the master's bytes failed")]
    Append(#[from] ReplicaAppendError),
    #[error("the appender task failed")]
    Join(#[from] tokio::task::JoinError),
    #[error("the master's address changed")]
    AddressChanged,
}

impl SlaveHa {
    pub fn new(fixed: Option<String>) -> Self {
        SlaveHa {
            fixed_addr: fixed.is_some(),
            ha_addr: watch::Sender::new(fixed),
            master_addr: Mutex::new(None),
            status: Mutex::new(SlaveStatus::default()),
            metadata_due: tokio::sync::Notify::new(),
        }
    }

    /// A replicated message opened a queue (its queue offset is 0): its topic, and perhaps its
    /// producer's group, were likely created on the master since the last metadata sync. Asks
    /// the sync to run now rather than at its next period, so that the slave has the config
    /// before its master can be gone (wakes at most one pending sync; calls meanwhile fold
    /// into it).
    pub fn queue_opened(&self) {
        self.metadata_due.notify_one();
    }

    /// Completes when [`SlaveHa::queue_opened`] was called since the last wait.
    pub async fn metadata_due(&self) {
        self.metadata_due.notified().await;
    }

    /// A name server answered our registration (Apache: `updateMasterHAServerAddrPeriodically`
    /// and `slaveSynchronize.setMasterAddr`).
    pub fn on_registered(&self, master_addr: Option<&str>, ha_server_addr: Option<&str>) {
        *lock(&self.master_addr) = master_addr.map(str::to_owned);
        if self.fixed_addr {
            return;
        }
        // A missing address (the master is gone) keeps the old one: it may come back there.
        if let Some(addr) = ha_server_addr.filter(|a| !a.is_empty()) {
            self.ha_addr.send_if_modified(|current| {
                if current.as_deref() == Some(addr) {
                    return false;
                }
                info!(old = ?current, new = %addr, "master HA address updated");
                *current = Some(addr.to_owned());
                true
            });
        }
    }

    /// The master's remoting address, once a name server told us.
    pub fn master_addr(&self) -> Option<String> {
        lock(&self.master_addr).clone()
    }

    pub fn status(&self) -> SlaveStatus {
        lock(&self.status).clone()
    }

    fn update(&self, f: impl FnOnce(&mut SlaveStatus)) {
        f(&mut lock(&self.status));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Connects, replicates and reconnects until stopping.
pub async fn run(
    ha: Arc<SlaveHa>,
    writer: ReplicaWriter,
    config: SlaveConfig,
    file_size: u64,
    tls: Option<ClientTls>,
    stopping: watch::Receiver<bool>,
) {
    let writer = Arc::new(Mutex::new(writer));
    let mut state = Slave::new(config);
    let mut addrs = ha.ha_addr.subscribe();
    let stop = stopped(stopping);
    tokio::pin!(stop);
    loop {
        let addr = addrs.borrow_and_update().clone();
        let Some(addr) = addr else {
            tokio::select! {
                () = &mut stop => return,
                _ = addrs.changed() => continue,
            }
        };
        ha.update(|s| s.master_ha_addr = Some(addr.clone()));
        let outcome = tokio::select! {
            () = &mut stop => return,
            _ = addrs.changed() => Err(SessionError::AddressChanged),
            outcome = session(&ha, &writer, &mut state, &addr, file_size, tls.as_ref()) => outcome,
        };
        ha.update(|s| s.connected = false);
        let delay = state.disconnected();
        match outcome {
            Ok(()) => {}
            Err(SessionError::AddressChanged) => continue,
            Err(error) => {
                warn!(master = %addr, %error, cause = ?std::error::Error::source(&error), retry_in = ?delay, "replication from the master stopped")
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

async fn session(
    ha: &SlaveHa,
    writer: &Arc<Mutex<ReplicaWriter>>,
    state: &mut Slave,
    addr: &str,
    file_size: u64,
    tls: Option<&ClientTls>,
) -> Result<(), SessionError> {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Err(_elapsed) => {
            return Err(SessionError::ConnectTimeout {
                addr: addr.to_owned(),
            });
        }
        Ok(Err(source)) => {
            return Err(SessionError::Connect {
                addr: addr.to_owned(),
                source,
            });
        }
        Ok(Ok(stream)) => stream,
    };
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        let (rd, wr) = stream.into_split();
        return replicate(ha, writer, state, addr, file_size, rd, wr).await;
    };
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, tls.connect(addr, stream)).await {
        Err(_elapsed) => {
            return Err(SessionError::ConnectTimeout {
                addr: addr.to_owned(),
            });
        }
        Ok(Err(source)) => {
            return Err(SessionError::Tls {
                addr: addr.to_owned(),
                source,
            });
        }
        Ok(Ok(stream)) => stream,
    };
    let (rd, wr) = tokio::io::split(stream);
    replicate(ha, writer, state, addr, file_size, rd, wr).await
}

/// Replicates over one connection until it fails.
async fn replicate(
    ha: &SlaveHa,
    writer: &Arc<Mutex<ReplicaWriter>>,
    state: &mut Slave,
    addr: &str,
    file_size: u64,
    mut rd: impl AsyncRead + Unpin,
    mut wr: impl AsyncWrite + Unpin,
) -> Result<(), SessionError> {
    let local = lock(writer).max_offset();
    let first = state.connected(local, std::time::Instant::now());
    wr.write_all(&encode_report(first)).await?;
    ha.update(|s| s.connected = true);
    info!(master = %addr, offset = first, "connected to the master; replicating from our offset");
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    loop {
        if buf.capacity() - buf.len() < READ_BUFFER / 4 {
            buf.reserve(READ_BUFFER);
        }
        let tick_at = state
            .next_tick()
            .map_or(Instant::now() + Duration::from_secs(1), Instant::from_std);
        // `read_buf` is cancel-safe: bytes read before the timer fires stay in `buf`.
        tokio::select! {
            read = rd.read_buf(&mut buf) => {
                if read? == 0 {
                    return Err(SessionError::Closed);
                }
            }
            () = tokio::time::sleep_until(tick_at) => {
                let local = lock(writer).max_offset();
                match state.tick(local, std::time::Instant::now()) {
                    Some(SlaveAction::Report(offset)) => {
                        wr.write_all(&encode_report(offset)).await?;
                        state.on_reported(offset, std::time::Instant::now());
                    }
                    Some(SlaveAction::Reconnect(error)) => return Err(error.into()),
                    None => {}
                }
                continue;
            }
        }
        // Every complete frame read so far is applied; one report then covers them all.
        let mut end = None;
        let mut heard = None;
        while let Some((header, body)) = next_frame(&mut buf)? {
            let local = lock(writer).max_offset();
            state.on_header(&header, local, std::time::Instant::now())?;
            heard = Some(header.offset + body.len() as u64);
            if body.is_empty() {
                continue;
            }
            end = Some(if header.offset.is_multiple_of(file_size.max(1)) {
                // The append creates (preallocates and syncs) a new file: not on a runtime
                // thread.
                let writer = writer.clone();
                tokio::task::spawn_blocking(move || lock(&writer).append(header.offset, &body))
                    .await??
            } else {
                lock(writer).append(header.offset, &body)?
            });
        }
        // A heartbeat counts as hearing from the master too (readiness, runtime info).
        if let Some(heard) = heard {
            ha.update(|s| {
                s.master_offset = Some(heard);
                s.last_frame = Some(std::time::Instant::now());
            });
        }
        let Some(end) = end else {
            continue;
        };
        if let Some(offset) = state.after_append(end, std::time::Instant::now()) {
            wr.write_all(&encode_report(offset)).await?;
        }
    }
}

/// Takes the first complete frame off `buf`, if there is one.
fn next_frame(buf: &mut BytesMut) -> Result<Option<(TransferHeader, Bytes)>, FrameError> {
    let Some(head) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let mut header_bytes = [0u8; HEADER_LEN];
    header_bytes.copy_from_slice(head);
    let header = TransferHeader::decode(&header_bytes)?;
    let frame_len = HEADER_LEN + header.body_len;
    if buf.len() < frame_len {
        buf.reserve(frame_len - buf.len());
        return Ok(None);
    }
    let mut frame = buf.split_to(frame_len).freeze();
    let body = frame.split_off(HEADER_LEN);
    Ok(Some((header, body)))
}
