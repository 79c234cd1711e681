#![allow(clippy::unwrap_used)]
//! End to end: `rmqctl up` the "no message loss" example (3 name servers, 2 SYNC_MASTER groups
//! with a slave each, SYNC_FLUSH), produce and consume with an independent client (Apache's C++
//! client from PyPI, installed by `scripts/install-clients.sh`), `rmqctl down`.

mod local_support;

use local_support::{Down, client, free_base_port, repo, rmqctl, up_detached};

#[test]
fn up_the_no_message_loss_example_then_produce_consume_and_down() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let base = free_base_port(4).to_string();
    let manifest = repo().join("deploy/examples/no-message-loss.yaml");
    let up = up_detached(&manifest, &state, base.parse().unwrap());
    let _down = Down(state.clone());
    let summary = String::from_utf8_lossy(&up.stdout).into_owned();
    assert!(
        up.status.success(),
        "up failed:\n{summary}\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(summary.contains("SYNC_MASTER"), "{summary}");
    assert!(summary.contains("SLAVE"), "{summary}");
    let b: u16 = base.parse().unwrap();
    let namesrv = format!("127.0.0.1:{b};127.0.0.1:{};127.0.0.1:{}", b + 1, b + 2);

    let home = tmp.path().join("cpp-home");
    let produced = client(
        "cpp_produce.py",
        &namesrv,
        &home,
        &[
            "--topic",
            "Payments",
            "--group",
            "pg",
            "--count",
            "200",
            "--key-prefix",
            "pay-",
        ],
    );
    let results = produced["results"].as_array().unwrap();
    assert_eq!(results.len(), 200);
    for result in results {
        // SEND_OK only once the message is on the master's disk and on its slave.
        assert_eq!(result["status"], "SEND_OK", "{result}");
    }
    let consumed = client(
        "cpp_consume.py",
        &namesrv,
        &home,
        &[
            "--topic",
            "Payments",
            "--group",
            "cg",
            "--expect",
            "200",
            "--timeout-s",
            "90",
            "--idle-s",
            "2",
        ],
    );
    assert_eq!(consumed["distinct"], 200, "{consumed}");

    let down = rmqctl(&["down", "--dir", state.to_str().unwrap()]);
    assert!(down.status.success(), "{down:?}");
}
