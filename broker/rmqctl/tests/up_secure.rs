#![allow(clippy::unwrap_used)]
//! End to end: `rmqctl up` of `deploy/examples/local/secure.yaml` (ACL from a Secret of the
//! manifest, the brokers' own account from another, TLS enforcing on every port with
//! certificates of a local CA standing for `issuerRef`, a slave), then clients: with the CA and
//! an account they are served; plain, or over TLS but unsigned, they are refused; then
//! `rmqctl down`.
//!
//! Needs the real `rmq-namesrv` and `rmq-broker` next to `rmqctl` (`cargo build -p rmq-namesrv
//! -p rmq-broker`) and the openssl CLI (`scripts/install-clients.sh`). Every `rmqctl` run is
//! bounded; whatever the cluster left running is killed when the test fails.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

#[path = "local_support/mod.rs"]
mod local_support;
use local_support::{Leftovers, rmqctl_bin, run_bounded, text};
use rmqctl::local::pids::PidsFile;
use rmqctl::local::plan::{BROKER_PORT_OFFSET, BROKER_PORT_STEP};
use rmqctl::local::process::{Liveness, liveness};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/examples/local/secure.yaml")
}

/// Fails unless the server binaries were built next to `rmqctl` and openssl runs.
fn require_binaries() {
    let dir = rmqctl_bin().parent().unwrap();
    for binary in ["rmq-namesrv", "rmq-broker"] {
        assert!(
            dir.join(binary).is_file(),
            "{binary} is not in {}: run `cargo build -p rmq-namesrv -p rmq-broker` first",
            dir.display()
        );
    }
    let openssl = Command::new("openssl").arg("version").output();
    assert!(
        openssl.is_ok_and(|o| o.status.success()),
        "the openssl CLI is missing: run scripts/install-clients.sh"
    );
}

/// A base port whose name server port and both brokers' ports (fast, listen, HA) are free.
fn free_base_port() -> u16 {
    let start = std::process::id() % 600 * 53;
    (0..300u32)
        .map(|i| u16::try_from(22_000 + (start + i * 1_231) % 36_000).unwrap())
        .find(|&base| {
            let mut ports = vec![base];
            for b in 0..2 {
                let listen = base + BROKER_PORT_OFFSET + BROKER_PORT_STEP * b;
                ports.extend([listen - 2, listen, listen + 1, listen + 3]);
            }
            ports
                .iter()
                .all(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        })
        .expect("no free block of ports")
}

/// Runs `rmqctl` to completion within `RUN_LIMIT`, without the environment's client settings.
fn run(args: &[&str]) -> Output {
    let mut command = Command::new(rmqctl_bin());
    command.args(args);
    for var in [
        "NAMESRV_ADDR",
        "RMQ_ACCESS_KEY",
        "RMQ_SECRET_KEY",
        "RMQ_TLS",
        "RMQ_TLS_CA",
        "RMQ_TLS_CERT",
        "RMQ_TLS_KEY",
    ] {
        command.env_remove(var);
    }
    run_bounded(&mut command)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn up_with_acl_and_enforcing_tls_from_a_local_ca_serves_signed_tls_clients_only_then_down() {
    require_binaries();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let _leftovers = Leftovers(state.clone());
    let base = free_base_port();
    let up = run(&[
        "up",
        "-f",
        example().to_str().unwrap(),
        "--dir",
        state.to_str().unwrap(),
        "--base-port",
        &base.to_string(),
        "--detach",
    ]);
    let (stdout, stderr) = (text(&up.stdout), text(&up.stderr));
    assert!(up.status.success(), "up failed: {stderr}\n{stdout}");
    let ca = state.join("tls/ca.crt");
    let ca_text = ca.to_str().unwrap();
    assert!(
        stdout.contains("tls           name servers enforcing, brokers enforcing\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "rmqctl --tls-ca {ca_text} --access-key KEY --secret-key SECRET clusterList"
        )),
        "{stdout}"
    );
    assert!(stderr.contains("made a local CA for issuerRef"), "{stderr}");
    // Keys and accounts are for this user only; each broker has its own ACL file.
    assert_eq!(mode(&state.join("tls/broker/tls.key")), 0o600);
    assert_eq!(mode(&state.join("tls/pki")), 0o700);
    assert_eq!(mode(&state.join("manifest.yaml")), 0o600);
    for broker in ["vault-broker-0-0", "vault-broker-0-1"] {
        let acl = state.join(format!("broker/{broker}/acl/conf/plain_acl.yml"));
        assert_eq!(mode(&acl), 0o600, "{}", acl.display());
    }

    let namesrv = format!("127.0.0.1:{base}");
    let master = format!("127.0.0.1:{}", base + BROKER_PORT_OFFSET);
    let signed = |args: &[&str]| {
        let mut all = vec![
            "--tls-ca",
            ca_text,
            "--access-key",
            "app-account",
            "--secret-key",
            "local-app-secret",
        ];
        all.extend_from_slice(args);
        run(&all)
    };

    // Over TLS, checked against the local CA, signed: both brokers listed, and each answered
    // GET_BROKER_RUNTIME_INFO (its version) to a signed request.
    let list = signed(&["clusterList", "--json", "-n", &namesrv]);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let brokers = json["brokers"].as_array().unwrap();
    let ids: Vec<i64> = brokers
        .iter()
        .map(|b| b["brokerId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1], "{json}");
    for broker in brokers {
        assert!(broker["version"].is_string(), "{json}");
    }
    let status = signed(&["brokerStatus", "-b", &master]);
    assert!(status.status.success(), "{}", text(&status.stderr));

    // A plain client: the name server takes TLS only.
    let plain = run(&["clusterList", "-n", &namesrv]);
    assert!(!plain.status.success(), "{}", text(&plain.stdout));
    // TLS without a signature, or with a wrong secret: the broker refuses it.
    let unsigned = run(&["--tls-ca", ca_text, "brokerStatus", "-b", &master]);
    assert!(!unsigned.status.success(), "{}", text(&unsigned.stdout));
    assert!(
        text(&unsigned.stderr).contains("No accessKey is configured"),
        "{}",
        text(&unsigned.stderr)
    );
    let wrong = run(&[
        "--tls-ca",
        ca_text,
        "--access-key",
        "app-account",
        "--secret-key",
        "not-the-secret",
        "brokerStatus",
        "-b",
        &master,
    ]);
    assert!(!wrong.status.success(), "{}", text(&wrong.stdout));
    assert!(
        text(&wrong.stderr).contains("Check signature failed for accessKey=app-account"),
        "{}",
        text(&wrong.stderr)
    );

    let pids = PidsFile::read(&state.join("pids.json")).unwrap().unwrap();
    let down = run(&["down", "--dir", state.to_str().unwrap()]);
    assert!(
        down.status.success(),
        "{}\n{}",
        text(&down.stderr),
        text(&down.stdout)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    for p in &pids.processes {
        while liveness(p.pid, p.start_time) == Liveness::Running {
            assert!(Instant::now() < deadline, "{} still runs", p.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(!state.join("pids.json").exists());

    // A second up reuses the local CA, so clients keep trusting the same ca.crt.
    let before = std::fs::read(&ca).unwrap();
    let again = run(&[
        "up",
        "-f",
        example().to_str().unwrap(),
        "--dir",
        state.to_str().unwrap(),
        "--base-port",
        &base.to_string(),
        "--detach",
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(!text(&again.stderr).contains("made a local CA"));
    assert_eq!(std::fs::read(&ca).unwrap(), before);
    let down = run(&["down", "--dir", state.to_str().unwrap()]);
    assert!(down.status.success(), "{}", text(&down.stderr));
}
