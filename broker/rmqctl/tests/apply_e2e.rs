#![allow(clippy::unwrap_used)]
//! `rmqctl apply` with real processes and an independent client (Apache's C++ client from
//! PyPI, installed by `scripts/install-clients.sh`): `rmqctl up --detach` the "no message
//! loss" example (3 name servers, 2 SYNC_MASTER groups with a slave each, SYNC_FLUSH), then
//! apply (a) a config change while a producer sends, (b) one group fewer while a consumer
//! drains it, (c) one group more, which then takes sends for a topic created before it, (d) a
//! name server more, then two fewer, without restarting a broker.

mod local_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use local_support::{
    Down, Leftovers, client, client_command, client_result, free_base_port, repo, rmqctl,
    rmqctl_bin, run_within, text, up_detached,
};
use rmqctl::local::pids::PidsFile;
use serde_json::Value;

/// One cluster at a time also under `cargo test` (nextest runs this binary in its `clusters`
/// group, one test at a time): four clusters of seven processes with clients and rolling
/// restarts on two cores starve the clients, whose own timeouts then fail sends.
static ONE_CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Longest an apply may take: 2 rolls of 35 s route refresh plus restarts, or a drain.
const APPLY_LIMIT: Duration = Duration::from_secs(300);

/// Fields drop in order: the cluster stops before its directory goes, and then the next test
/// may start one.
struct Cluster {
    dir: PathBuf,
    namesrv: String,
    home: PathBuf,
    _down: Down,
    _leftovers: Leftovers,
    _tmp: tempfile::TempDir,
    _one: std::sync::MutexGuard<'static, ()>,
}

impl Cluster {
    /// `up --detach` the example, with a topic on every master.
    fn up(topic: &str) -> Cluster {
        let one = ONE_CLUSTER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        // Two groups of two, and room for a third group.
        let base = free_base_port(6);
        let manifest = tmp.path().join("base.yaml");
        std::fs::write(&manifest, example()).unwrap();
        let up = up_detached(&manifest, &dir, base);
        let down = Down(dir.clone());
        let leftovers = Leftovers(dir.clone());
        assert!(up.status.success(), "up failed: {}", text(&up.stderr));
        let namesrv = format!(
            "127.0.0.1:{base};127.0.0.1:{};127.0.0.1:{}",
            base + 1,
            base + 2
        );
        let created = rmqctl(&["updateTopic", "-n", &namesrv, "-c", "orders", "-t", topic]);
        assert!(created.status.success(), "{}", text(&created.stderr));
        Cluster {
            home: tmp.path().join("client-home"),
            _tmp: tmp,
            dir,
            namesrv,
            _down: down,
            _leftovers: leftovers,
            _one: one,
        }
    }

    /// The example with `edit` applied to its text, written next to the state directory.
    fn manifest(&self, edit: impl Fn(&str) -> String) -> PathBuf {
        let text =
            std::fs::read_to_string(repo().join("deploy/examples/no-message-loss.yaml")).unwrap();
        let path = self.dir.parent().unwrap().join("changed.yaml");
        std::fs::write(&path, edit(&text)).unwrap();
        path
    }

    fn apply(&self, manifest: &Path) -> String {
        let output = run_within(
            Command::new(rmqctl_bin()).args([
                "apply",
                "-f",
                manifest.to_str().unwrap(),
                "--dir",
                self.dir.to_str().unwrap(),
            ]),
            APPLY_LIMIT,
        );
        let out = text(&output.stdout);
        assert!(
            output.status.success(),
            "apply failed:\n{out}\n{}",
            text(&output.stderr)
        );
        out
    }

    fn pids(&self) -> PidsFile {
        PidsFile::read(&self.dir.join("pids.json"))
            .unwrap()
            .unwrap()
    }

    fn pid(&self, name: &str) -> Option<u32> {
        self.pids()
            .processes
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.pid)
    }

    /// Consumes `expect` distinct messages of `topic` as group `group`.
    fn consume(&self, topic: &str, group: &str, expect: usize) -> Value {
        client(
            "cpp_consume.py",
            &self.namesrv,
            &self.home,
            &[
                "--topic",
                topic,
                "--group",
                group,
                "--expect",
                &expect.to_string(),
                "--timeout-s",
                "120",
                "--idle-s",
                "3",
            ],
        )
    }

    /// `topicStatus --json`: messages per broker group.
    fn messages_per_group(&self, topic: &str) -> Vec<(String, i64)> {
        let status = rmqctl(&["topicStatus", "-n", &self.namesrv, "-t", topic, "--json"]);
        assert!(status.status.success(), "{}", text(&status.stderr));
        let value: Value = serde_json::from_slice(&status.stdout).unwrap();
        let mut per_group: Vec<(String, i64)> = Vec::new();
        for queue in value["queues"].as_array().unwrap() {
            let name = queue["brokerName"].as_str().unwrap().to_owned();
            let count = queue["maxOffset"].as_i64().unwrap() - queue["minOffset"].as_i64().unwrap();
            match per_group.iter_mut().find(|(n, _)| *n == name) {
                Some((_, total)) => *total += count,
                None => per_group.push((name, count)),
            }
        }
        per_group
    }
}

/// The "no message loss" example.
fn example() -> String {
    std::fs::read_to_string(repo().join("deploy/examples/no-message-loss.yaml")).unwrap()
}

/// The keys of the messages a producer run got SEND_OK for, and every other outcome.
fn outcomes(produced: &Value) -> (BTreeSet<String>, Vec<Value>) {
    let mut ok = BTreeSet::new();
    let mut refused = Vec::new();
    for result in produced["results"].as_array().unwrap() {
        if result["status"] == "SEND_OK" {
            ok.insert(format!("k-{}", result["i"]));
        } else {
            refused.push(result.clone());
        }
    }
    (ok, refused)
}

/// Keys of every message a consumer run received.
fn received_keys(consumed: &Value) -> BTreeSet<String> {
    consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["keys"].as_str().unwrap().to_owned())
        .collect()
}

/// A child killed when the test ends, passed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every acknowledged key was consumed.
fn assert_none_lost(acked: &BTreeSet<String>, consumed: &Value) {
    let received = received_keys(consumed);
    let lost: Vec<&String> = acked.difference(&received).collect();
    assert!(lost.is_empty(), "acknowledged but not consumed: {lost:?}");
}

/// Position of the first line of `out` that starts with `prefix`.
fn line_of(out: &str, prefix: &str) -> usize {
    out.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line `{prefix}` in:\n{out}"))
}

#[test]
fn a_config_change_restarts_every_broker_in_order_while_a_producer_sends_without_one_refusal_or_loss()
 {
    let cluster = Cluster::up("Rolls");
    let before = cluster.pids();
    let stop = cluster.dir.parent().unwrap().join("stop-producing");
    let producer = client_command(
        "cpp_produce.py",
        &cluster.namesrv,
        &cluster.home,
        &[
            "--topic",
            "Rolls",
            "--group",
            "roll-pg",
            "--count",
            "100000",
            "--key-prefix",
            "k-",
            "--keep-going",
            "--until-file",
            stop.to_str().unwrap(),
            "--pace-ms",
            "20",
            "--timeout-s",
            "400",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(3));

    let changed = cluster.manifest(|t| {
        t.replace(
            "    brokerRole: SYNC_MASTER\n",
            "    brokerRole: SYNC_MASTER\n    config:\n      maxMessageSize: \"4194304\"\n",
        )
    });
    let out = cluster.apply(&changed);
    std::thread::sleep(Duration::from_secs(3));
    std::fs::write(&stop, b"").unwrap();
    let produced = client_result("cpp_produce.py", &producer.wait_with_output().unwrap());

    // Slaves before their master, group 0 before group 1, writes off before each group's first
    // restart and back after its master.
    let order = [
        "taking writes off orders-broker-0 ",
        "restarting orders-broker-0-1 ",
        "restarting orders-broker-0-0 ",
        "giving writes back to orders-broker-0 ",
        "taking writes off orders-broker-1 ",
        "restarting orders-broker-1-1 ",
        "restarting orders-broker-1-0 ",
        "giving writes back to orders-broker-1 ",
    ];
    let positions: Vec<usize> = order.iter().map(|l| line_of(&out, l)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    let after = cluster.pids();
    for process in &before.processes {
        let now = after
            .processes
            .iter()
            .find(|p| p.name == process.name)
            .unwrap();
        let restarted = now.pid != process.pid;
        assert_eq!(
            restarted,
            process.name.contains("-broker-"),
            "{} restarted: {restarted}",
            process.name
        );
    }

    let (acked, refused) = outcomes(&produced);
    assert!(
        refused.is_empty(),
        "sends refused during the roll: {refused:?}\n{out}"
    );
    assert!(acked.len() >= 500, "only {} sends in the roll", acked.len());
    let consumed = cluster.consume("Rolls", "roll-cg", acked.len());
    assert_none_lost(&acked, &consumed);
}

#[test]
fn one_group_fewer_waits_for_its_consumers_and_stops_only_once_they_consumed_everything_on_it() {
    let cluster = Cluster::up("Drains");
    let produced = client(
        "cpp_produce.py",
        &cluster.namesrv,
        &cluster.home,
        &[
            "--topic",
            "Drains",
            "--group",
            "drain-pg",
            "--count",
            "400",
            "--key-prefix",
            "k-",
            // A failed send is sent again, as an application would (the C++ client can fail
            // a send at once while its connection table is busy connecting to a broker it has
            // just learned of); what is asserted is where the messages went and no loss.
            "--resend",
            "3",
        ],
    );
    let (acked, refused) = outcomes(&produced);
    assert!(refused.is_empty(), "{refused:?}");
    let on_group_1 = cluster
        .messages_per_group("Drains")
        .into_iter()
        .find(|(name, _)| name == "orders-broker-1")
        .map_or(0, |(_, n)| n);
    assert!(on_group_1 > 0, "nothing to drain on group 1");
    // No consumer yet: the drain must wait for one, with the group still running.
    let fewer = cluster.manifest(|t| t.replace("    groups: 2\n", "    groups: 1\n"));
    let log = cluster.dir.parent().unwrap().join("apply.log");
    let mut apply = Killed(
        Command::new(rmqctl_bin())
            .args([
                "apply",
                "-f",
                fewer.to_str().unwrap(),
                "--dir",
                cluster.dir.to_str().unwrap(),
            ])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let waiting = "waiting: consumers to consume the ";
    let waited = (0..600).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        std::fs::read_to_string(&log).unwrap().contains(waiting)
    });
    assert!(waited, "{}", std::fs::read_to_string(&log).unwrap());
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        cluster.pid("orders-broker-1-0").is_some(),
        "deleted before it was drained"
    );
    assert_eq!(
        apply.0.try_wait().unwrap(),
        None,
        "apply ended with messages left"
    );

    let consumed = client(
        "cpp_consume.py",
        &cluster.namesrv,
        &cluster.home,
        &[
            "--topic",
            "Drains",
            "--group",
            "drain-cg",
            "--expect",
            &acked.len().to_string(),
            "--timeout-s",
            "120",
            "--idle-s",
            "2",
            // Long enough for the client to commit its offsets (every 5 s) and apply to see them.
            "--min-run-s",
            "20",
        ],
    );
    let done = (0..600).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        apply.0.try_wait().unwrap().is_some()
    });
    if !done {
        let _ = apply.0.kill();
    }
    let status = apply.0.wait().unwrap();
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "apply failed:\n{out}");

    assert!(line_of(&out, "taking writes off orders-broker-1 ") < line_of(&out, waiting));
    assert!(line_of(&out, waiting) < line_of(&out, "deleting orders-broker-1 "));
    assert_eq!(cluster.pid("orders-broker-1-0"), None);
    assert_eq!(cluster.pid("orders-broker-1-1"), None);
    assert!(cluster.pid("orders-broker-0-0").is_some());
    assert_none_lost(&acked, &consumed);
}

#[test]
fn one_group_more_gets_the_topics_of_the_cluster_and_takes_sends() {
    let cluster = Cluster::up("Grows");
    let more = cluster.manifest(|t| t.replace("    groups: 2\n", "    groups: 3\n"));
    let out = cluster.apply(&more);
    assert!(
        out.contains(
            "copying topics and subscription groups from orders-broker-0 to orders-broker-2"
        ),
        "{out}"
    );
    assert!(cluster.pid("orders-broker-2-0").is_some());
    assert!(cluster.pid("orders-broker-2-1").is_some());

    let produced = client(
        "cpp_produce.py",
        &cluster.namesrv,
        &cluster.home,
        &[
            "--topic",
            "Grows",
            "--group",
            "grow-pg",
            "--count",
            "300",
            "--key-prefix",
            "k-",
            // A failed send is sent again, as an application would (the C++ client can fail
            // a send at once while its connection table is busy connecting to a broker it has
            // just learned of); what is asserted is where the messages went and no loss.
            "--resend",
            "3",
        ],
    );
    let (acked, refused) = outcomes(&produced);
    assert!(refused.is_empty(), "{refused:?}");
    let per_group = cluster.messages_per_group("Grows");
    let on_new = per_group
        .iter()
        .find(|(name, _)| name == "orders-broker-2")
        .map_or(0, |(_, n)| *n);
    assert!(on_new > 0, "the new group took no sends: {per_group:?}");
    let consumed = cluster.consume("Grows", "grow-cg", acked.len());
    assert_none_lost(&acked, &consumed);
}

#[test]
fn name_servers_added_and_removed_reach_every_broker_without_restarting_one() {
    let cluster = Cluster::up("Lists");
    let before = cluster.pids();
    let brokers: Vec<_> = before
        .processes
        .iter()
        .filter(|p| p.name.contains("-broker-"))
        .map(|p| (p.name.clone(), p.pid))
        .collect();
    let four = cluster.manifest(|t| t.replace("    replicas: 3\n", "    replicas: 4\n"));
    let out = cluster.apply(&four);
    assert!(line_of(&out, "starting orders-namesrv-3") < line_of(&out, "giving orders-broker-"));
    // The new name server knows every broker (apply waited for that before giving the list).
    let base: u16 = cluster
        .namesrv
        .split(';')
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let fourth = format!("127.0.0.1:{}", base + 3);
    let listed = rmqctl(&["clusterList", "-n", &fourth, "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    for (name, _) in &brokers {
        let group = &name[..name.rfind('-').unwrap()];
        assert!(listed.contains(group), "{group} not on {fourth}: {listed}");
    }

    let two = cluster.manifest(|t| t.replace("    replicas: 3\n", "    replicas: 2\n"));
    let out = cluster.apply(&two);
    assert!(line_of(&out, "giving orders-broker-") < line_of(&out, "stopping orders-namesrv-3"));
    assert!(
        line_of(&out, "stopping orders-namesrv-3") < line_of(&out, "stopping orders-namesrv-2")
    );
    assert_eq!(cluster.pid("orders-namesrv-2"), None);
    assert_eq!(cluster.pid("orders-namesrv-3"), None);
    for (name, pid) in &brokers {
        assert_eq!(cluster.pid(name), Some(*pid), "{name} restarted");
        let conf =
            std::fs::read_to_string(cluster.dir.join("broker").join(name).join("broker.conf"))
                .unwrap();
        assert!(
            conf.contains(&format!(
                "namesrvAddr=127.0.0.1:{base};127.0.0.1:{}\n",
                base + 1
            )),
            "{name}: {conf}"
        );
    }
}

#[test]
fn a_slave_more_per_group_starts_only_the_new_slaves_on_free_ports_and_restarts_nothing() {
    let cluster = Cluster::up("Slaves");
    let before = cluster.pids();
    let more =
        cluster.manifest(|t| t.replace("    replicasPerGroup: 1\n", "    replicasPerGroup: 2\n"));
    let out = cluster.apply(&more);
    assert!(
        line_of(&out, "starting orders-broker-0-2") < line_of(&out, "starting orders-broker-1-2")
    );
    assert!(!out.contains("restarting"), "{out}");
    let after = cluster.pids();
    for process in &before.processes {
        let now = after
            .processes
            .iter()
            .find(|p| p.name == process.name)
            .unwrap();
        assert_eq!(
            (now.pid, &now.addr),
            (process.pid, &process.addr),
            "{}",
            process.name
        );
    }
    let taken: Vec<&str> = before.processes.iter().map(|p| p.addr.as_str()).collect();
    for slave in ["orders-broker-0-2", "orders-broker-1-2"] {
        let record = after.processes.iter().find(|p| p.name == slave).unwrap();
        assert!(
            !taken.contains(&record.addr.as_str()),
            "{slave} at {}",
            record.addr
        );
    }

    // SYNC_MASTERs with two slaves each take sends: their slaves replicate.
    let produced = client(
        "cpp_produce.py",
        &cluster.namesrv,
        &cluster.home,
        &[
            "--topic",
            "Slaves",
            "--group",
            "slaves-pg",
            "--count",
            "50",
            "--key-prefix",
            "k-",
        ],
    );
    let (acked, refused) = outcomes(&produced);
    assert!(refused.is_empty(), "{refused:?}");
    let consumed = cluster.consume("Slaves", "slaves-cg", acked.len());
    assert_none_lost(&acked, &consumed);
}
