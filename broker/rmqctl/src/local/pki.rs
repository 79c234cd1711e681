//! The local CA that stands for cert-manager when a TLS role has `issuerRef`: made in
//! `<dir>/tls/pki` by running `bash` on `scripts/make-test-certs.sh` (embedded in the binary, so
//! no checkout is needed at run time) plus one certificate per role, and reused by later runs
//! while it stays valid, so clients keep trusting the same `ca.crt`.
//!
//! ```text
//! <dir>/tls/pki/  (0700)
//!   ca.pem ca.key                  the local CA (30 days)
//!   namesrv.pem .key, broker.pem .key   one per role: 127.0.0.1, ::1, localhost; server + client auth
//!   client.pem .key                client auth only: what `up` and users present for clientAuth
//!   server.pem other-ca.pem ...    the script's other test certificates, unused
//! ```

use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::UnixTime;

use crate::local::certs::{self, CertError};
use crate::local::security::{KeyPair, LOCAL_CERT_HOST, LocalCa};

/// `scripts/make-test-certs.sh`: a CA and test certificates, with the openssl CLI.
pub const SCRIPT: &str = include_str!("../../../../scripts/make-test-certs.sh");

/// Run after [`SCRIPT`], in its output directory and with its functions: one certificate per
/// role, good for server and client authentication as the operator's cert-manager
/// `Certificate`s are (usages: digital signature, server auth, client auth).
const ROLE_CERTIFICATES: &str = "
leaf namesrv ca 30 serverAuth,clientAuth
leaf broker ca 30 serverAuth,clientAuth
rm -f ./*.srl
";

/// Validity a local CA must have left to be reused; otherwise a new one is made.
pub const MIN_VALIDITY_LEFT: Duration = Duration::from_secs(24 * 3600);

/// The local CA could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(
        "spec.security.tls uses issuerRef, which a local run serves with a CA that rmqctl up \
         makes with the openssl command, and `openssl version` failed ({detail}): install \
         openssl (e.g. `apt-get install openssl`), or give the role a secretName"
    )]
    NoOpenssl { detail: String },
    #[error("cannot run bash to make the local CA in {}", .dir.display())]
    Bash {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("making the local CA in {} failed ({status}): {stderr}", .dir.display())]
    Script {
        dir: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("cannot {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the local CA just made in {} does not pass its own check ({what})", .dir.display())]
    Unusable {
        dir: PathBuf,
        what: &'static str,
        #[source]
        source: CertError,
    },
}

/// Whether [`ensure`] made a new CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    New,
    Reused,
}

/// The local CA in `pki`: the one there if it is whole and valid for [`MIN_VALIDITY_LEFT`]
/// after `now`, else a new one (the old directory is replaced).
pub fn ensure(pki: &Path, now: SystemTime) -> Result<(LocalCa, Made), PkiError> {
    if let Ok(local) = load(pki)
        && usable(&local, now + MIN_VALIDITY_LEFT).is_ok()
    {
        return Ok((local, Made::Reused));
    }
    openssl_runs()?;
    if pki.exists() {
        std::fs::remove_dir_all(pki).map_err(|source| io_error("remove", pki, source))?;
    }
    std::fs::create_dir_all(pki).map_err(|source| io_error("create", pki, source))?;
    // The CA's key signs anything: for this user only.
    std::fs::set_permissions(pki, std::fs::Permissions::from_mode(0o700))
        .map_err(|source| io_error("restrict", pki, source))?;
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("{SCRIPT}{ROLE_CERTIFICATES}"))
        .arg("make-test-certs.sh")
        .arg(pki)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| PkiError::Bash {
            dir: pki.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        return Err(PkiError::Script {
            dir: pki.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let local = load(pki)?;
    // Checked at the clock openssl used: its certificates start at the second they were made,
    // after `now` was taken.
    usable(&local, SystemTime::now().max(now)).map_err(|(what, source)| PkiError::Unusable {
        dir: pki.to_path_buf(),
        what,
        source,
    })?;
    Ok((local, Made::New))
}

/// `openssl version` runs and succeeds.
fn openssl_runs() -> Result<(), PkiError> {
    let output = Command::new("openssl")
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| PkiError::NoOpenssl {
            detail: e.to_string(),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(PkiError::NoOpenssl {
            detail: output.status.to_string(),
        })
    }
}

fn load(pki: &Path) -> Result<LocalCa, PkiError> {
    let read = |name: &str| {
        let path = pki.join(name);
        std::fs::read(&path).map_err(|source| io_error("read", &path, source))
    };
    let pair = |name: &str| -> Result<KeyPair, PkiError> {
        Ok(KeyPair {
            cert: read(&format!("{name}.pem"))?,
            key: read(&format!("{name}.key"))?,
        })
    };
    Ok(LocalCa {
        ca: read("ca.pem")?,
        namesrv: pair("namesrv")?,
        broker: pair("broker")?,
        client: pair("client")?,
    })
}

/// Every certificate of `local` checks at `at`: each role's as server for 127.0.0.1 and as
/// client, the client certificate as client.
fn usable(local: &LocalCa, at: SystemTime) -> Result<(), (&'static str, CertError)> {
    let at = UnixTime::since_unix_epoch(at.duration_since(UNIX_EPOCH).unwrap_or_default());
    let ca = &local.ca;
    for (what, pair) in [
        ("name server certificate", &local.namesrv),
        ("broker certificate", &local.broker),
    ] {
        certs::check_server(&pair.cert, ca, LOCAL_CERT_HOST, at).map_err(|e| (what, e))?;
        certs::check_client(&pair.cert, ca, at).map_err(|e| (what, e))?;
    }
    certs::check_client(&local.client.cert, ca, at).map_err(|e| ("client certificate", e))
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> PkiError {
    PkiError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn unix(at: SystemTime) -> UnixTime {
        UnixTime::since_unix_epoch(at.duration_since(UNIX_EPOCH).unwrap())
    }

    #[test]
    fn the_embedded_script_still_defines_the_leaf_function_the_role_certificates_call() {
        assert!(SCRIPT.contains("leaf() { # name ca days usage"), "{SCRIPT}");
        assert!(SCRIPT.contains("\nca ca\n"), "the CA is still named ca");
    }

    #[test]
    fn the_local_ca_is_made_once_reused_while_valid_and_replaced_near_its_end() {
        let tmp = tempfile::tempdir().unwrap();
        let pki = tmp.path().join("tls/pki");
        let now = SystemTime::now();
        let (first, made) = ensure(&pki, now).unwrap();
        assert_eq!(made, Made::New);
        let mode = std::fs::metadata(&pki).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let (again, made) = ensure(&pki, now + DAY).unwrap();
        assert_eq!((made, &again.ca), (Made::Reused, &first.ca));
        // 30 days of validity: at day 29.5 less than a day is left.
        let (late, made) = ensure(&pki, now + DAY * 29 + DAY / 2).unwrap();
        assert_eq!(made, Made::New);
        assert_ne!(late.ca, first.ca);
    }

    #[test]
    fn role_certificates_serve_and_authenticate_but_the_scripts_server_only_one_cannot_be_a_client()
    {
        let tmp = tempfile::tempdir().unwrap();
        let pki = tmp.path().join("pki");
        let (local, _) = ensure(&pki, SystemTime::now()).unwrap();
        let at = unix(SystemTime::now());
        let read = |name: &str| std::fs::read(pki.join(name)).unwrap();
        for pair in [&local.namesrv, &local.broker] {
            certs::check_server(&pair.cert, &local.ca, "127.0.0.1", at).unwrap();
            certs::check_server(&pair.cert, &local.ca, "localhost", at).unwrap();
            certs::check_client(&pair.cert, &local.ca, at).unwrap();
        }
        let server_only = read("server.pem");
        let error = certs::check_client(&server_only, &local.ca, at).unwrap_err();
        assert!(matches!(error, CertError::Refused(_)), "{error:?}");
        let error = certs::check_server(&local.client.cert, &local.ca, "127.0.0.1", at);
        assert!(matches!(error, Err(CertError::Refused(_))), "{error:?}");
    }

    #[test]
    fn certificates_of_another_ca_another_host_or_past_their_end_are_refused_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let pki = tmp.path().join("pki");
        let (local, _) = ensure(&pki, SystemTime::now()).unwrap();
        let at = unix(SystemTime::now());
        let other = std::fs::read(pki.join("other-server.pem")).unwrap();
        let error = certs::check_server(&other, &local.ca, "127.0.0.1", at).unwrap_err();
        assert!(error.to_string().contains("UnknownIssuer"), "{error}");
        let expired = std::fs::read(pki.join("expired.pem")).unwrap();
        let error = certs::check_server(&expired, &local.ca, "127.0.0.1", at).unwrap_err();
        assert!(error.to_string().contains("xpired"), "{error}");
        let error = certs::check_server(&local.broker.cert, &local.ca, "10.9.8.7", at).unwrap_err();
        assert!(error.to_string().contains("not valid for name"), "{error}");
        assert!(matches!(
            certs::check_server(b"not pem", &local.ca, "127.0.0.1", at),
            Err(CertError::Empty { .. })
        ));
    }
}
