#![allow(clippy::unwrap_used)]
//! TLS ports over real sockets on 127.0.0.1, with certificates made by the openssl CLI
//! (`scripts/make-test-certs.sh`): each mode against plain and TLS clients, mutual TLS, server
//! checks by the client, rotation without restart, stalled handshakes, and `openssl s_client`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_remoting::tls::client::{ClientTls, ClientTlsFiles, ClientTlsPem, Pem};
use rmq_remoting::tls::server::{Reload, ServerTls, ServerTlsFiles};
use rmq_remoting::tls::{ClientAuth, TlsMode};
use rmq_remoting::{Client, ClientConfig, ConnHandle, Handler, InvokeError, ServerConfig, serve};
use tokio::net::{TcpListener, TcpStream};

struct Echo;

impl Handler for Echo {
    async fn handle(
        &self,
        _conn: &ConnHandle,
        request: RemotingCommand,
    ) -> Option<RemotingCommand> {
        Some(RemotingCommand::response_to(&request, ResponseCode::Success).with_body(request.body))
    }
}

/// A fresh set of test certificates.
fn certs() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-test-certs.sh");
    let pki = dir.path().join("pki");
    let status = Command::new("bash").arg(script).arg(&pki).status().unwrap();
    assert!(status.success(), "make-test-certs.sh failed");
    (dir, pki)
}

fn server_files(pki: &Path, auth: ClientAuth) -> ServerTlsFiles {
    ServerTlsFiles {
        cert: pki.join("server.pem"),
        key: pki.join("server.key"),
        trust: Some(pki.join("ca.pem")),
        client_auth: auth,
    }
}

/// Serves [`Echo`] with `tls`, a short handshake deadline and `max_connections`; its address.
async fn start(tls: Option<Arc<ServerTls>>, max_connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let config = ServerConfig {
        tls,
        max_connections,
        handshake_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    tokio::spawn(serve(
        listener,
        Arc::new(Echo),
        config,
        std::future::pending(),
    ));
    addr
}

async fn tls_port(pki: &Path, mode: TlsMode, auth: ClientAuth) -> String {
    let tls = ServerTls::load(mode, server_files(pki, auth)).unwrap();
    start(Some(Arc::new(tls)), 100).await
}

fn client(tls: Option<ClientTlsFiles>) -> Client {
    Client::new(ClientConfig {
        tls: tls.map(|files| ClientTls::load(&files).unwrap()),
        connect_timeout: Duration::from_secs(2),
        ..ClientConfig::default()
    })
}

fn checking(pki: &Path, trust: &str) -> ClientTlsFiles {
    ClientTlsFiles {
        verify_server: true,
        trust: Some(pki.join(trust)),
        ..ClientTlsFiles::default()
    }
}

async fn echo(client: &Client, addr: &str) -> Result<Vec<u8>, InvokeError> {
    let request = RemotingCommand::request(1_i32).with_body("ping");
    let reply = client.invoke(addr, request, Duration::from_secs(2)).await?;
    Ok(reply.body.to_vec())
}

#[tokio::test]
async fn a_permissive_port_serves_plain_and_tls_clients_at_once_and_an_enforcing_one_only_tls() {
    let (_dir, pki) = certs();
    let permissive = tls_port(&pki, TlsMode::Permissive, ClientAuth::None).await;
    let tls = client(Some(checking(&pki, "ca.pem")));
    let plain = client(None);
    let (a, b) = tokio::join!(echo(&tls, &permissive), echo(&plain, &permissive));
    assert_eq!(a.unwrap(), b"ping");
    assert_eq!(b.unwrap(), b"ping");

    let enforcing = tls_port(&pki, TlsMode::Enforcing, ClientAuth::None).await;
    assert_eq!(echo(&tls, &enforcing).await.unwrap(), b"ping");
    let refused = echo(&plain, &enforcing).await.unwrap_err();
    assert!(
        matches!(refused, InvokeError::Closed { .. }),
        "a plain client on an enforcing port is closed: {refused:?}"
    );

    // A disabled port speaks plain remoting only: the TLS client's hello is a bad frame.
    let disabled = tls_port(&pki, TlsMode::Disabled, ClientAuth::None).await;
    assert_eq!(echo(&plain, &disabled).await.unwrap(), b"ping");
    assert!(echo(&tls, &disabled).await.is_err());
}

#[tokio::test]
async fn a_client_that_checks_the_server_refuses_a_wrong_ca_and_an_expired_certificate() {
    let (_dir, pki) = certs();
    let addr = tls_port(&pki, TlsMode::Enforcing, ClientAuth::None).await;
    let wrong_ca = echo(&client(Some(checking(&pki, "other-ca.pem"))), &addr).await;
    let message = format!("{:?}", wrong_ca.unwrap_err());
    assert!(message.contains("UnknownIssuer"), "{message}");
    // Apache's default (tls.client.authServer=false) takes any certificate.
    let unchecked = client(Some(ClientTlsFiles::default()));
    assert_eq!(echo(&unchecked, &addr).await.unwrap(), b"ping");

    let expired = ServerTlsFiles {
        cert: pki.join("expired.pem"),
        key: pki.join("expired.key"),
        trust: None,
        client_auth: ClientAuth::None,
    };
    let tls = ServerTls::load(TlsMode::Enforcing, expired).unwrap();
    let addr = start(Some(Arc::new(tls)), 100).await;
    let refused = echo(&client(Some(checking(&pki, "ca.pem"))), &addr).await;
    let message = format!("{:?}", refused.unwrap_err());
    assert!(message.contains("Expired"), "{message}");
}

#[tokio::test]
async fn mutual_tls_serves_a_client_certificate_of_the_trusted_ca_only() {
    let (_dir, pki) = certs();
    let addr = tls_port(&pki, TlsMode::Enforcing, ClientAuth::Require).await;
    let with_cert = ClientTlsFiles {
        cert: Some(pki.join("client.pem")),
        key: Some(pki.join("client.key")),
        ..checking(&pki, "ca.pem")
    };
    assert_eq!(
        echo(&client(Some(with_cert)), &addr).await.unwrap(),
        b"ping"
    );
    // TLS 1.3 finishes the client's side of the handshake before the server refuses the
    // certificate: the refusal shows as a failed handshake or a closed connection.
    let without = echo(&client(Some(checking(&pki, "ca.pem"))), &addr).await;
    assert!(without.is_err());
    let foreign = ClientTlsFiles {
        cert: Some(pki.join("other-server.pem")),
        key: Some(pki.join("other-server.key")),
        ..checking(&pki, "ca.pem")
    };
    assert!(echo(&client(Some(foreign)), &addr).await.is_err());

    let optional = tls_port(&pki, TlsMode::Enforcing, ClientAuth::Optional).await;
    assert_eq!(
        echo(&client(Some(checking(&pki, "ca.pem"))), &optional)
            .await
            .unwrap(),
        b"ping"
    );
}

fn pem(pki: &Path, file: &str) -> Pem {
    Pem {
        source: format!("secret/{file}"),
        bytes: std::fs::read(pki.join(file)).unwrap(),
    }
}

#[tokio::test]
async fn material_held_in_memory_checks_the_server_and_presents_a_client_certificate() {
    let (_dir, pki) = certs();
    let addr = tls_port(&pki, TlsMode::Enforcing, ClientAuth::Require).await;
    let mutual = ClientTlsPem {
        verify_server: true,
        trust: Some(pem(&pki, "ca.pem")),
        identity: Some((pem(&pki, "client.pem"), pem(&pki, "client.key"))),
    };
    let with_pem = Client::new(ClientConfig {
        tls: Some(ClientTls::from_pem(&mutual).unwrap()),
        ..ClientConfig::default()
    });
    assert_eq!(echo(&with_pem, &addr).await.unwrap(), b"ping");

    let wrong_ca = ClientTlsPem {
        trust: Some(pem(&pki, "other-ca.pem")),
        ..mutual.clone()
    };
    let checked = Client::new(ClientConfig {
        tls: Some(ClientTls::from_pem(&wrong_ca).unwrap()),
        ..ClientConfig::default()
    });
    assert!(echo(&checked, &addr).await.is_err());

    // Bad bytes are refused up front, naming where they came from.
    let garbage = ClientTlsPem {
        trust: Some(Pem {
            source: "secret/orders-broker-tls/ca.crt".into(),
            bytes: b"not a certificate".to_vec(),
        }),
        ..mutual
    };
    let refused = ClientTls::from_pem(&garbage).unwrap_err().to_string();
    assert!(
        refused.contains("secret/orders-broker-tls/ca.crt"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_rotated_certificate_is_served_to_new_connections_without_a_restart() {
    let (dir, pki) = certs();
    let live = dir.path().join("live");
    std::fs::create_dir(&live).unwrap();
    std::fs::copy(pki.join("server.pem"), live.join("tls.crt")).unwrap();
    std::fs::copy(pki.join("server.key"), live.join("tls.key")).unwrap();
    let files = ServerTlsFiles {
        cert: live.join("tls.crt"),
        key: live.join("tls.key"),
        trust: None,
        client_auth: ClientAuth::None,
    };
    let tls = Arc::new(ServerTls::load(TlsMode::Enforcing, files).unwrap());
    let addr = start(Some(tls.clone()), 100).await;
    assert!(matches!(tls.reload_if_changed(), Reload::Unchanged));
    assert!(
        echo(&client(Some(checking(&pki, "ca.pem"))), &addr)
            .await
            .is_ok()
    );

    // A half-written rotation (new certificate, old key) is refused; the old pair stays.
    std::fs::copy(pki.join("other-server.pem"), live.join("tls.crt")).unwrap();
    assert!(matches!(tls.reload_if_changed(), Reload::Refused(_)));
    assert!(
        echo(&client(Some(checking(&pki, "ca.pem"))), &addr)
            .await
            .is_ok()
    );

    std::fs::copy(pki.join("other-server.key"), live.join("tls.key")).unwrap();
    assert!(matches!(tls.reload_if_changed(), Reload::Reloaded));
    let new_ca = echo(&client(Some(checking(&pki, "other-ca.pem"))), &addr).await;
    assert_eq!(new_ca.unwrap(), b"ping");
    assert!(
        echo(&client(Some(checking(&pki, "ca.pem"))), &addr)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_stalled_handshake_holds_no_connection_slot_and_is_dropped_at_its_deadline() {
    let (_dir, pki) = certs();
    let tls = ServerTls::load(TlsMode::Permissive, server_files(&pki, ClientAuth::None)).unwrap();
    let addr = start(Some(Arc::new(tls)), 1).await;
    // Connected, silent: it waits for admission, not in the only connection slot.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let tls_client = client(Some(checking(&pki, "ca.pem")));
    assert_eq!(echo(&tls_client, &addr).await.unwrap(), b"ping");
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        use tokio::io::AsyncReadExt;
        silent.read(&mut buf).await
    })
    .await
    .expect("the silent peer is dropped at the handshake deadline");
    assert!(matches!(closed, Ok(0) | Err(_)));
}

#[tokio::test]
async fn openssl_s_client_completes_a_checked_handshake_with_an_enforcing_port() {
    let (_dir, pki) = certs();
    let addr = tls_port(&pki, TlsMode::Enforcing, ClientAuth::None).await;
    let ca = pki.join("ca.pem");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("openssl")
            .args([
                "s_client",
                "-brief",
                "-verify_return_error",
                "-connect",
                &addr,
            ])
            .arg("-CAfile")
            .arg(ca)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Verification: OK"), "{text}");
    assert!(text.contains("TLSv1.3"), "{text}");
}
