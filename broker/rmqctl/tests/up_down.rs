#![allow(clippy::unwrap_used)]
//! `rmqctl up` / `rmqctl down` with the real `rmq-namesrv` and `rmq-broker` binaries, which must
//! sit next to `rmqctl` (`cargo build --workspace` puts them there; `cargo test -p rmqctl`
//! alone does not).
//!
//! Every test uses its own temp state directory and its own free block of ports, and kills
//! whatever its cluster left running when it fails.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "local_support/mod.rs"]
mod local_support;
use local_support::{Leftovers, RUN_LIMIT, rmqctl_bin, run_bounded, text};
use rmqctl::local::pids::PidsFile;
use rmqctl::local::plan::{BROKER_PORT_OFFSET, Kind};
use rmqctl::local::process::{Liveness, liveness};

/// Fails unless the server binaries were built next to `rmqctl`.
fn require_server_binaries() {
    let dir = rmqctl_bin().parent().unwrap();
    for binary in ["rmq-namesrv", "rmq-broker"] {
        assert!(
            dir.join(binary).is_file(),
            "{binary} is not in {}: run `cargo build --workspace` (or `cargo build -p rmq-namesrv \
             -p rmq-broker`) before these tests",
            dir.display()
        );
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/examples")
        .join(name)
}

/// A base port whose name-server and broker ports (minimal example: 2 name servers, 1
/// broker) are all free right now, spread by pid and `salt` so parallel tests differ.
fn free_base_port(salt: u32) -> u16 {
    let start = std::process::id() % 500 * 40 + salt * 7;
    (0..200u32)
        .map(|i| u16::try_from(20_000 + (start + i * 1_111) % 40_000).unwrap())
        .find(|&base| {
            let broker = base + BROKER_PORT_OFFSET;
            [base, base + 1, broker - 2, broker, broker + 1, broker + 3]
                .iter()
                .all(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        })
        .expect("no free block of ports")
}

/// Runs `rmqctl` to completion within [`RUN_LIMIT`].
fn run(args: &[&str]) -> Output {
    run_bounded(
        Command::new(rmqctl_bin())
            .args(args)
            .env_remove("NAMESRV_ADDR"),
    )
}

fn assert_all_gone(pids: &PidsFile) {
    // `down` returns once they are gone; allow a moment for a slow /proc only.
    let deadline = Instant::now() + Duration::from_secs(5);
    for p in &pids.processes {
        while liveness(p.pid, p.start_time) == Liveness::Running {
            assert!(
                Instant::now() < deadline,
                "{} (pid {}) still runs",
                p.name,
                p.pid
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn detached_up_serves_cluster_list_and_down_stops_every_process() {
    require_server_binaries();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let _leftovers = Leftovers(state.clone());
    let base = free_base_port(1);
    let manifest = example("minimal.yaml");
    let up = run(&[
        "up",
        "-f",
        manifest.to_str().unwrap(),
        "--dir",
        state.to_str().unwrap(),
        "--base-port",
        &base.to_string(),
        "--detach",
    ]);
    let (stdout, stderr) = (text(&up.stdout), text(&up.stderr));
    assert!(up.status.success(), "up failed: {stderr}\n{stdout}");
    let namesrv = format!("127.0.0.1:{base};127.0.0.1:{}", base + 1);
    let broker = format!("127.0.0.1:{}", base + BROKER_PORT_OFFSET);
    assert!(
        stdout.contains(&format!("name servers  {namesrv}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "demo-broker-0    0  ASYNC_MASTER  ASYNC_FLUSH  {broker}\n"
        )),
        "{stdout}"
    );
    assert!(
        !stderr.contains("replication"),
        "no slaves, no warning: {stderr}"
    );

    let pids = PidsFile::read(&state.join("pids.json")).unwrap().unwrap();
    let names: Vec<(&str, Kind)> = pids
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("demo-namesrv-0", Kind::Namesrv),
            ("demo-namesrv-1", Kind::Namesrv),
            ("demo-broker-0-0", Kind::Broker)
        ]
    );
    assert!(pids.detached);
    for p in &pids.processes {
        assert_eq!(
            liveness(p.pid, p.start_time),
            Liveness::Running,
            "{}",
            p.name
        );
    }

    // Each name server knows the broker, at its planned address, under the cluster's name.
    for ns in [base, base + 1] {
        let list = run(&["clusterList", "--json", "-n", &format!("127.0.0.1:{ns}")]);
        assert!(list.status.success(), "{}", text(&list.stderr));
        let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        let brokers: Vec<(&str, &str, i64, &str)> = json["brokers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["cluster"].as_str().unwrap(),
                    b["brokerName"].as_str().unwrap(),
                    b["brokerId"].as_i64().unwrap(),
                    b["addr"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(brokers, [("demo", "demo-broker-0", 0, broker.as_str())]);
        // The broker itself answered GET_BROKER_RUNTIME_INFO.
        assert!(json["brokers"][0]["version"].is_string(), "{json}");
    }

    let down = run(&["down", "--dir", state.to_str().unwrap()]);
    let down_out = text(&down.stdout);
    assert!(down.status.success(), "{}\n{down_out}", text(&down.stderr));
    assert_all_gone(&pids);
    assert!(!state.join("pids.json").exists());
    // Brokers first, so they can unregister from name servers that still run.
    let broker_at = down_out.find("stopped demo-broker-0-0").unwrap();
    let namesrv_at = down_out.find("stopped demo-namesrv-0").unwrap();
    assert!(broker_at < namesrv_at, "{down_out}");
    let broker_log = std::fs::read_to_string(state.join("logs/demo-broker-0-0.log")).unwrap();
    assert!(broker_log.contains("listening on"), "{broker_log}");
    assert!(state.join("broker/demo-broker-0-0/store").is_dir());

    let purge = run(&["down", "--dir", state.to_str().unwrap(), "--purge"]);
    assert!(purge.status.success(), "{}", text(&purge.stderr));
    assert!(text(&purge.stdout).contains("nothing to stop"));
    assert!(!state.exists());
}

#[test]
fn an_invalid_manifest_exits_non_zero_with_the_reason_and_spawns_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let minimal = std::fs::read_to_string(example("minimal.yaml")).unwrap();
    let cases = [
        (
            "spec: {broker: {flushDiskType: SOMETIMES}}",
            "spec.broker.flushDiskType: unknown variant `SOMETIMES`, expected `ASYNC_FLUSH` or \
             `SYNC_FLUSH`",
        ),
        (
            "spec: {broker: {brokerRole: SYNC_MASTER}}",
            "is invalid: spec.broker.replicasPerGroup: brokerRole SYNC_MASTER waits for a slave \
             to acknowledge every write: set spec.broker.replicasPerGroup to at least 1, or use \
             ASYNC_MASTER",
        ),
    ];
    for (i, (spec, message)) in cases.iter().enumerate() {
        assert!(minimal.contains("spec: {}"), "the example changed shape");
        let manifest = tmp.path().join(format!("bad-{i}.yaml"));
        std::fs::write(&manifest, minimal.replace("spec: {}", spec)).unwrap();
        let state = tmp.path().join(format!("state-{i}"));
        let up = run(&[
            "up",
            "-f",
            manifest.to_str().unwrap(),
            "--dir",
            state.to_str().unwrap(),
            "--base-port",
            &free_base_port(2).to_string(),
            "--detach",
        ]);
        let stderr = text(&up.stderr);
        assert_eq!(up.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(
            stderr.contains(&format!("bad-{i}.yaml")),
            "names the file: {stderr}"
        );
        assert!(up.stdout.is_empty());
        // Refused before anything was written or spawned.
        assert!(!state.exists());
    }
}

#[test]
fn foreground_up_stopped_by_sigterm_exits_zero_and_leaves_no_process() {
    require_server_binaries();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let _leftovers = Leftovers(state.clone());
    let base = free_base_port(3);
    let manifest = example("minimal.yaml");
    let mut up: Child = Command::new(rmqctl_bin())
        .args([
            "up",
            "-f",
            manifest.to_str().unwrap(),
            "--dir",
            state.to_str().unwrap(),
            "--base-port",
            &base.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(up.stdout.take().unwrap());
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if lines.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + RUN_LIMIT;
    while !printed.iter().any(|l: &String| l.starts_with("stop ")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(_) => {
                let _ = up.kill();
                let mut stderr = String::new();
                let _ = std::io::Read::read_to_string(&mut up.stderr.take().unwrap(), &mut stderr);
                panic!("no summary from up: {printed:?}\n{stderr}");
            }
        }
    }
    let pids = PidsFile::read(&state.join("pids.json")).unwrap().unwrap();
    assert!(!pids.detached);
    assert_eq!(pids.rmqctl_pid, up.id());
    assert_eq!(pids.processes.len(), 3);

    let status = Command::new("kill")
        .args(["-TERM", &up.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + RUN_LIMIT;
    let exit = loop {
        if let Some(exit) = up.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "up still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut up.stderr.take().unwrap(), &mut stderr).unwrap();
    printed.extend(received.try_iter());
    assert_eq!(exit.code(), Some(0), "{stderr}\n{printed:?}");
    assert_all_gone(&pids);
    assert!(!state.join("pids.json").exists());
    let printed = printed.join("\n");
    assert!(
        printed.contains("SIGTERM received: stopping cluster demo"),
        "{printed}"
    );
    let broker_at = printed.find("stopped demo-broker-0-0").unwrap();
    let namesrv_at = printed.find("stopped demo-namesrv-1").unwrap();
    assert!(broker_at < namesrv_at, "{printed}");
}

#[test]
fn down_reports_processes_that_already_exited_and_is_not_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let pids = format!(
        r#"{{"cluster": "demo", "manifest": "/m.yaml", "detached": true, "rmqctlPid": {pid},
            "processes": [{{"name": "demo-broker-0-0", "kind": "broker", "pid": {pid},
            "addr": "127.0.0.1:10911", "log": "/l"}}]}}"#,
        pid = gone.id()
    );
    std::fs::write(tmp.path().join("pids.json"), pids).unwrap();
    let down = run(&["down", "--dir", tmp.path().to_str().unwrap()]);
    let stdout = text(&down.stdout);
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(
        stdout.contains(&format!(
            "demo-broker-0-0 (pid {}) had already exited",
            gone.id()
        )),
        "{stdout}"
    );
    assert!(!tmp.path().join("pids.json").exists());
    // Not made by `up` (files, but no manifest.yaml): never purged.
    std::fs::write(tmp.path().join("precious.txt"), "keep me").unwrap();
    let purge = run(&["down", "--dir", tmp.path().to_str().unwrap(), "--purge"]);
    assert_eq!(purge.status.code(), Some(1));
    assert!(text(&purge.stderr).contains("refusing to purge"));
    assert!(tmp.path().join("precious.txt").exists());
}

#[test]
fn up_without_the_server_binaries_says_how_to_build_them() {
    // A link to rmqctl in a directory of its own: current_exe() is then that directory.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let lonely = dir.path().join("rmqctl");
    if std::fs::hard_link(rmqctl_bin(), &lonely).is_err() {
        std::fs::copy(rmqctl_bin(), &lonely).unwrap();
    }
    let state = dir.path().join("state");
    let output = Command::new(&lonely)
        .args(["up", "-f", example("minimal.yaml").to_str().unwrap()])
        .args(["--dir", state.to_str().unwrap(), "--detach"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "rmq-namesrv is not in {} (next to rmqctl): build it with `cargo build -p \
             rmq-namesrv -p rmq-broker`",
            dir.path().display()
        )),
        "{stderr}"
    );
    assert!(!state.exists());
}

#[test]
fn up_refuses_ports_in_use_naming_them_and_creates_nothing() {
    require_server_binaries();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let base = free_base_port(4);
    let taken = TcpListener::bind(("127.0.0.1", base + BROKER_PORT_OFFSET)).unwrap();
    let up = run(&[
        "up",
        "-f",
        example("minimal.yaml").to_str().unwrap(),
        "--dir",
        state.to_str().unwrap(),
        "--base-port",
        &base.to_string(),
        "--detach",
    ]);
    let stderr = text(&up.stderr);
    assert_eq!(up.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ports already in use: {} (demo-broker-0-0); stop what listens there or choose \
             another --base-port",
            base + BROKER_PORT_OFFSET
        )),
        "{stderr}"
    );
    assert!(!state.exists());
    drop(taken);
}
