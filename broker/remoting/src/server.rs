//! The accept loop: [`serve`] runs a [`Handler`] for every request of every connection until the
//! shutdown future completes, then drains.
//!
//! Shutdown order: stop accepting; tell every connection to stop reading; let requests already
//! read finish and their responses be written (up to [`ServerConfig::shutdown_grace`]); close.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::frame::MAX_FRAME_LEN;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::connection::{FrameReader, Outbound, write_loop};
use crate::pending::{Completed, Opaques, Pending};
use crate::tls::server::{AcceptError, Accepted, ServerTls};

/// Limits of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Connections served at once; further peers wait in the listen backlog.
    pub max_connections: usize,
    /// Largest frame accepted, length field included.
    pub max_frame_len: usize,
    /// Requests of one connection handled at once; reading pauses beyond it.
    pub max_in_flight_per_connection: usize,
    /// Responses queued for one connection's writer before handlers wait.
    pub write_queue: usize,
    /// How long shutdown waits for requests already read.
    pub shutdown_grace: Duration,
    /// TLS on this port, with its mode; `None`: plain remoting only.
    pub tls: Option<Arc<ServerTls>>,
    /// How long a peer of a TLS port has to send its first byte and finish the handshake.
    pub handshake_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_connections: 10_000,
            max_frame_len: MAX_FRAME_LEN,
            max_in_flight_per_connection: 4096,
            write_queue: 1024,
            shutdown_grace: Duration::from_secs(10),
            tls: None,
            handshake_timeout: crate::tls::HANDSHAKE_TIMEOUT,
        }
    }
}

/// Serves requests. One call per request, concurrently; the returned command is the response
/// (ignored for oneway requests). Unknown codes should be answered with
/// [`RemotingCommand::request_code_not_supported`], never dropped.
pub trait Handler: Send + Sync + 'static {
    /// Handles one request read from `conn`.
    fn handle(
        &self,
        conn: &ConnHandle,
        request: RemotingCommand,
    ) -> impl Future<Output = Option<RemotingCommand>> + Send;

    /// Called once when a connection stops reading (peer gone, bad frame or shutdown).
    fn connection_closed(&self, conn: &ConnHandle) {
        let _ = conn;
    }
}

/// A served connection, as handlers see it: who it is, and a way to send it requests, oneway
/// (NOTIFY_CONSUMER_IDS_CHANGED, CHECK_TRANSACTION_STATE) or answered (GET_CONSUMER_RUNNING_INFO,
/// CONSUME_MESSAGE_DIRECTLY, RESET_CONSUMER_CLIENT_OFFSET). Cheap to clone and keep.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    inner: Arc<ConnInner>,
}

#[derive(Debug)]
struct ConnInner {
    id: u64,
    peer: SocketAddr,
    outbound: mpsc::Sender<Outbound>,
    /// Asked by [`ConnHandle::close`]; holds the request until the reader looks.
    close: Notify,
    /// Our requests to the peer that wait for its answer.
    pending: Arc<Pending>,
    opaques: Opaques,
}

impl ConnHandle {
    /// Process-unique connection number.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.inner.peer
    }

    /// Queues a request that expects no response.
    pub async fn send_oneway(&self, request: RemotingCommand) -> Result<(), SendError> {
        self.inner
            .outbound
            .send(Outbound::Command(request.into_oneway()))
            .await
            .map_err(|_closed| SendError::Closed {
                peer: self.inner.peer,
            })
    }

    /// Sends `request` to the peer and waits up to `timeout` for its answer. Fails at once when
    /// the connection closes meanwhile; an answer arriving after the timeout is dropped.
    pub async fn request(
        &self,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, SendError> {
        let peer = self.inner.peer;
        let code = request.code;
        let waiter = self.inner.pending.register(self.inner.opaques.next());
        request.opaque = waiter.opaque();
        request.flag &= !rmq_protocol::FLAG_ONEWAY;
        let exchange = async {
            self.inner
                .outbound
                .send(Outbound::Command(request))
                .await
                .map_err(|_closed| SendError::Closed { peer })?;
            waiter
                .response()
                .await
                .map_err(|_closed| SendError::Closed { peer })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(SendError::NoAnswer {
                peer,
                code,
                timeout,
            }))
    }

    /// Closes the connection as the peer going away would: reading stops, requests already
    /// read are answered, then the socket is shut down and dropped (the name server closes a
    /// broker's connection when the broker expires, as Apache's does).
    pub fn close(&self) {
        self.inner.close.notify_one();
    }

    /// Whether the connection's writer is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.outbound.is_closed()
    }
}

/// Sending to a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("connection to {peer} is closed")]
    Closed { peer: SocketAddr },
    #[error("{peer} did not answer request {code} within {timeout:?}")]
    NoAnswer {
        peer: SocketAddr,
        code: i32,
        timeout: Duration,
    },
}

/// Requests a connection serves back to back before its reader yields to the writer (see
/// `run_connection`). 32: +15 % throughput with 64 requests in flight on one connection, for
/// about 10 % more CPU per request (more, smaller writes); BENCHMARKS.md.
const RESPONSES_PER_YIELD: u32 = 32;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// TLS handshakes (and first-byte waits) in progress at once on a TLS port; they take no
/// connection slot, and each ends within [`ServerConfig::handshake_timeout`].
const MAX_HANDSHAKES: usize = 1024;

/// Serves `listener` until `shutdown` completes, then drains connections and returns.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let limit = Arc::new(Semaphore::new(config.max_connections));
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Reap finished connection tasks so the set does not grow with churn.
        while connections.try_join_next().is_some() {}
        // A plain port takes the connection's slot before accepting it (the listen backlog
        // holds the rest); a TLS port only a handshake's, the slot once the peer is admitted.
        let gate = if config.tls.is_some() {
            &handshakes
        } else {
            &limit
        };
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = gate.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // EMFILE and friends: back off instead of spinning.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let handler = handler.clone();
        let config = config.clone();
        let stop = stop_rx.clone();
        let Some(tls) = config.tls.clone() else {
            connections.spawn(async move {
                run_tcp(stream, peer, handler, config, stop).await;
                drop(permit);
            });
            continue;
        };
        let limit = limit.clone();
        connections.spawn(async move {
            let admitted = tls.accept(stream, config.handshake_timeout).await;
            drop(permit);
            let admitted = match admitted {
                Ok(admitted) => admitted,
                Err(error) => return refused(peer, &error),
            };
            let mut waiting_stop = stop.clone();
            let Ok(permit) = (tokio::select! {
                _ = waiting_stop.wait_for(|stopping| *stopping) => return,
                permit = limit.acquire_owned() => permit,
            }) else {
                return;
            };
            match admitted {
                Accepted::Plain(stream) => run_tcp(stream, peer, handler, config, stop).await,
                Accepted::Tls(stream) => {
                    if let Err(error) = stream.get_ref().0.set_nodelay(true) {
                        debug!(%peer, %error, "TCP_NODELAY not set");
                    }
                    debug!(%peer, "TLS connection admitted");
                    let (read_half, write_half) = tokio::io::split(*stream);
                    run_connection(read_half, write_half, peer, handler, config, stop).await;
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(config.shutdown_grace + Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            remaining = connections.len(),
            "connections did not drain in time; aborting them"
        );
        connections.shutdown().await;
    }
    info!("server stopped");
}

/// Logs why a peer was not admitted to a TLS port.
fn refused(peer: SocketAddr, error: &AcceptError) {
    match error {
        AcceptError::Closed => debug!(%peer, "connection closed before its first byte"),
        AcceptError::PlainRefused | AcceptError::Handshake(_) | AcceptError::Stalled(_) => {
            warn!(%peer, %error, "connection refused on a TLS port");
        }
        AcceptError::Peek(_) => debug!(%peer, %error, "connection lost before admission"),
    }
}

/// Serves a plain TCP connection.
async fn run_tcp<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    config: ServerConfig,
    stop: watch::Receiver<bool>,
) {
    // Small request/response frames: latency matters more than packet count.
    if let Err(error) = stream.set_nodelay(true) {
        debug!(%peer, %error, "TCP_NODELAY not set");
    }
    let (read_half, write_half) = stream.into_split();
    run_connection(read_half, write_half, peer, handler, config, stop).await;
}

async fn run_connection<H, R, W>(
    read_half: R,
    write_half: W,
    peer: SocketAddr,
    handler: Arc<H>,
    config: ServerConfig,
    mut stop: watch::Receiver<bool>,
) where
    H: Handler,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (outbound, queue) = mpsc::channel(config.write_queue);
    let writer = tokio::spawn(async move {
        if let Err(error) = write_loop(write_half, queue).await {
            debug!(%peer, %error, "write failed; connection closing");
        }
    });
    let conn = ConnHandle {
        inner: Arc::new(ConnInner {
            id: NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed),
            peer,
            outbound: outbound.clone(),
            close: Notify::new(),
            pending: Arc::default(),
            opaques: Opaques::default(),
        }),
    };
    debug!(%peer, id = conn.id(), "connection accepted");
    let mut reader = FrameReader::new(read_half, config.max_frame_len);
    // Requests that had to wait (a long poll, a flush or replication wait, a full write queue)
    // stay on this task: their wake-ups only mark them ready and schedule this one task, so the
    // responses of a whole group commit cost one wake-up instead of one per request.
    let mut served_since_yield = 0;
    let mut waiting: FuturesUnordered<Pin<Box<dyn Future<Output = ()> + Send>>> =
        FuturesUnordered::new();
    loop {
        let read = tokio::select! {
            biased;
            _ = stop.wait_for(|stopping| *stopping) => break,
            () = conn.inner.close.notified() => {
                debug!(%peer, id = conn.id(), "closing the connection as asked");
                break;
            }
            Some(()) = waiting.next(), if !waiting.is_empty() => continue,
            read = reader.read_command(), if waiting.len() < config.max_in_flight_per_connection => read,
        };
        let request = match read {
            Ok(Some(request)) => request,
            Ok(None) => break,
            Err(error) => {
                warn!(%peer, error = %error, cause = ?std::error::Error::source(&error), "closing connection after a bad frame");
                break;
            }
        };
        if request.is_response() {
            let opaque = request.opaque;
            if conn.inner.pending.complete(request) == Completed::Late {
                debug!(%peer, opaque, "answer nobody waits for ignored");
            }
            continue;
        }
        let handler = handler.clone();
        let conn = conn.clone();
        let outbound = outbound.clone();
        let oneway = request.is_oneway();
        let code = request.code;
        // Built before the handler takes the request (no allocation: empty fields and body).
        let mut failed = RemotingCommand::response_to(&request, ResponseCode::SystemError);
        let mut work = Box::pin(async move {
            // A handler that panics costs its own request a SYSTEM_ERROR answer, not the
            // connection (its other requests run on this same task).
            let response = match AssertUnwindSafe(handler.handle(&conn, request))
                .catch_unwind()
                .await
            {
                Ok(response) => response,
                Err(_) => {
                    error!(%peer, code, "request handler panicked; answered SYSTEM_ERROR");
                    failed.remark = Some(format!("the broker failed handling request code {code}"));
                    Some(failed)
                }
            };
            if let (false, Some(response)) = (oneway, response) {
                // A closed queue means the writer died with the socket: nobody to answer.
                let _ = outbound.send(Outbound::Command(response)).await;
            }
        });
        // Most requests (sends under ASYNC_FLUSH, queries) finish without waiting: run them
        // here, sparing a task spawn and a hand-off per request. One that waits joins
        // `waiting`, which polls it again at once with a real waker, so no wake-up is lost to
        // the no-op one.
        let pending = work
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending();
        if pending {
            waiting.push(work);
        }
        served_since_yield += 1;
        if served_since_yield == RESPONSES_PER_YIELD {
            // A pipelining client's requests arrive faster than this loop needs the socket:
            // without a pause the responses of a whole window would be written together and
            // the client would idle until then. Yielding lets the writer (woken on this thread)
            // send what is ready, so client and broker work at the same time.
            served_since_yield = 0;
            tokio::task::yield_now().await;
        }
    }
    // Our requests to the peer can no longer be answered.
    conn.inner.pending.fail_all();
    handler.connection_closed(&conn);
    // Let requests already read finish so their responses are written before the close.
    let drain = async { while waiting.next().await.is_some() {} };
    if tokio::time::timeout(config.shutdown_grace, drain)
        .await
        .is_err()
    {
        warn!(%peer, "requests still running at close; their responses are dropped");
    }
    let _ = outbound.send(Outbound::Close).await;
    let _ = writer.await;
    debug!(%peer, id = conn.id(), "connection closed");
}
