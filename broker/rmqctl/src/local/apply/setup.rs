//! Everything `apply` checks before it changes anything: the running cluster (pids.json and
//! the manifest copy `up` kept), the new manifest, that both are the same cluster with the
//! same security, and that every process keeps its ports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rmq_operator::build::names;
use rmq_operator::crd::TlsRole;
use rmq_operator::validate::ValidatedCluster;
use rmq_protocol::acl::Credentials;
use rmq_remoting::ClientConfig;

use super::error::ApplyError;
use crate::cli::ApplyArgs;
use crate::local::UpError;
use crate::local::manifest;
use crate::local::pids::PidsFile;
use crate::local::plan::{self, Kind, Node, Plan};
use crate::local::process::{self, Liveness};
use crate::local::secure;
use crate::local::security::{self, Security};

/// How long each of `apply`'s own requests may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The running cluster and the one asked for.
pub struct Change {
    pub dir: PathBuf,
    /// The new manifest's path and text.
    pub file: PathBuf,
    pub manifest_text: String,
    pub old: ValidatedCluster,
    pub new: ValidatedCluster,
    pub old_plan: Plan,
    pub new_plan: Plan,
    pub pids: PidsFile,
    pub namesrv_client: ClientConfig,
    pub broker_client: ClientConfig,
    pub inner: Option<Credentials>,
    pub namesrv_bin: PathBuf,
    pub broker_bin: PathBuf,
}

impl Change {
    /// The node called `name`: as the new spec lays it out, else as the old one did.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.new_plan
            .nodes()
            .chain(self.old_plan.nodes())
            .find(|n| n.name == name)
    }

    /// Name of broker `member` of group `group`.
    pub fn broker_name(&self, group: u32, member: u32) -> String {
        names::broker_pod(&self.new, group, member)
    }

    /// Name of name server `ordinal`.
    pub fn namesrv_name(&self, ordinal: u32) -> String {
        format!("{}-{ordinal}", names::namesrv(&self.new))
    }

    /// `brokerName` of group `group`.
    pub fn group_name(&self, group: u32) -> String {
        names::broker_group(&self.new, group)
    }

    /// The binary of `kind`.
    pub fn binary(&self, kind: Kind) -> &Path {
        match kind {
            Kind::Namesrv => &self.namesrv_bin,
            Kind::Broker => &self.broker_bin,
        }
    }
}

/// Loads and checks both sides of the change; nothing is written.
pub fn prepare(args: &ApplyArgs) -> Result<Change, ApplyError> {
    let (manifest_text, parsed) = manifest::load(&args.file).map_err(UpError::from)?;
    for field in &parsed.unknown_fields {
        eprintln!(
            "rmqctl: warning: {}: unknown field {field} ignored (an API server would prune it)",
            args.file.display()
        );
    }
    let new = manifest::validate_local(parsed.cluster).map_err(|source| UpError::Invalid {
        path: args.file.clone(),
        source,
    })?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(".rmq").join(&new.name));
    let dir = std::path::absolute(&dir).map_err(|source| UpError::StateDir {
        action: "resolve",
        path: dir.clone(),
        source,
    })?;
    let pids = PidsFile::read(&plan::pids_path(&dir))?
        .ok_or_else(|| ApplyError::NotRunning { dir: dir.clone() })?;
    if !pids.detached
        && process::liveness(pids.rmqctl_pid, pids.rmqctl_start_time) == Liveness::Running
    {
        return Err(ApplyError::Foreground {
            dir,
            pid: pids.rmqctl_pid,
        });
    }
    let copy = plan::manifest_copy_path(&dir);
    let no_copy = |source: UpError| ApplyError::NoManifestCopy {
        dir: dir.clone(),
        source: Box::new(source),
    };
    let (_, old_parsed) = manifest::load(&copy).map_err(|e| no_copy(e.into()))?;
    let old = manifest::validate_local(old_parsed.cluster).map_err(|source| {
        no_copy(UpError::Invalid {
            path: copy.clone(),
            source,
        })
    })?;
    if old.name != new.name {
        return Err(ApplyError::OtherCluster {
            path: args.file.clone(),
            dir,
            old: old.name,
            new: new.name,
        });
    }
    if old.spec.security != new.spec.security {
        return Err(ApplyError::SecurityChanged);
    }
    let security =
        security::resolve(&new, &parsed.secrets).map_err(|source| UpError::Security {
            path: args.file.clone(),
            source,
        })?;
    let base = base_port(&pids, &new, &dir)?;
    // Running brokers keep their ports: a slave more or fewer moves no other process.
    let running = running_ports(&pids);
    let old_plan = plan::plan_keeping(&old, &dir, base, &running).map_err(UpError::from)?;
    let new_plan = plan::plan_keeping(&new, &dir, base, &running).map_err(UpError::from)?;
    check_layout(&old_plan, &new_plan)?;
    let (namesrv_client, broker_client) = clients(&dir, &security)?;
    let exe = std::env::current_exe().map_err(UpError::CurrentExe)?;
    let bin_dir = exe.parent().unwrap_or(Path::new("."));
    Ok(Change {
        namesrv_bin: process::locate(bin_dir, Kind::Namesrv).map_err(UpError::from)?,
        broker_bin: process::locate(bin_dir, Kind::Broker).map_err(UpError::from)?,
        file: args.file.clone(),
        manifest_text,
        dir,
        old,
        new,
        old_plan,
        new_plan,
        pids,
        namesrv_client,
        broker_client,
        inner: security.inner().cloned(),
    })
}

/// The `listenPort` of every broker pids.json records.
pub fn running_ports(pids: &PidsFile) -> BTreeMap<String, u16> {
    pids.processes
        .iter()
        .filter(|p| p.kind == Kind::Broker)
        .filter_map(|p| {
            let port = p.addr.rsplit_once(':')?.1.parse().ok()?;
            Some((p.name.clone(), port))
        })
        .collect()
}

/// The base port `up` was given: name server 0 listens on it.
fn base_port(pids: &PidsFile, cluster: &ValidatedCluster, dir: &Path) -> Result<u16, ApplyError> {
    let name = format!("{}-0", names::namesrv(cluster));
    pids.processes
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.addr.rsplit_once(':')?.1.parse().ok())
        .ok_or_else(|| ApplyError::NoBasePort {
            name,
            dir: dir.to_path_buf(),
        })
}

/// Every process both plans have keeps its ports.
pub fn check_layout(old: &Plan, new: &Plan) -> Result<(), ApplyError> {
    let old_ports: BTreeMap<&str, &Vec<u16>> =
        old.nodes().map(|n| (n.name.as_str(), &n.ports)).collect();
    for node in new.nodes() {
        if let Some(ports) = old_ports.get(node.name.as_str())
            && **ports != node.ports
        {
            return Err(ApplyError::LayoutMoved {
                name: node.name.clone(),
                old: (*ports).clone(),
                new: node.ports.clone(),
            });
        }
    }
    Ok(())
}

/// How `apply` talks to the name servers and the brokers: as `up` does.
fn clients(dir: &Path, security: &Security) -> Result<(ClientConfig, ClientConfig), ApplyError> {
    let reach = |role| {
        security::reach(dir, security, role).map_err(|source| UpError::Security {
            path: dir.to_path_buf(),
            source,
        })
    };
    let namesrv = secure::client_config(
        &reach(TlsRole::NameServer)?,
        TlsRole::NameServer,
        REQUEST_TIMEOUT,
    )?;
    let broker = secure::client_config(&reach(TlsRole::Broker)?, TlsRole::Broker, REQUEST_TIMEOUT)?;
    Ok((namesrv, broker))
}
