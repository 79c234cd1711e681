//! TLS with peers nobody here wrote. The C++ client and ali-ons have no TLS (no TLS code in the
//! C++ client's library as PyPI ships it, plain sockets in ali-ons), so on a permissive broker
//! they keep working in plain while TLS peers use the same port: `openssl s_client`, a request
//! made with Python's `ssl` module, and rmqctl. An enforcing broker refuses the plain clients
//! and says so in its log.

use std::path::Path;
use std::process::Command;

use super::harness::{Cluster, finish_any};

#[path = "../common/pki.rs"]
mod pki;

fn tls_lines(pki: &Path, mode: &str) -> String {
    format!(
        "tls.server.mode={mode}\ntls.server.certPath={}\ntls.server.keyPath={}\n\
         tls.server.trustCertPath={}\ntls.enable=true\n",
        pki.join("server.pem").display(),
        pki.join("server.key").display(),
        pki.join("ca.pem").display()
    )
}

/// One GET_BROKER_RUNTIME_INFO (28) to `addr` from Python's `ssl` with `args`.
fn python_request(addr: &str, args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients/tls_request.py");
    let output = Command::new("python3")
        .arg(script)
        .args(["--addr", addr, "--code", "28"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn a_permissive_broker_serves_the_plain_cpp_and_ons_clients_and_tls_peers_on_one_port() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make_test_certs(dir.path());
    let tls = tls_lines(&pki, "permissive");
    let cluster = Cluster::start_with(&tls, &tls, None);
    let ca = pki.join("ca.pem");
    let ca = ca.to_str().unwrap();

    // rmqctl over TLS, checking the certificates, creates the topic (name server and broker).
    let made = cluster.rmqctl(&[
        "--tls-ca",
        ca,
        "updateTopic",
        "-b",
        &cluster.broker_addr,
        "-t",
        "Mixed",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let produced = cluster.client(
        "cpp_produce.py",
        &["--topic", "Mixed", "--group", "pg", "--count", "10"],
    );
    assert_eq!(produced["sent"], 10, "{produced}");
    let child = cluster.spawn_client(
        "ons_consume.js",
        &[
            "--topic",
            "Mixed",
            "--group",
            "readers",
            "--expect",
            "10",
            "--timeout-s",
            "60",
        ],
    );
    let (consumed, ok) = finish_any("ons_consume.js", child);
    assert!(ok, "{consumed}");
    assert_eq!(consumed["distinct"], 10, "{consumed}");

    // Python's ssl (OpenSSL) with a client certificate, and without TLS, on the same port.
    let client_cert = pki.join("client.pem");
    let client_key = pki.join("client.key");
    let over_tls = python_request(
        &cluster.broker_addr,
        &[
            "--ca",
            ca,
            "--cert",
            client_cert.to_str().unwrap(),
            "--key",
            client_key.to_str().unwrap(),
        ],
    );
    assert_eq!(over_tls["code"], 0, "{over_tls}");
    assert!(
        over_tls["tls_version"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1."),
        "{over_tls}"
    );
    assert!(
        over_tls["body_len"].as_u64().unwrap() > 100,
        "runtime info came back: {over_tls}"
    );
    let plain = python_request(&cluster.broker_addr, &["--plain"]);
    assert_eq!(plain["code"], 0, "{plain}");

    let s_client = Command::new("openssl")
        .args([
            "s_client",
            "-brief",
            "-verify_return_error",
            "-connect",
            &cluster.broker_addr,
            "-CAfile",
            ca,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&s_client.stderr);
    assert!(said.contains("Verification: OK"), "{said}");
}

#[test]
fn an_enforcing_broker_refuses_plain_clients_and_logs_why() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make_test_certs(dir.path());
    let cluster = Cluster::start_with(
        &tls_lines(&pki, "permissive"),
        &tls_lines(&pki, "enforcing"),
        None,
    );
    let ca = pki.join("ca.pem");
    let listed = cluster.rmqctl(&[
        "--tls-ca",
        ca.to_str().unwrap(),
        "brokerStatus",
        "-b",
        &cluster.broker_addr,
    ]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let plain_tool = cluster.rmqctl(&["brokerStatus", "-b", &cluster.broker_addr]);
    assert!(
        !plain_tool.status.success(),
        "rmqctl without TLS is refused"
    );
    let plain = python_request(&cluster.broker_addr, &["--plain"]);
    // Closed with the request unread: the peer sees a close or a reset, never an answer.
    let error = plain["error"].as_str().unwrap();
    assert!(
        error.contains("closed") || error.contains("reset"),
        "{plain}"
    );
    let wrong_ca = python_request(
        &cluster.broker_addr,
        &["--ca", pki.join("other-ca.pem").to_str().unwrap()],
    );
    assert!(
        wrong_ca["error"]
            .as_str()
            .unwrap()
            .contains("CERTIFICATE_VERIFY_FAILED"),
        "{wrong_ca}"
    );
    let ok = python_request(
        &cluster.broker_addr,
        &["--ca", pki.join("ca.pem").to_str().unwrap()],
    );
    assert_eq!(ok["code"], 0, "{ok}");
    let log = cluster.broker_log();
    assert!(
        log.contains("a plain (not TLS) client on a port whose TLS mode is enforcing"),
        "the broker says why it closed the connection"
    );
}

#[test]
fn a_broker_requiring_client_certificates_refuses_a_missing_foreign_or_expired_one_with_a_log_line()
{
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make_test_certs(dir.path());
    let broker_tls = format!(
        "{}tls.server.need.client.auth=require\n",
        tls_lines(&pki, "enforcing")
    );
    let cluster = Cluster::start_with(&tls_lines(&pki, "permissive"), &broker_tls, None);
    let path = |name: &str| pki.join(name).to_str().unwrap().to_owned();
    let ca = path("ca.pem");
    let with = |cert: &str, key: &str| {
        python_request(
            &cluster.broker_addr,
            &["--ca", &ca, "--cert", &path(cert), "--key", &path(key)],
        )
    };
    assert_eq!(with("client.pem", "client.key")["code"], 0);
    let foreign = with("other-client.pem", "other-client.key");
    assert!(foreign.get("error").is_some(), "{foreign}");
    let expired = with("expired-client.pem", "expired-client.key");
    assert!(expired.get("error").is_some(), "{expired}");
    let without = python_request(&cluster.broker_addr, &["--ca", &ca]);
    assert!(without.get("error").is_some(), "{without}");
    let log = cluster.broker_log();
    assert!(
        log.contains("connection refused on a TLS port") && log.contains("UnknownIssuer"),
        "the broker logs the foreign certificate: {}",
        log.lines()
            .filter(|l| l.contains("TLS"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        log.contains("Expired"),
        "the broker logs the expired certificate"
    );
    assert!(
        log.contains("peer sent no certificates"),
        "the broker logs the missing certificate"
    );
    assert!(
        !log.contains("bad frame"),
        "a TLS client closing without close_notify is an ordinary close"
    );
}
