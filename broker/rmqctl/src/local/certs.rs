//! Certificate checks with the verifiers the servers and clients use (rustls, webpki): whether a
//! PEM certificate chains to a CA, is valid at a given time, and is good for a server name or
//! for client authentication (its extended key usage). Pure: bytes and a time in, a verdict out.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;

/// A certificate does not pass.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("the {what} is not PEM: {detail}")]
    Pem { what: &'static str, detail: String },
    #[error("the {what} holds no PEM certificate")]
    Empty { what: &'static str },
    #[error("the CA certificate cannot be used: {0}")]
    Ca(rustls::Error),
    #[error("no verifier can be made with that CA: {0}")]
    Verifier(String),
    /// What the verifier says, such as an unknown issuer, a name not covered, an extended key
    /// usage not allowed, or an expired certificate.
    #[error(transparent)]
    Refused(rustls::Error),
}

/// Checks that `cert` (PEM, leaf first) chains to `ca`, is valid at `at`, and is a server
/// certificate for `host`, as a client checking the server would.
pub fn check_server(cert: &[u8], ca: &[u8], host: &str, at: UnixTime) -> Result<(), CertError> {
    let (leaf, intermediates) = chain(cert)?;
    let verifier = WebPkiServerVerifier::builder_with_provider(roots(ca)?, provider())
        .build()
        .map_err(|e| CertError::Verifier(e.to_string()))?;
    let name = ServerName::try_from(host.to_owned()).map_err(|e| CertError::Pem {
        what: "server name",
        detail: e.to_string(),
    })?;
    verifier
        .verify_server_cert(&leaf, &intermediates, &name, &[], at)
        .map(|_| ())
        .map_err(CertError::Refused)
}

/// Checks that `cert` (PEM, leaf first) chains to `ca`, is valid at `at`, and may authenticate
/// a client, as a server asking for client certificates would.
pub fn check_client(cert: &[u8], ca: &[u8], at: UnixTime) -> Result<(), CertError> {
    let (leaf, intermediates) = chain(cert)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider())
        .build()
        .map_err(|e| CertError::Verifier(e.to_string()))?;
    verifier
        .verify_client_cert(&leaf, &intermediates, at)
        .map(|_| ())
        .map_err(CertError::Refused)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certificates(what: &'static str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Pem {
            what,
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CertError::Empty { what });
    }
    Ok(certs)
}

fn chain(pem: &[u8]) -> Result<(CertificateDer<'static>, Vec<CertificateDer<'static>>), CertError> {
    let mut certs = certificates("certificate", pem)?.into_iter();
    let leaf = certs.next().ok_or(CertError::Empty {
        what: "certificate",
    })?;
    Ok((leaf, certs.collect()))
}

fn roots(pem: &[u8]) -> Result<Arc<rustls::RootCertStore>, CertError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates("CA certificate", pem)? {
        roots.add(cert).map_err(CertError::Ca)?;
    }
    Ok(Arc::new(roots))
}

// Tested with certificates the openssl CLI makes, in `pki`'s tests.
