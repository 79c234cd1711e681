//! `rmqctl up`: validate the manifest, lay out the cluster, start the name servers, wait for
//! them, start the brokers, wait for them and for their registration, print the summary; then
//! either return (`--detach`) or wait for SIGINT/SIGTERM and stop brokers, then name servers.
//!
//! Any failure after the first spawn stops every process started (brokers first) before the
//! error is returned, and so does a signal received while starting.
//!
//! With `spec.security`, every Secret it names is found in the manifest and every certificate
//! checked before anything starts; `up`'s own requests use TLS to `enforcing` ports and sign
//! with the brokers' own account when ACL is on ([`crate::local::security`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rmq_admin::Admin;
use rmq_operator::crd::TlsRole;
use rmq_protocol::acl::Credentials;
use rmq_remoting::ClientConfig;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::cli::UpArgs;
use crate::local::down::{StopReport, stop_in_order};
use crate::local::error::UpError;
use crate::local::manifest;
use crate::local::pids::{PidsFile, ProcessRecord};
use crate::local::pki::Made;
use crate::local::plan::{self, Kind, Node, Plan};
use crate::local::process::{self, Liveness, Readiness, Target};
use crate::local::security::{self, Reach};
use crate::local::{secure, summary};

/// How long each process may take to log `listening on`.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the brokers may take to appear in every name server's cluster info.
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a process may take to exit after SIGTERM before it gets SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(20);
/// How long each of `up`'s own requests (cluster info, runtime info) may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Lines of a log quoted in an error.
const TAIL_LINES: usize = 15;

/// Runs `rmqctl up`.
pub async fn run(args: &UpArgs) -> Result<(), UpError> {
    let (manifest_text, parsed) = manifest::load(&args.file)?;
    for field in &parsed.unknown_fields {
        eprintln!(
            "rmqctl: warning: {}: unknown field {field} ignored (an API server would prune it)",
            args.file.display()
        );
    }
    let cluster = manifest::validate_local(parsed.cluster).map_err(|source| UpError::Invalid {
        path: args.file.clone(),
        source,
    })?;
    for field in manifest::kubernetes_only(&cluster) {
        eprintln!(
            "rmqctl: warning: {}: {field} is for Kubernetes Services; a local cluster serves \
             127.0.0.1 only and ignores it",
            args.file.display()
        );
    }
    let security_error = |source| UpError::Security {
        path: args.file.clone(),
        source,
    };
    let security = security::resolve(&cluster, &parsed.secrets).map_err(security_error)?;
    let exe = std::env::current_exe().map_err(UpError::CurrentExe)?;
    let bin_dir = exe.parent().unwrap_or(Path::new("."));
    let bins = Binaries {
        namesrv: process::locate(bin_dir, Kind::Namesrv)?,
        broker: process::locate(bin_dir, Kind::Broker)?,
    };

    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(".rmq").join(&cluster.name));
    // Absolute, since children run in their own directories; nothing is created before every
    // check has passed.
    let dir = std::path::absolute(&dir).map_err(|source| UpError::StateDir {
        action: "resolve",
        path: dir.clone(),
        source,
    })?;
    let plan = plan::plan(&cluster, &dir, args.base_port)?;
    // Brokers are asked only whether their slaves replicate: without slaves `up` needs neither
    // their TLS nor an account.
    let reach_brokers = if plan.slaves() > 0 {
        security::reach(&dir, &security, TlsRole::Broker).map_err(security_error)?
    } else {
        Reach::default()
    };
    let reach_namesrvs =
        security::reach(&dir, &security, TlsRole::NameServer).map_err(security_error)?;
    refuse_if_running(&plan)?;
    let busy = process::busy_ports(plan.nodes());
    if !busy.is_empty() {
        return Err(UpError::PortsInUse {
            ports: busy
                .into_iter()
                .map(|(name, port, _)| (name, port))
                .collect(),
        });
    }
    // The local CA is the first thing written: certificates are checked before anything else.
    let local = secure::local_ca(&plan, &security)?;
    let local = local.map(|(ca, made)| {
        if made == Made::New {
            eprintln!(
                "rmqctl: made a local CA for issuerRef in {}",
                security::pki_dir(&plan.dir).display()
            );
        }
        ca
    });
    secure::check_certificates(&cluster, &security, local.as_ref())?;
    write_files(&plan, &manifest_text)?;
    secure::write_files(&plan, &security, local.as_ref())?;
    let clients = Clients {
        namesrv: secure::client_config(&reach_namesrvs, TlsRole::NameServer, CHECK_TIMEOUT)?,
        broker: secure::client_config(&reach_brokers, TlsRole::Broker, CHECK_TIMEOUT)?,
        inner: security.inner().cloned(),
    };

    // Installed before the first spawn: from here on a Ctrl-C must stop what was started, not
    // kill rmqctl and orphan it.
    let mut signals = Signals::install()?;
    let mut started = Started {
        pids: PidsFile {
            cluster: plan.cluster.clone(),
            manifest: args
                .file
                .canonicalize()
                .unwrap_or_else(|_| args.file.clone()),
            detached: args.detach,
            rmqctl_pid: std::process::id(),
            rmqctl_start_time: process::start_time(std::process::id()),
            processes: Vec::new(),
        },
        pids_path: plan::pids_path(&plan.dir),
        children: Vec::new(),
    };
    let outcome = tokio::select! {
        outcome = start(&plan, &bins, &clients, &mut started) => outcome,
        signal = signals.recv() => Err(UpError::Interrupted { signal }),
    };
    if let Err(error) = outcome {
        eprintln!(
            "rmqctl: starting cluster {} failed; stopping what was started",
            plan.cluster
        );
        // The start failure is the error worth returning; a failed stop is told on the way.
        if let Err(stop_error) = started.stop(|line| eprintln!("rmqctl: {line}")) {
            eprintln!("rmqctl: {stop_error}");
        }
        return Err(error);
    }

    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "rmqctl".to_owned());
    print!(
        "{}",
        summary::render(&plan, &security, &program, args.detach)
    );
    if args.detach {
        // The children outlive this process: dropping a `Child` neither kills nor waits.
        return Ok(());
    }

    let exited = loop {
        tokio::select! {
            signal = signals.recv() => {
                println!("{signal} received: stopping cluster {}", plan.cluster);
                break None;
            }
            () = tokio::time::sleep(Duration::from_millis(250)) => {
                if let Some(exited) = started.first_exited() {
                    eprintln!("rmqctl: {} exited; stopping cluster {}", exited.0, plan.cluster);
                    break Some(exited);
                }
            }
        }
    };
    started.stop(|line| println!("{line}"))?;
    match exited {
        None => Ok(()),
        Some((name, status, log, from)) => Err(UpError::ExitedWhileRunning {
            tail: process::tail(&log, from, TAIL_LINES),
            name,
            status,
            log,
        }),
    }
}

/// How `up` talks to what it starts, and the account brokers get.
struct Clients {
    namesrv: ClientConfig,
    broker: ClientConfig,
    inner: Option<Credentials>,
}

/// The server binaries next to `rmqctl`.
struct Binaries {
    namesrv: PathBuf,
    broker: PathBuf,
}

impl Binaries {
    fn of(&self, kind: Kind) -> &Path {
        match kind {
            Kind::Namesrv => &self.namesrv,
            Kind::Broker => &self.broker,
        }
    }
}

/// SIGINT and SIGTERM.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn install() -> Result<Signals, UpError> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).map_err(UpError::Signals)?,
            terminate: signal(SignalKind::terminate()).map_err(UpError::Signals)?,
        })
    }

    /// The next signal's name.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// One process `up` started.
struct Child {
    name: String,
    kind: Kind,
    child: std::process::Child,
    log: PathBuf,
    /// Where this run's output starts in `log`.
    log_from: u64,
}

/// What `up` started so far, mirrored in `pids.json`.
struct Started {
    pids: PidsFile,
    pids_path: PathBuf,
    children: Vec<Child>,
}

impl Started {
    fn spawn(
        &mut self,
        binary: &Path,
        node: &Node,
        inner: Option<&Credentials>,
    ) -> Result<(), UpError> {
        let spawned = process::spawn(binary, node, inner).map_err(|source| UpError::Spawn {
            name: node.name.clone(),
            binary: binary.to_path_buf(),
            source,
        })?;
        self.pids
            .processes
            .push(ProcessRecord::spawned(node, &spawned));
        self.children.push(Child {
            name: node.name.clone(),
            kind: node.kind,
            child: spawned.child,
            log: node.log.clone(),
            log_from: spawned.log_from,
        });
        self.pids.write(&self.pids_path)?;
        Ok(())
    }

    fn get(&mut self, name: &str) -> Option<&mut Child> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// The first child that has exited: name, status, log, log offset.
    fn first_exited(&mut self) -> Option<(String, String, PathBuf, u64)> {
        self.children.iter_mut().find_map(|c| {
            let status = c.child.try_wait().ok().flatten()?;
            Some((
                c.name.clone(),
                status.to_string(),
                c.log.clone(),
                c.log_from,
            ))
        })
    }

    /// Stops every child, brokers first, reporting each line, then removes `pids.json`
    /// (kept if something survived SIGKILL, for `rmqctl down`).
    fn stop(&mut self, report: impl FnMut(String)) -> Result<(), UpError> {
        let mut brokers = Vec::new();
        let mut namesrvs = Vec::new();
        for c in self.children.drain(..) {
            let target = Target::child(&c.name, c.child);
            match c.kind {
                Kind::Broker => brokers.push(target),
                Kind::Namesrv => namesrvs.push(target),
            }
        }
        let StopReport { survivors } = stop_in_order(brokers, namesrvs, STOP_GRACE, report);
        if !survivors.is_empty() {
            return Err(UpError::Survived { names: survivors });
        }
        match std::fs::remove_file(&self.pids_path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(UpError::StateDir {
                action: "remove",
                path: self.pids_path.clone(),
                source: error,
            }),
            _ => Ok(()),
        }
    }
}

/// Starts the name servers and waits for them, then the brokers, and waits for them and for
/// their registration. Brokers register right after they listen and then only every 30 s, so
/// they must not start before the name servers listen.
async fn start(
    plan: &Plan,
    bins: &Binaries,
    clients: &Clients,
    started: &mut Started,
) -> Result<(), UpError> {
    for group in [&plan.namesrvs, &plan.brokers] {
        for node in group {
            started.spawn(bins.of(node.kind), node, clients.inner.as_ref())?;
        }
        for node in group {
            wait_listening(started, node).await?;
        }
    }
    wait_registered(plan, started, &clients.namesrv).await?;
    wait_replicating(plan, &clients.broker).await
}

/// Waits until every master with slaves reports them connected on its HA port
/// (`haConnectionCount` in GET_BROKER_RUNTIME_INFO). Until then a SYNC_MASTER answers
/// SLAVE_NOT_AVAILABLE, and clients retry such sends on another group, storing them twice.
async fn wait_replicating(plan: &Plan, config: &ClientConfig) -> Result<(), UpError> {
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    let masters: Vec<(&Node, usize)> = plan
        .brokers
        .iter()
        .filter_map(|node| {
            let broker = node.broker.as_ref()?;
            if broker.id != 0 {
                return None;
            }
            let slaves = plan
                .brokers
                .iter()
                .filter(|n| {
                    n.broker
                        .as_ref()
                        .is_some_and(|b| b.group == broker.group && b.id > 0)
                })
                .count();
            (slaves > 0).then_some((node, slaves))
        })
        .collect();
    let admin = Admin::with_config(Vec::new(), CHECK_TIMEOUT, config.clone());
    let mut last_error = None;
    loop {
        let mut waiting = Vec::new();
        for (master, slaves) in &masters {
            let connected = match admin.runtime_info(&master.addr).await {
                Ok(info) => info
                    .table
                    .get("haConnectionCount")
                    .and_then(|count| count.parse::<usize>().ok()),
                Err(error) => {
                    last_error = Some(error.to_string());
                    None
                }
            }
            .unwrap_or(0);
            if connected < *slaves {
                waiting.push(format!(
                    "{} ({}): {connected}/{slaves}",
                    master.name, master.addr
                ));
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(UpError::NotReplicating {
                waited: REGISTER_TIMEOUT,
                waiting,
                last_error,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_listening(started: &mut Started, node: &Node) -> Result<(), UpError> {
    let Some(child) = started.get(&node.name) else {
        return Ok(());
    };
    match process::wait_ready(&mut child.child, &child.log, child.log_from, LISTEN_TIMEOUT).await {
        Readiness::Ready => Ok(()),
        Readiness::Exited(status) => Err(UpError::ExitedEarly {
            name: node.name.clone(),
            status: status.to_string(),
            tail: process::tail(&child.log, child.log_from, TAIL_LINES),
            log: child.log.clone(),
        }),
        Readiness::TimedOut => Err(UpError::NotListening {
            name: node.name.clone(),
            waited: LISTEN_TIMEOUT,
            rust_log: std::env::var("RUST_LOG").ok(),
            tail: process::tail(&child.log, child.log_from, TAIL_LINES),
            log: child.log.clone(),
        }),
    }
}

/// Polls GET_BROKER_CLUSTER_INFO on every name server until each lists every broker of the
/// plan at its address, under the cluster's name.
async fn wait_registered(
    plan: &Plan,
    started: &mut Started,
    config: &ClientConfig,
) -> Result<(), UpError> {
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    loop {
        let mut missing = BTreeSet::new();
        let mut missing_text = Vec::new();
        let mut last_error = None;
        for ns in &plan.namesrvs {
            let admin = Admin::with_config(vec![ns.addr.clone()], CHECK_TIMEOUT, config.clone());
            let info = match admin.cluster_info().await {
                Ok(info) => Some(info),
                Err(error) => {
                    last_error = Some(error.to_string());
                    None
                }
            };
            for node in &plan.brokers {
                let Some(broker) = &node.broker else { continue };
                let listed = info.as_ref().is_some_and(|info| {
                    let in_cluster = info
                        .cluster_addr_table
                        .get(&plan.cluster)
                        .is_some_and(|groups| groups.contains(&broker.group));
                    let addr = info
                        .broker_addr_table
                        .get(&broker.group)
                        .and_then(|group| group.broker_addrs.get(&i64::from(broker.id)));
                    in_cluster && addr == Some(&node.addr)
                });
                if !listed {
                    missing.insert(node.name.clone());
                    missing_text.push(format!("{} ({}) on {}", node.name, node.addr, ns.addr));
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if let Some((name, status, log, from)) = started.first_exited() {
            return Err(UpError::ExitedEarly {
                name,
                status,
                tail: process::tail(&log, from, TAIL_LINES),
                log,
            });
        }
        if Instant::now() >= deadline {
            let tails = started
                .children
                .iter()
                .filter(|c| missing.contains(&c.name))
                .map(|c| {
                    format!(
                        "  {}:\n{}",
                        c.log.display(),
                        process::tail(&c.log, c.log_from, TAIL_LINES)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            return Err(UpError::NotRegistered {
                waited: REGISTER_TIMEOUT,
                missing: missing_text,
                last_error,
                tails,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Refuses to start over a cluster whose recorded processes still run; a record whose
/// processes are all gone (a crash, a reboot) is replaced.
fn refuse_if_running(plan: &Plan) -> Result<(), UpError> {
    let path = plan::pids_path(&plan.dir);
    let Some(pids) = PidsFile::read(&path)? else {
        return Ok(());
    };
    let running: Vec<String> = pids
        .processes
        .iter()
        .filter(|p| process::liveness(p.pid, p.start_time) == Liveness::Running)
        .map(|p| format!("{} (pid {})", p.name, p.pid))
        .collect();
    if running.is_empty() {
        eprintln!(
            "rmqctl: note: none of the processes in {} runs any more; starting afresh",
            path.display()
        );
        return Ok(());
    }
    Err(UpError::AlreadyRunning {
        cluster: pids.cluster,
        dir: plan.dir.clone(),
        running: running.join(", "),
    })
}

/// The manifest copy, the log directory, and each process's directory and config file.
/// Stores are left as they are: a second `up` finds the messages of the first.
fn write_files(plan: &Plan, manifest_text: &str) -> Result<(), UpError> {
    create_dir(&plan.dir)?;
    // The default state directory is inside the checkout: keep it out of `git status`.
    write(
        &plan.dir.join(".gitignore"),
        "# written by rmqctl up: the state of a local cluster, not source\n*\n",
    )?;
    // The manifest may hold Secrets (accounts, keys): for this user only.
    secure::write_file(
        &plan::manifest_copy_path(&plan.dir),
        manifest_text.as_bytes(),
        true,
    )?;
    create_dir(&plan.log_dir())?;
    for node in plan.nodes() {
        create_dir(&node.home)?;
        write(&node.config_path, &node.config)?;
    }
    Ok(())
}

fn create_dir(path: &Path) -> Result<(), UpError> {
    std::fs::create_dir_all(path).map_err(|source| UpError::StateDir {
        action: "create",
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), UpError> {
    std::fs::write(path, text).map_err(|source| UpError::StateDir {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}
