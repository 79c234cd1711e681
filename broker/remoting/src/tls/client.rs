//! [`ClientTls`]: TLS for the connections we open, with Apache's client keys (`tls.client.*`):
//! the server's certificate is checked against `tls.client.trustCertPath` when
//! `tls.client.authServer` is true, and not checked otherwise (Apache's default: the channel is
//! encrypted, the server not authenticated); a client certificate is presented when
//! `tls.client.certPath` and `tls.client.keyPath` are given (mutual TLS).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::server::{
    TlsLoadError, certificates, certificates_in, private_key, private_key_in, provider, roots,
    roots_in,
};

/// Where a client's certificate material is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientTlsFiles {
    /// `tls.client.authServer`: check the server's certificate.
    pub verify_server: bool,
    /// `tls.client.trustCertPath`: roots the server's certificate must chain to.
    pub trust: Option<PathBuf>,
    /// `tls.client.certPath`: a certificate to present (mutual TLS).
    pub cert: Option<PathBuf>,
    /// `tls.client.keyPath`: its key.
    pub key: Option<PathBuf>,
}

impl ClientTlsFiles {
    /// What a tool's flags ask for: `--tls`, `--tls-ca` (check the server against these
    /// roots), `--tls-cert` and `--tls-key` (a client certificate). Any of the files turns TLS
    /// on; `None`: plain connections.
    pub fn from_flags(
        tls: bool,
        ca: Option<PathBuf>,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> Option<ClientTlsFiles> {
        (tls || ca.is_some() || cert.is_some() || key.is_some()).then(|| ClientTlsFiles {
            verify_server: ca.is_some(),
            trust: ca,
            cert,
            key,
        })
    }
}

/// Why a client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientTlsError {
    #[error(transparent)]
    Load(#[from] TlsLoadError),
    #[error(
        "checking the server's certificate needs trusted certificates (tls.client.trustCertPath)"
    )]
    NoTrust,
    #[error("a client certificate needs both tls.client.certPath and tls.client.keyPath")]
    HalfIdentity,
}

/// A TLS client configuration; cheap to share.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    verify_server: bool,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("verify_server", &self.verify_server)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    pub fn load(files: &ClientTlsFiles) -> Result<ClientTls, ClientTlsError> {
        let builder = builder(files.verify_server, || match &files.trust {
            Some(trust) => Ok(Some(roots(trust)?)),
            None => Ok(None),
        })?;
        let config = match (&files.cert, &files.key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(certificates("client certificate", cert)?, private_key(key)?)
                .map_err(TlsLoadError::Config)?,
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(ClientTlsError::HalfIdentity),
        };
        Ok(ClientTls {
            config: Arc::new(config),
            verify_server: files.verify_server,
        })
    }

    /// [`ClientTls::load`] from PEM held in memory (e.g. the keys of a Kubernetes Secret).
    pub fn from_pem(pem: &ClientTlsPem) -> Result<ClientTls, ClientTlsError> {
        let builder = builder(pem.verify_server, || match &pem.trust {
            Some(trust) => Ok(Some(roots_in(Path::new(&trust.source), &trust.bytes)?)),
            None => Ok(None),
        })?;
        let config = match &pem.identity {
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    certificates_in("client certificate", Path::new(&cert.source), &cert.bytes)?,
                    private_key_in(Path::new(&key.source), &key.bytes)?,
                )
                .map_err(TlsLoadError::Config)?,
            None => builder.with_no_client_auth(),
        };
        Ok(ClientTls {
            config: Arc::new(config),
            verify_server: pem.verify_server,
        })
    }

    /// Runs the handshake over `stream`, to the server at `addr` (`host:port`; the host names
    /// the certificate expected when the server is checked).
    pub async fn connect(&self, addr: &str, stream: TcpStream) -> io::Result<TlsStream<TcpStream>> {
        let host = addr
            .rsplit_once(':')
            .map_or(addr, |(host, _port)| host)
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("server name {host}: {e}"),
            )
        })?;
        TlsConnector::from(self.config.clone())
            .connect(name, stream)
            .await
    }
}

/// Certificate material of a client in memory, as PEM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientTlsPem {
    /// Check the server's certificate against `trust`.
    pub verify_server: bool,
    /// Roots the server's certificate must chain to.
    pub trust: Option<Pem>,
    /// A certificate and its key to present (mutual TLS).
    pub identity: Option<(Pem, Pem)>,
}

/// PEM bytes and where they came from (named in errors).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Pem {
    pub source: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Pem {
    // A key's bytes never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pem")
            .field("source", &self.source)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// The builder up to the server check: roots from `trust` when the server is checked, any
/// server otherwise.
fn builder(
    verify_server: bool,
    trust: impl FnOnce() -> Result<Option<rustls::RootCertStore>, TlsLoadError>,
) -> Result<
    rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    ClientTlsError,
> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsLoadError::Config)?;
    if !verify_server {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider()))));
    }
    match trust()? {
        Some(roots) => Ok(builder.with_root_certificates(roots)),
        None => Err(ClientTlsError::NoTrust),
    }
}

/// Apache's `tls.client.authServer=false`: any certificate is taken, but the handshake's
/// signatures are still checked against it, so the channel is a real TLS channel.
#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
