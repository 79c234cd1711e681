//! [`Client`]: requests to remoting servers by address, one connection per address, responses
//! matched to requests by `opaque`.
//!
//! Connections are opened on first use and dropped when they fail; the next request reconnects.
//! Requests the server sends us (a broker's NOTIFY_CONSUMER_IDS_CHANGED) are answered with
//! REQUEST_CODE_NOT_SUPPORTED unless oneway: tools built on this client do not consume.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::frame::MAX_FRAME_LEN;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::debug;

use crate::connection::{FrameReader, Outbound, write_loop};
use crate::pending::{Completed, Opaques, Pending};
use crate::tls::client::ClientTls;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// Largest response frame accepted.
    pub max_frame_len: usize,
    /// Requests queued per connection before callers wait.
    pub write_queue: usize,
    /// An ACL account: every request is signed with it (Apache's `AclClientRPCHook`).
    pub credentials: Option<rmq_protocol::acl::Credentials>,
    /// TLS for every connection (Apache's `useTLS`); `None`: plain.
    pub tls: Option<ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(3),
            max_frame_len: MAX_FRAME_LEN,
            write_queue: 1024,
            credentials: None,
            tls: None,
        }
    }
}

/// A remoting client; cheap to clone, all clones share connections.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
    config: ClientConfig,
    /// The account's key, prepared once for every request's signature.
    signing: Option<rmq_protocol::acl::SigningKey>,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
    opaques: Opaques,
    /// Notified when a connection ends (one permit kept while nobody waits).
    closed: tokio::sync::Notify,
}

#[derive(Debug)]
struct Connection {
    outbound: mpsc::Sender<Outbound>,
    pending: Arc<Pending>,
}

impl Default for Client {
    fn default() -> Client {
        Client::new(ClientConfig::default())
    }
}

impl Client {
    /// A client with no connections yet.
    pub fn new(config: ClientConfig) -> Client {
        Client {
            inner: Arc::new(ClientInner {
                signing: config
                    .credentials
                    .as_ref()
                    .map(|keys| rmq_protocol::acl::SigningKey::new(&keys.secret_key)),
                config,
                connections: Mutex::new(HashMap::new()),
                opaques: Opaques::default(),
                closed: tokio::sync::Notify::new(),
            }),
        }
    }

    /// Signs `request` with the configured account, if any.
    fn sign(&self, request: &mut RemotingCommand) {
        if let (Some(keys), Some(key)) = (&self.inner.config.credentials, &self.inner.signing) {
            key.sign_request(request, &keys.access_key);
        }
    }

    /// Resolves once one of this client's connections has ended: the peer went away (a
    /// restarted server) or it was closed. An end nobody waited for is kept for the next call.
    pub async fn connection_closed(&self) {
        self.inner.closed.notified().await;
    }

    /// Sends `request` to `addr` (`host:port`) and waits up to `timeout` for its response.
    ///
    /// The request's `opaque` is assigned here. The timeout covers connecting, queueing and the
    /// round trip.
    pub async fn invoke(
        &self,
        addr: &str,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, InvokeError> {
        let code = request.code;
        self.sign(&mut request);
        let exchange = async {
            let connection = self.connection(addr).await?;
            let waiter = connection.pending.register(self.inner.opaques.next());
            request.opaque = waiter.opaque();
            if connection
                .outbound
                .send(Outbound::Command(request))
                .await
                .is_err()
            {
                self.forget_connection(addr, &connection);
                return Err(InvokeError::Closed {
                    addr: addr.to_owned(),
                });
            }
            waiter
                .response()
                .await
                .map_err(|_closed| InvokeError::Closed {
                    addr: addr.to_owned(),
                })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_elapsed) => Err(InvokeError::Timeout {
                addr: addr.to_owned(),
                code,
                timeout,
            }),
        }
    }

    /// Sends a request that expects no response.
    pub async fn invoke_oneway(
        &self,
        addr: &str,
        mut request: RemotingCommand,
    ) -> Result<(), InvokeError> {
        let connection = self.connection(addr).await?;
        request.opaque = self.inner.opaques.next();
        self.sign(&mut request);
        connection
            .outbound
            .send(Outbound::Command(request.into_oneway()))
            .await
            .map_err(|_closed| {
                self.forget_connection(addr, &connection);
                InvokeError::Closed {
                    addr: addr.to_owned(),
                }
            })
    }

    /// Closes the connection to `addr`, if any; requests waiting on it fail with `Closed`.
    pub fn close(&self, addr: &str) {
        let removed = lock(&self.inner.connections).remove(addr);
        if let Some(connection) = removed {
            let _ = connection.outbound.try_send(Outbound::Close);
        }
    }

    async fn connection(&self, addr: &str) -> Result<Arc<Connection>, InvokeError> {
        if let Some(connection) = lock(&self.inner.connections).get(addr)
            && !connection.outbound.is_closed()
        {
            return Ok(connection.clone());
        }
        let timeout = self.inner.config.connect_timeout;
        let timed_out = |_| InvokeError::ConnectTimeout {
            addr: addr.to_owned(),
            timeout,
        };
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(timed_out)?
            .map_err(|source| InvokeError::Connect {
                addr: addr.to_owned(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let connection = match &self.inner.config.tls {
            None => {
                let (read_half, write_half) = stream.into_split();
                self.start(addr, read_half, write_half)
            }
            Some(tls) => {
                let stream = tokio::time::timeout(timeout, tls.connect(addr, stream))
                    .await
                    .map_err(timed_out)?
                    .map_err(|source| InvokeError::Tls {
                        addr: addr.to_owned(),
                        source,
                    })?;
                let (read_half, write_half) = tokio::io::split(stream);
                self.start(addr, read_half, write_half)
            }
        };
        let mut connections = lock(&self.inner.connections);
        // Two callers may have connected at once; keep the first live one.
        if let Some(existing) = connections.get(addr)
            && !existing.outbound.is_closed()
        {
            let _ = connection.outbound.try_send(Outbound::Close);
            return Ok(existing.clone());
        }
        connections.insert(addr.to_owned(), connection.clone());
        Ok(connection)
    }

    fn start<R, W>(&self, addr: &str, read_half: R, write_half: W) -> Arc<Connection>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (outbound, queue) = mpsc::channel(self.inner.config.write_queue);
        let pending: Arc<Pending> = Arc::default();
        let peer = addr.to_owned();
        tokio::spawn(async move {
            if let Err(error) = write_loop(write_half, queue).await {
                debug!(addr = %peer, %error, "client write failed");
            }
        });
        let mut reader = FrameReader::new(read_half, self.inner.config.max_frame_len);
        let replies = outbound.clone();
        let waiting = pending.clone();
        let peer = addr.to_owned();
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let command = match reader.read_command().await {
                    Ok(Some(command)) => command,
                    Ok(None) => break,
                    Err(error) => {
                        debug!(addr = %peer, %error, "client connection broken");
                        break;
                    }
                };
                if command.is_response() {
                    let opaque = command.opaque;
                    if waiting.complete(command) == Completed::Late {
                        debug!(addr = %peer, opaque, "late response dropped");
                    }
                } else if !command.is_oneway() {
                    let answer = RemotingCommand::request_code_not_supported(&command);
                    if replies.send(Outbound::Command(answer)).await.is_err() {
                        break;
                    }
                }
            }
            // Dropping the waiters fails their requests with `Closed` at once.
            waiting.fail_all();
            let _ = replies.try_send(Outbound::Close);
            if let Some(inner) = inner.upgrade() {
                let mut connections = lock(&inner.connections);
                if connections
                    .get(&peer)
                    .is_some_and(|current| Arc::ptr_eq(&current.pending, &waiting))
                {
                    connections.remove(&peer);
                }
                drop(connections);
                inner.closed.notify_one();
            }
        });
        Arc::new(Connection { outbound, pending })
    }

    fn forget_connection(&self, addr: &str, connection: &Arc<Connection>) {
        let mut connections = lock(&self.inner.connections);
        if connections
            .get(addr)
            .is_some_and(|current| Arc::ptr_eq(current, connection))
        {
            connections.remove(addr);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map stays consistent even if a holder panicked: every update is a single insert/remove.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A request could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("connecting to {addr} failed")]
    Connect {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("TLS handshake with {addr} failed: {source}")]
    Tls {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("connecting to {addr} took longer than {timeout:?}")]
    ConnectTimeout { addr: String, timeout: Duration },
    #[error("connection to {addr} closed before the response arrived")]
    Closed { addr: String },
    #[error("request {code} to {addr} got no response within {timeout:?}")]
    Timeout {
        addr: String,
        code: i32,
        timeout: Duration,
    },
}
