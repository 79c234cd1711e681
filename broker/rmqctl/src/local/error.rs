//! What can go wrong: [`UpError`] for `rmqctl up`, [`DownError`] for `rmqctl down`, one
//! variant per action that failed.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use rmq_operator::validate::InvalidSpec;

use crate::local::certs::CertError;
use crate::local::manifest::LoadError;
use crate::local::pids::PidsError;
use crate::local::pki::PkiError;
use crate::local::plan::PlanError;
use crate::local::process::MissingBinary;
use crate::local::security::SecurityError;

/// `rmqctl up` failed. Once anything was spawned, it has been stopped again.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    Manifest(#[from] LoadError),
    /// The operator's validation refused the spec; its message lists every problem.
    #[error("the RocketCluster in {} is invalid", .path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: InvalidSpec,
    },
    /// `spec.security` names a Secret the manifest lacks, or cannot be checked by `up`.
    #[error("cannot run spec.security of {} locally", .path.display())]
    Security {
        path: PathBuf,
        #[source]
        source: SecurityError,
    },
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// A certificate that a process or `up` would refuse once started.
    #[error(transparent)]
    Certificate(Box<CertificateRefused>),
    #[error("cannot set up the TLS connections to the {role}")]
    ClientTls {
        /// `name servers` or `brokers`.
        role: &'static str,
        #[source]
        source: rmq_remoting::tls::client::ClientTlsError,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot find the directory of the running rmqctl")]
    CurrentExe(#[source] io::Error),
    #[error(transparent)]
    MissingBinary(#[from] MissingBinary),
    #[error("cannot {action} {}", .path.display())]
    StateDir {
        /// `create`, `write`, ...
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Pids(#[from] PidsError),
    #[error(
        "cluster {cluster} started from {} is still running ({running}): stop it with \
         `rmqctl down --dir {}` first",
        .dir.display(), .dir.display()
    )]
    AlreadyRunning {
        cluster: String,
        dir: PathBuf,
        /// `name (pid N)`, comma-separated.
        running: String,
    },
    #[error(
        "ports already in use: {}; stop what listens there or choose another --base-port",
        port_list(.ports)
    )]
    PortsInUse {
        /// `(process that needs it, port)`.
        ports: Vec<(String, u16)>,
    },
    #[error("cannot install the SIGINT/SIGTERM handlers")]
    Signals(#[source] io::Error),
    #[error("cannot start {name} ({})", .binary.display())]
    Spawn {
        name: String,
        binary: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{name} exited ({status}) before logging `listening on`; last lines of {}:\n{tail}",
        .log.display()
    )]
    ExitedEarly {
        name: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "{name} did not log `listening on` within {} s{}; last lines of {}:\n{tail}",
        .waited.as_secs(), rust_log_note(.rust_log), .log.display()
    )]
    NotListening {
        name: String,
        waited: Duration,
        /// The `RUST_LOG` the process inherited, which may have filtered the line out.
        rust_log: Option<String>,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "brokers not registered with the name servers within {} s: {}{}; broker logs:\n{tails}",
        .waited.as_secs(), .missing.join(", "), last_error_suffix(.last_error)
    )]
    NotRegistered {
        waited: Duration,
        /// `broker (addr) on namesrv`.
        missing: Vec<String>,
        /// The last failed GET_BROKER_CLUSTER_INFO, if any.
        last_error: Option<String>,
        /// Last lines of each missing broker's log, with its path.
        tails: String,
    },
    #[error(
        "masters still without their slaves' replication connection after {waited:?}: {}{}; \
         see the slaves' logs",
        .waiting.join(", "), last_error_suffix(.last_error)
    )]
    NotReplicating {
        waited: Duration,
        /// `master (addr): connected/expected`.
        waiting: Vec<String>,
        /// The last failed GET_BROKER_RUNTIME_INFO, if any (a refused signature, a handshake).
        last_error: Option<String>,
    },
    #[error(
        "{name} exited ({status}) while the cluster was running, so the cluster was stopped; \
         last lines of {}:\n{tail}",
        .log.display()
    )]
    ExitedWhileRunning {
        name: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("interrupted by {signal} while starting; every process started was stopped")]
    Interrupted { signal: &'static str },
    #[error("{} still running after SIGKILL", .names.join(", "))]
    Survived { names: Vec<String> },
}

/// A certificate of `spec.security` would be refused by whoever checks it (boxed in
/// [`UpError`]: it is the largest failure and the rarest).
#[derive(Debug, thiserror::Error)]
#[error("{cert} is not {usage} signed by {ca}, which it must be: {why} ({hint})")]
pub struct CertificateRefused {
    /// `the brokers' certificate (Secret b-tls)`.
    pub cert: String,
    /// `a server certificate for 127.0.0.1`, `a client certificate`.
    pub usage: String,
    /// `the name servers' ca.crt (Secret ns-tls)`.
    pub ca: String,
    pub why: &'static str,
    /// What would pass.
    pub hint: &'static str,
    #[source]
    pub source: CertError,
}

/// `rmqctl down` failed.
#[derive(Debug, thiserror::Error)]
pub enum DownError {
    #[error(transparent)]
    Manifest(#[from] LoadError),
    #[error("the RocketCluster in {} has no metadata.name", .path.display())]
    NoName { path: PathBuf },
    #[error(
        "there is no state directory {}: pass the --dir (or -f) that `rmqctl up` used",
        .dir.display()
    )]
    NoStateDir { dir: PathBuf },
    #[error(
        "pass --dir or -f: {} holds {}",
        .searched.display(), found_clusters(.found)
    )]
    WhichCluster {
        searched: PathBuf,
        /// State directories with a pids.json.
        found: Vec<PathBuf>,
    },
    #[error(transparent)]
    Pids(#[from] PidsError),
    #[error("{} still running after SIGKILL; pids.json was kept", .names.join(", "))]
    Survived { names: Vec<String> },
    #[error(
        "refusing to purge {}: it has no manifest.yaml, so rmqctl up did not create it",
        .dir.display()
    )]
    NotAStateDir { dir: PathBuf },
    #[error("cannot remove {}", .path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn port_list(ports: &[(String, u16)]) -> String {
    ports
        .iter()
        .map(|(name, port)| format!("{port} ({name})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rust_log_note(rust_log: &Option<String>) -> String {
    match rust_log {
        Some(filter) => format!(
            " (RUST_LOG={filter} is passed on: it must keep the info lines of rmq_namesrv and \
             rmq_broker)"
        ),
        None => String::new(),
    }
}

fn last_error_suffix(error: &Option<String>) -> String {
    match error {
        Some(error) => format!(" (last error: {error})"),
        None => String::new(),
    }
}

fn found_clusters(found: &[PathBuf]) -> String {
    if found.is_empty() {
        return "no cluster started by rmqctl up (no */pids.json)".to_owned();
    }
    let dirs: Vec<String> = found.iter().map(|d| d.display().to_string()).collect();
    format!("{} clusters: {}", found.len(), dirs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_ports_are_listed_with_the_process_that_needs_them() {
        let error = UpError::PortsInUse {
            ports: vec![
                ("demo-namesrv-0".into(), 9876),
                ("demo-broker-0-0".into(), 10911),
            ],
        };
        assert_eq!(
            error.to_string(),
            "ports already in use: 9876 (demo-namesrv-0), 10911 (demo-broker-0-0); stop what \
             listens there or choose another --base-port"
        );
    }

    #[test]
    fn a_readiness_timeout_names_the_log_and_shows_its_tail() {
        let error = UpError::NotListening {
            name: "demo-broker-0-0".into(),
            waited: Duration::from_secs(30),
            rust_log: Some("warn".into()),
            log: "/s/logs/demo-broker-0-0.log".into(),
            tail: "    opening store".into(),
        };
        assert_eq!(
            error.to_string(),
            "demo-broker-0-0 did not log `listening on` within 30 s (RUST_LOG=warn is passed on: \
             it must keep the info lines of rmq_namesrv and rmq_broker); last lines of \
             /s/logs/demo-broker-0-0.log:\n    opening store"
        );
    }

    #[test]
    fn down_without_a_directory_says_which_clusters_it_found() {
        let error = DownError::WhichCluster {
            searched: ".rmq".into(),
            found: vec![".rmq/a".into(), ".rmq/b".into()],
        };
        assert_eq!(
            error.to_string(),
            "pass --dir or -f: .rmq holds 2 clusters: .rmq/a, .rmq/b"
        );
    }
}
