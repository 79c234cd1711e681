//! The shell around [`crate::local::security`] for `rmqctl up`: make or reuse the local CA,
//! check every certificate before anything starts, write the files, and build the connections
//! `up` uses for its own checks.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rmq_operator::crd::TlsRole;
use rmq_operator::validate::ValidatedCluster;
use rmq_remoting::ClientConfig;
use rmq_remoting::tls::client::ClientTls;
use rustls::pki_types::UnixTime;

use crate::local::certs;
use crate::local::error::{CertificateRefused, UpError};
use crate::local::pki::{self, Made};
use crate::local::plan::Plan;
use crate::local::security::{
    self, CertSource, Holder, LOCAL_CERT_HOST, LocalCa, Reach, Security, Usage,
};

/// The local CA, when a role has `issuerRef`: made in `<dir>/tls/pki` or reused from there.
pub fn local_ca(plan: &Plan, security: &Security) -> Result<Option<(LocalCa, Made)>, UpError> {
    if !security.needs_local_ca() {
        return Ok(None);
    }
    Ok(Some(pki::ensure(
        &security::pki_dir(&plan.dir),
        SystemTime::now(),
    )?))
}

/// Runs [`security::cert_checks`] on the certificates `security` and `local` hold, now.
pub fn check_certificates(
    cluster: &ValidatedCluster,
    security: &Security,
    local: Option<&LocalCa>,
) -> Result<(), UpError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let at = UnixTime::since_unix_epoch(now);
    for check in security::cert_checks(cluster, security) {
        let cert = match check.cert {
            Holder::Role(role) => security.material(role, local).map(|(pair, _)| &pair.cert),
            Holder::LocalClient => local.map(|l| &l.client.cert),
        };
        let ca = security.material(check.ca, local).and_then(|(_, ca)| ca);
        // Checks are only made of certificates and CAs the roles have.
        let (Some(cert), Some(ca)) = (cert, ca) else {
            continue;
        };
        let verdict = match check.usage {
            Usage::Server => certs::check_server(cert, ca, LOCAL_CERT_HOST, at),
            Usage::Client => certs::check_client(cert, ca, at),
        };
        verdict.map_err(|source| {
            UpError::Certificate(Box::new(CertificateRefused {
                cert: describe_cert(security, check.cert),
                usage: match check.usage {
                    Usage::Server => format!("a server certificate for {LOCAL_CERT_HOST}"),
                    Usage::Client => "a client certificate".to_owned(),
                },
                ca: describe_ca(security, check.ca),
                why: check.why,
                hint: match check.usage {
                    Usage::Server => {
                        "a local run needs a certificate for IP 127.0.0.1 and a server use, signed \
                     by that CA; or use issuerRef for a local CA"
                    }
                    Usage::Client => {
                        "give the certificate clientAuth in its extended key usage, use issuerRef \
                     for a local CA, or ask for clientAuth: optional"
                    }
                },
                source,
            }))
        })?;
    }
    Ok(())
}

fn source_of(security: &Security, role: TlsRole) -> String {
    match security.role(role).map(|r| &r.source) {
        Some(CertSource::Secret { name, .. }) => format!("Secret {name}"),
        _ => "the local CA of issuerRef".to_owned(),
    }
}

fn describe_cert(security: &Security, holder: Holder) -> String {
    match holder {
        Holder::Role(role) => format!(
            "the {} certificate ({})",
            possessive(role),
            source_of(security, role)
        ),
        Holder::LocalClient => "the local CA's client certificate".to_owned(),
    }
}

fn describe_ca(security: &Security, role: TlsRole) -> String {
    format!(
        "the {} ca.crt ({})",
        possessive(role),
        source_of(security, role)
    )
}

fn possessive(role: TlsRole) -> &'static str {
    match role {
        TlsRole::NameServer => "name servers'",
        TlsRole::Broker => "brokers'",
    }
}

/// Writes [`security::files`]: keys and accounts readable by this user only. A CA bundle left
/// by an earlier run with other settings is removed, so the summary's advice stays true.
pub fn write_files(
    plan: &Plan,
    security: &Security,
    local: Option<&LocalCa>,
) -> Result<(), UpError> {
    let files = security::files(plan, security, local);
    let bundle = security::ca_bundle(&plan.dir);
    if !files.iter().any(|f| f.path == bundle) {
        match std::fs::remove_file(&bundle) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(state_dir("remove", &bundle, e));
            }
            _ => {}
        }
    }
    for file in files {
        if let Some(parent) = file.path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| state_dir("create", parent, e))?;
        }
        write_file(&file.path, &file.bytes, file.private)?;
    }
    Ok(())
}

/// Writes `bytes` to `path`, readable by this user only when `private`.
pub fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), UpError> {
    let mode = if private { 0o600 } else { 0o644 };
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| state_dir("write", path, e))?;
    // `mode` applies to new files only: one left by an earlier run is narrowed before its new
    // content goes in.
    out.set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| out.write_all(bytes))
        .map_err(|e| state_dir("write", path, e))
}

fn state_dir(action: &'static str, path: &Path, source: std::io::Error) -> UpError {
    UpError::StateDir {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The connection settings of `reach` (its files are written), with `timeout` to connect.
pub fn client_config(
    reach: &Reach,
    role: TlsRole,
    timeout: Duration,
) -> Result<ClientConfig, UpError> {
    let tls = reach
        .tls
        .as_ref()
        .map(ClientTls::load)
        .transpose()
        .map_err(|source| UpError::ClientTls {
            role: security::label(role),
            source,
        })?;
    Ok(ClientConfig {
        connect_timeout: timeout,
        credentials: reach.credentials.clone(),
        tls,
        ..ClientConfig::default()
    })
}
