#![allow(clippy::unwrap_used)]
//! TLS through the whole cluster in one process, with certificates made by the openssl CLI
//! (`scripts/make-test-certs.sh`): a name server, a SYNC_MASTER and its slave, every port
//! enforcing TLS; the brokers register over TLS, the slave replicates over TLS (a send is
//! answered only once the slave confirmed it), plain clients are refused, and a rotated
//! certificate is served without a restart.

use std::path::Path;
use std::time::{Duration, Instant};

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_remoting::tls::client::{ClientTls, ClientTlsFiles};
use rmq_remoting::{Client, ClientConfig, InvokeError};

#[path = "common/pki.rs"]
mod pki;
mod support;

const T: Duration = Duration::from_secs(10);

/// The `tls.*` lines of a process whose ports enforce TLS with `cert`/`key` and whose own
/// connections check servers against the test CA.
fn tls_lines(pki: &Path, cert: &Path, key: &Path) -> String {
    format!(
        "tls.server.mode=enforcing\ntls.server.certPath={}\ntls.server.keyPath={}\n\
         tls.enable=true\ntls.client.authServer=true\ntls.client.trustCertPath={}\n",
        cert.display(),
        key.display(),
        pki.join("ca.pem").display()
    )
}

fn tls_client(pki: &Path, ca: &str) -> Client {
    let files = ClientTlsFiles {
        verify_server: true,
        trust: Some(pki.join(ca)),
        ..ClientTlsFiles::default()
    };
    Client::new(ClientConfig {
        tls: Some(ClientTls::load(&files).unwrap()),
        ..ClientConfig::default()
    })
}

async fn broker(store: &Path, lines: &str) -> RunningBroker {
    let text = format!(
        "brokerName=broker-tls\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         storePathRootDir={}\nmappedFileSizeCommitLog=1048576\nregisterNameServerPeriod=500\n{lines}",
        store.display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_every_port_enforcing_tls_registers_replicates_and_refuses_plain_clients() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make_test_certs(dir.path());
    let tls = tls_lines(&pki, &pki.join("server.pem"), &pki.join("server.key"));
    let namesrv_conf = format!(
        "listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath={}\n{tls}",
        dir.path().join("kv.json").display()
    );
    let namesrv = rmq_namesrv::start(
        rmq_namesrv::NamesrvConfig::from_properties_text(&namesrv_conf).unwrap(),
    )
    .await
    .unwrap();
    let ns = namesrv.local_addr().to_string();
    let master = broker(
        &dir.path().join("master"),
        &format!("namesrvAddr={ns}\nbrokerRole=SYNC_MASTER\nslaveTimeout=3000\n{tls}"),
    )
    .await;
    let ha_port = master.broker().config.ha_listen_port;
    let _slave = broker(
        &dir.path().join("slave"),
        &format!(
            "namesrvAddr={ns}\nbrokerRole=SLAVE\nbrokerId=1\nhaMasterAddress=127.0.0.1:{ha_port}\n{tls}"
        ),
    )
    .await;
    let client = tls_client(&pki, "ca.pem");
    let addr = master.local_addr().to_string();

    // Both brokers registered with the name server over TLS.
    let deadline = Instant::now() + T;
    loop {
        let info = client
            .invoke(
                &ns,
                RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
                T,
            )
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&info.body).into_owned();
        if body.contains("0:\"127.0.0.1") && body.contains("1:\"127.0.0.1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "brokers never registered: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // SYNC_MASTER answers SUCCESS only once the slave confirmed: replication runs over TLS.
    let created = client
        .invoke(&addr, support::create_topic("Secure"), T)
        .await
        .unwrap();
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
    let deadline = Instant::now() + T;
    loop {
        let sent = client
            .invoke(&addr, support::send_keyed("Secure", "over-tls"), T)
            .await
            .unwrap();
        if sent.code == ResponseCode::Success as i32 {
            break;
        }
        assert_eq!(
            sent.code,
            ResponseCode::SlaveNotAvailable as i32,
            "{sent:?}"
        );
        assert!(
            Instant::now() < deadline,
            "the slave never confirmed over TLS"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    for port in [addr.as_str(), ns.as_str()] {
        let plain = Client::default()
            .invoke(
                port,
                RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
                T,
            )
            .await;
        assert!(
            matches!(plain, Err(InvokeError::Closed { .. })),
            "a plain client on {port} is closed: {plain:?}"
        );
    }
    // A plain slave's offset report on the enforcing HA port: the connection is closed.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut plain_slave = tokio::net::TcpStream::connect(("127.0.0.1", ha_port))
        .await
        .unwrap();
    plain_slave.write_all(&0_i64.to_be_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(T, plain_slave.read(&mut buf))
        .await
        .unwrap();
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "a plain slave is closed: {read:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_rotated_on_disk_is_served_to_new_connections_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make_test_certs(dir.path());
    let live = dir.path().join("live");
    std::fs::create_dir(&live).unwrap();
    std::fs::copy(pki.join("server.pem"), live.join("tls.crt")).unwrap();
    std::fs::copy(pki.join("server.key"), live.join("tls.key")).unwrap();
    let running = broker(
        &dir.path().join("store"),
        &tls_lines(&pki, &live.join("tls.crt"), &live.join("tls.key")),
    )
    .await;
    let addr = running.local_addr().to_string();
    let ask = |client: Client| {
        let addr = addr.clone();
        async move {
            client
                .invoke(
                    &addr,
                    RemotingCommand::request(RequestCode::GetBrokerRuntimeInfo),
                    T,
                )
                .await
        }
    };
    assert!(ask(tls_client(&pki, "ca.pem")).await.is_ok());
    assert!(ask(tls_client(&pki, "other-ca.pem")).await.is_err());

    // As cert-manager rotates a Secret: both files replaced, the broker keeps running.
    std::fs::copy(pki.join("other-server.key"), live.join("tls.key.new")).unwrap();
    std::fs::copy(pki.join("other-server.pem"), live.join("tls.crt.new")).unwrap();
    std::fs::rename(live.join("tls.key.new"), live.join("tls.key")).unwrap();
    std::fs::rename(live.join("tls.crt.new"), live.join("tls.crt")).unwrap();
    let deadline = Instant::now() + T;
    while ask(tls_client(&pki, "other-ca.pem")).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the rotated certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ask(tls_client(&pki, "ca.pem")).await.is_err());
}
