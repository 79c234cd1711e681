//! What `rmq-broker`'s command line adds to `broker.conf` before the broker starts:
//!
//! - `--set key=value` ([`parse_override`]): keys applied after the file's, with the file's
//!   parsing and checks ([`crate::BrokerConfig::from_properties_with`]). The operator passes
//!   `--set brokerIP1=$(HOST_IP)` so that a broker behind a node port advertises its node's IP.
//! - `--broker-ip1-file PATH` ([`broker_ip1_from_file`]): waits until the file holds an address
//!   and advertises it as `brokerIP1`. The operator writes a load balancer's address there once
//!   the cloud has assigned one; until then the broker is not registered anywhere, and its
//!   health port (when `healthListenPort` is set) answers `/livez` but not `/readyz`, so
//!   Kubernetes neither restarts it nor counts it ready.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_remoting::prometheus::http::{Page, Pages, serve_pages};
use tokio::net::TcpListener;
use tracing::info;

use crate::config::{BrokerConfig, ConfigError};

/// A `--set` argument that is not `key=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("{arg:?} has no '=': write key=value, e.g. brokerIP1=10.0.0.7")]
    NoEquals { arg: String },
    #[error("{arg:?} has no key before '=' or a key with blanks: write key=value")]
    BadKey { arg: String },
}

/// Splits `key=value` at the first `=`. The key is trimmed and must be one word; the value is
/// checked later, by the key's own rule, as if it came from the file.
pub fn parse_override(arg: &str) -> Result<(String, String), OverrideError> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(OverrideError::NoEquals {
            arg: arg.to_owned(),
        });
    };
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(OverrideError::BadKey {
            arg: arg.to_owned(),
        });
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// How [`wait_for_file`] polls: a bounded sleep between reads, a log line now and then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// Sleep between two reads of the file.
    pub every: Duration,
    /// Time between two "still waiting" log lines.
    pub log_every: Duration,
}

impl Poll {
    /// One read a second, a log line every five: the operator writes the address within a
    /// reconcile of the load balancer getting it, and the kubelet brings the file within a
    /// minute.
    pub const DEFAULT: Poll = Poll {
        every: Duration::from_secs(1),
        log_every: Duration::from_secs(5),
    };
}

/// Reading the file failed for another reason than its absence.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}", .path.display())]
pub struct WaitError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Waits until `path` exists and holds more than blanks; returns its content trimmed, or
/// `None` when `stop` completes first.
pub async fn wait_for_file(
    path: &Path,
    poll: Poll,
    stop: impl Future<Output = ()>,
) -> Result<Option<String>, WaitError> {
    tokio::pin!(stop);
    let started = Instant::now();
    let mut logged: Option<Instant> = None;
    loop {
        // A few bytes from a mounted volume, once a second: read in place.
        match std::fs::read_to_string(path) {
            Ok(text) if !text.trim().is_empty() => return Ok(Some(text.trim().to_owned())),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(WaitError {
                    path: path.to_owned(),
                    source,
                });
            }
        }
        if logged.is_none_or(|at| at.elapsed() >= poll.log_every) {
            info!(
                path = %path.display(),
                waited_s = started.elapsed().as_secs(),
                "waiting for brokerIP1: the file is missing or empty"
            );
            logged = Some(Instant::now());
        }
        tokio::select! {
            () = &mut stop => return Ok(None),
            () = tokio::time::sleep(poll.every) => {}
        }
    }
}

/// Waiting for `brokerIP1` did not end in an address.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot serve the health port {addr} while waiting for brokerIP1")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Read(#[from] WaitError),
    #[error("the address in {} is not a valid brokerIP1", .path.display())]
    Address {
        path: PathBuf,
        #[source]
        source: ConfigError,
    },
}

/// Waits for `path` ([`wait_for_file`]) and sets its content as `config`'s `brokerIP1`;
/// meanwhile serves [`waiting_pages`] on `healthListenPort` (when set). `Ok(false)`: `stop`
/// came first.
pub async fn broker_ip1_from_file(
    config: &mut BrokerConfig,
    path: &Path,
    poll: Poll,
    stop: impl Future<Output = ()>,
) -> Result<bool, LaunchError> {
    let health = match config.health_listen_port {
        0 => None,
        port => {
            let addr = SocketAddr::new(config.bind_address, port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| LaunchError::Bind { addr, source })?;
            let (done, finished) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(serve_pages(listener, waiting_pages(path), async {
                let _ = finished.await;
            }));
            Some((done, server))
        }
    };
    let waited = wait_for_file(path, poll, stop).await;
    if let Some((done, server)) = health {
        // The broker binds the same port next: the listener must be closed first.
        let _ = done.send(());
        let _ = server.await;
    }
    let Some(address) = waited? else {
        return Ok(false);
    };
    config
        .apply("brokerIP1", &address)
        .map_err(|source| LaunchError::Address {
            path: path.to_owned(),
            source,
        })?;
    info!(broker_ip1 = %config.broker_ip1, path = %path.display(), "brokerIP1 read from file");
    Ok(true)
}

/// The health endpoint of a broker still waiting for its address: alive, not ready.
pub fn waiting_pages(path: &Path) -> Pages {
    let waiting = format!("waiting for brokerIP1 in {}\n", path.display());
    Arc::new(move |page| match page {
        "/livez" => Some(text("200 OK", "ok\n".to_owned())),
        "/readyz" => Some(text("503 Service Unavailable", waiting.clone())),
        _ => None,
    })
}

fn text(status: &'static str, body: String) -> Page {
    Page {
        status,
        content_type: "text/plain; charset=utf-8",
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Poll = Poll {
        every: Duration::from_millis(10),
        log_every: Duration::from_millis(50),
    };

    #[test]
    fn an_override_splits_at_the_first_equals_sign_and_keeps_the_value_as_given() {
        assert_eq!(
            parse_override("brokerIP1=10.0.0.7"),
            Ok(("brokerIP1".to_owned(), "10.0.0.7".to_owned()))
        );
        assert_eq!(
            parse_override(" k =a=b"),
            Ok(("k".to_owned(), "a=b".to_owned()))
        );
        assert_eq!(
            parse_override("brokerIP1="),
            Ok(("brokerIP1".to_owned(), String::new())),
            "an empty value is the key's own rule to refuse"
        );
    }

    #[test]
    fn an_override_without_equals_sign_or_key_is_refused_saying_what_to_write() {
        let none = parse_override("novalue").unwrap_err();
        assert_eq!(
            none,
            OverrideError::NoEquals {
                arg: "novalue".to_owned()
            }
        );
        assert!(none.to_string().contains("key=value"), "{none}");
        for bad in ["=1", " =1", "two words=1"] {
            assert!(
                matches!(parse_override(bad), Err(OverrideError::BadKey { .. })),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn the_wait_ends_with_the_trimmed_address_once_another_thread_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pod.external-address");
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                std::fs::write(&path, "").unwrap();
                std::thread::sleep(Duration::from_millis(30));
                std::fs::write(&path, "  203.0.113.9\n").unwrap();
            })
        };
        let got = tokio::time::timeout(
            Duration::from_secs(10),
            wait_for_file(&path, FAST, std::future::pending()),
        )
        .await
        .expect("the wait ends once the file has an address")
        .unwrap();
        writer.join().unwrap();
        assert_eq!(got.as_deref(), Some("203.0.113.9"));
    }

    #[tokio::test]
    async fn the_wait_ends_without_an_address_when_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("never-written");
        let got = wait_for_file(&path, FAST, tokio::time::sleep(Duration::from_millis(50)))
            .await
            .unwrap();
        assert_eq!(got, None);
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_read_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let error = wait_for_file(dir.path(), FAST, std::future::pending())
            .await
            .unwrap_err();
        assert_eq!(error.path, dir.path());
    }

    #[tokio::test]
    async fn the_address_read_becomes_broker_ip1_through_the_keys_own_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("address");
        std::fs::write(&path, "lb-1.example.com\n").unwrap();
        let mut config = BrokerConfig::from_properties("listenPort=10911\n").unwrap();
        let got = broker_ip1_from_file(&mut config, &path, FAST, std::future::pending())
            .await
            .unwrap();
        assert!(got);
        assert_eq!(config.broker_addr(), "lb-1.example.com:10911");
    }

    #[test]
    fn a_waiting_broker_is_alive_but_not_ready() {
        let pages = waiting_pages(Path::new("/etc/rocketmq/b-0.external-address"));
        assert_eq!(pages("/livez").map(|p| p.status), Some("200 OK"));
        let ready = pages("/readyz").expect("readyz");
        assert_eq!(ready.status, "503 Service Unavailable");
        assert!(ready.body.contains("/etc/rocketmq/b-0.external-address"));
        assert!(pages("/metrics").is_none());
    }
}
