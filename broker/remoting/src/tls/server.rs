//! [`ServerTls`]: the server side of a TLS port: certificate, key and trusted client roots read
//! from PEM files, reloaded when the files change, and [`ServerTls::accept`], which admits a
//! new connection by its mode and first byte (see the parent module).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{Admit, ClientAuth, TlsMode, admit};

/// Where a TLS port's certificate material is (`tls.server.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// `tls.server.certPath`: the certificate chain, PEM, leaf first.
    pub cert: PathBuf,
    /// `tls.server.keyPath`: the private key, PEM (PKCS#8, PKCS#1 or SEC1; not encrypted).
    pub key: PathBuf,
    /// `tls.server.trustCertPath`: the roots client certificates must chain to.
    pub trust: Option<PathBuf>,
    /// `tls.server.need.client.auth`.
    pub client_auth: ClientAuth,
}

/// Why certificate material could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsLoadError {
    #[error("reading {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{what} {path} holds no usable PEM entry: {detail}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("client certificates are {0:?} but no trusted certificates are given")]
    NoTrust(ClientAuth),
    #[error("the trusted certificates cannot check clients: {0}")]
    Verifier(String),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The crypto every TLS configuration here uses (ring; no process-wide default needed).
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsLoadError> {
    std::fs::read(path).map_err(|source| TlsLoadError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Every certificate of the PEM file at `path`; at least one.
pub(crate) fn certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsLoadError> {
    certificates_in(what, path, &read(what, path)?)
}

/// Every certificate of `pem` (read from `source`); at least one.
pub(crate) fn certificates_in(
    what: &'static str,
    source: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsLoadError> {
    let pem_error = |detail: String| TlsLoadError::Pem {
        what,
        path: source.to_owned(),
        detail,
    };
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_error("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// The private key of the PEM file at `path`.
pub(crate) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsLoadError> {
    private_key_in(path, &read("key", path)?)
}

/// The private key of `pem` (read from `source`).
pub(crate) fn private_key_in(
    source: &Path,
    pem: &[u8],
) -> Result<PrivateKeyDer<'static>, TlsLoadError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsLoadError::Pem {
        what: "key",
        path: source.to_owned(),
        detail: format!("{e} (an encrypted key is not supported: keep it in a Secret instead)"),
    })
}

/// Trusted roots from the PEM file at `path`.
pub(crate) fn roots(path: &Path) -> Result<rustls::RootCertStore, TlsLoadError> {
    roots_in(path, &read("trusted certificates", path)?)
}

/// Trusted roots from `pem` (read from `source`).
pub(crate) fn roots_in(source: &Path, pem: &[u8]) -> Result<rustls::RootCertStore, TlsLoadError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates_in("trusted certificates", source, pem)? {
        roots.add(cert).map_err(|e| TlsLoadError::Pem {
            what: "trusted certificates",
            path: source.to_owned(),
            detail: e.to_string(),
        })?;
    }
    Ok(roots)
}

fn server_config(files: &ServerTlsFiles) -> Result<rustls::ServerConfig, TlsLoadError> {
    let certs = certificates("certificate", &files.cert)?;
    let key = private_key(&files.key)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?;
    let builder = match (files.client_auth, &files.trust) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (auth, None) => return Err(TlsLoadError::NoTrust(auth)),
        (auth, Some(trust)) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(trust)?), provider());
            let verifier = match auth {
                ClientAuth::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|e| TlsLoadError::Verifier(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    Ok(builder.with_single_cert(certs, key)?)
}

/// Size and modification time of a file, to notice a change without reading it.
type Stamp = Option<(u64, Option<SystemTime>)>;

fn stamps(files: &ServerTlsFiles) -> Vec<Stamp> {
    [Some(&files.cert), Some(&files.key), files.trust.as_ref()]
        .into_iter()
        .flatten()
        .map(|path| {
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.len(), m.modified().ok()))
        })
        .collect()
}

/// What a reload found.
#[derive(Debug)]
pub enum Reload {
    Unchanged,
    Reloaded,
    /// The files changed but do not load; the previous material stays in force.
    Refused(TlsLoadError),
}

/// A TLS port's mode and certificate material.
pub struct ServerTls {
    mode: TlsMode,
    files: ServerTlsFiles,
    current: RwLock<Arc<rustls::ServerConfig>>,
    seen: Mutex<Vec<Stamp>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("mode", &self.mode)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// Why a connection was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("nothing received within {0:?}")]
    Stalled(Duration),
    #[error("closed before sending anything")]
    Closed,
    #[error("reading the first byte: {0}")]
    Peek(io::Error),
    #[error("a plain (not TLS) client on a port whose TLS mode is enforcing")]
    PlainRefused,
    #[error("TLS handshake failed: {0}")]
    Handshake(io::Error),
}

/// An admitted connection.
pub enum Accepted {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl ServerTls {
    /// Reads the material; fails if any of it is missing or unusable.
    pub fn load(mode: TlsMode, files: ServerTlsFiles) -> Result<ServerTls, TlsLoadError> {
        let seen = stamps(&files);
        let config = server_config(&files)?;
        Ok(ServerTls {
            mode,
            files,
            current: RwLock::new(Arc::new(config)),
            seen: Mutex::new(seen),
        })
    }

    pub fn mode(&self) -> TlsMode {
        self.mode
    }

    pub fn files(&self) -> &ServerTlsFiles {
        &self.files
    }

    fn config(&self) -> Arc<rustls::ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again if any changed size or time; connections already open keep the
    /// material they were made with.
    pub fn reload_if_changed(&self) -> Reload {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamps(&self.files);
        if now == *seen {
            return Reload::Unchanged;
        }
        match server_config(&self.files) {
            Ok(config) => {
                *seen = now;
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
                Reload::Reloaded
            }
            // Seen stays as it was: the next look tries again (a rotation writes the
            // certificate and the key one after the other).
            Err(error) => Reload::Refused(error),
        }
    }

    /// Admits `stream` by the first byte its peer sends: TLS (handshake done), plain, or
    /// refused. Bounded by `timeout` in all.
    pub async fn accept(
        &self,
        stream: TcpStream,
        timeout: Duration,
    ) -> Result<Accepted, AcceptError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let stalled = |_| AcceptError::Stalled(timeout);
        let mut first = [0u8; 1];
        let peeked = tokio::time::timeout_at(deadline, stream.peek(&mut first))
            .await
            .map_err(stalled)?
            .map_err(AcceptError::Peek)?;
        if peeked == 0 {
            return Err(AcceptError::Closed);
        }
        match admit(self.mode, first[0]) {
            Admit::Plain => Ok(Accepted::Plain(stream)),
            Admit::RefusePlain => Err(AcceptError::PlainRefused),
            Admit::Tls => {
                let acceptor = TlsAcceptor::from(self.config());
                let tls = tokio::time::timeout_at(deadline, acceptor.accept(stream))
                    .await
                    .map_err(stalled)?
                    .map_err(AcceptError::Handshake)?;
                Ok(Accepted::Tls(Box::new(tls)))
            }
        }
    }
}

/// How often certificate files are checked for a change.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Reloads `tls` whenever its files change, until `stop` completes; logs what happened.
pub async fn reload_loop(
    tls: Arc<ServerTls>,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
        let checked = tls.clone();
        match tokio::task::spawn_blocking(move || checked.reload_if_changed()).await {
            Ok(Reload::Unchanged) => {}
            Ok(Reload::Reloaded) => {
                tracing::info!(cert = %tls.files.cert.display(), "TLS certificate reloaded; new connections use it");
            }
            Ok(Reload::Refused(error)) => {
                tracing::warn!(%error, "TLS files changed but do not load; the previous certificate stays in use");
            }
            Err(join) => tracing::warn!(error = %join, "TLS reload task failed"),
        }
    }
}
