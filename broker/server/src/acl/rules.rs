//! The ACL rules in force: the rules files read at start, and again when they change (the
//! broker polls them; a file added or removed, or a changed size, modification time or content
//! is a change). A file that cannot be read or parsed leaves the last good rules in force; the
//! reason is returned for the log. At start there are no last good rules: no file, or a bad
//! one, stops the start.
//!
//! The files are where Apache looks for them ([`super::files`]): `{rocketmqHome}/conf/acl/**`
//! and `{rocketmqHome}/conf/plain_acl.yml`, `rocketmqHome` from `broker.conf` or else the
//! `ROCKETMQ_HOME` environment variable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use tracing::warn;

use rmq_protocol::command::acl_config::{AclConfigBody, AclDataVersion};

use super::config::{AclConfig, AclConfigError};
use super::edit::{self, EditError};
use super::files::{merge, rules_files};

/// Where `plain_acl.yml` is, under the RocketMQ home.
pub fn acl_file(rocketmq_home: &Path) -> PathBuf {
    rocketmq_home.join("conf").join("plain_acl.yml")
}

/// The RocketMQ home: `rocketmqHome` from `broker.conf`, else `ROCKETMQ_HOME`.
pub fn rocketmq_home(configured: Option<&str>, env: Option<&str>) -> Option<PathBuf> {
    configured
        .or(env)
        .map(str::trim)
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
}

/// Reading the rules failed.
#[derive(Debug, thiserror::Error)]
pub enum AclLoadError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is refused", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: AclConfigError,
    },
}

/// An ACL admin change that was not made; the file is as it was.
#[derive(Debug, thiserror::Error)]
pub enum AclEditError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not YAML this broker can edit, left as it is: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error("the change would make the rules invalid: {0}")]
    Invalid(#[from] AclConfigError),
    #[error("cannot write {} ({source}); where the file comes from a Secret or ConfigMap, change it there", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("written, but the rules files do not load together: {0}")]
    Reload(AclLoadError),
}

/// What a reload check did.
#[derive(Debug)]
pub enum Reload {
    Unchanged,
    Reloaded,
    /// The file changed but cannot be used; the previous rules stay in force.
    Refused(AclLoadError),
}

/// A file's path with its size and modification time (`None`: gone).
type Stamp = (PathBuf, Option<(u64, Option<SystemTime>)>);

/// What was last seen of the files: their size and time (to notice a change without reading),
/// and the content last read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Seen {
    stamps: Vec<Stamp>,
    texts: Vec<(PathBuf, String)>,
}

fn stamps(files: &[PathBuf]) -> Vec<Stamp> {
    files
        .iter()
        .map(|f| {
            let meta = std::fs::metadata(f).ok();
            (f.clone(), meta.map(|m| (m.len(), m.modified().ok())))
        })
        .collect()
}

/// The rules of one broker.
#[derive(Debug)]
pub struct AclRules {
    /// `{home}/conf/plain_acl.yml`: where new accounts go.
    path: PathBuf,
    current: RwLock<Arc<AclConfig>>,
    seen: Mutex<Seen>,
}

/// Reads and parses every rules file; their texts and the merged rules.
fn read_all(default_file: &Path) -> Result<(Seen, AclConfig), AclLoadError> {
    let files = rules_files(default_file);
    if files.is_empty() {
        return Err(AclLoadError::Read {
            path: default_file.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let stamps = stamps(&files);
    let mut texts = Vec::new();
    let mut configs = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| AclLoadError::Read {
            path: path.clone(),
            source,
        })?;
        let config = AclConfig::parse(&text).map_err(|source| AclLoadError::Parse {
            path: path.clone(),
            source,
        })?;
        texts.push((path, text));
        configs.push(config);
    }
    let (config, ignored) = merge(configs);
    for key in ignored {
        warn!(access_key = %key, "ACL account named again in a later file is ignored; the first file's account is in force");
    }
    Ok((Seen { stamps, texts }, config))
}

impl AclRules {
    /// Reads the rules files of the default file `path` (`{home}/conf/plain_acl.yml`); no
    /// file, or a bad one, is an error.
    pub fn load(path: PathBuf) -> Result<AclRules, AclLoadError> {
        let (seen, config) = read_all(&path)?;
        Ok(AclRules {
            path,
            current: RwLock::new(Arc::new(config)),
            seen: Mutex::new(seen),
        })
    }

    /// The default file (`{home}/conf/plain_acl.yml`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files the rules in force come from, in reading order.
    pub fn files(&self) -> Vec<PathBuf> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.texts.iter().map(|(path, _)| path.clone()).collect()
    }

    /// The file holding the account of `access_key` (the first that names it).
    pub fn file_of(&self, access_key: &str) -> Option<PathBuf> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.texts
            .iter()
            .find(|(_, text)| {
                super::config::listing(text).is_ok_and(|l| {
                    l.plain_access_configs
                        .iter()
                        .any(|a| a.access_key == access_key)
                })
            })
            .map(|(path, _)| path.clone())
    }

    /// The rules in force.
    pub fn current(&self) -> Arc<AclConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `f` on the rules in force without taking a reference of its own (the request path:
    /// a read lock, no reference count).
    pub fn with_current<R>(&self, f: impl FnOnce(&AclConfig) -> R) -> R {
        f(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the rules file `file` with `change` (ACL admin codes) and puts the result in
    /// force: the file is read afresh (a missing one is empty), changed, its `dataVersion`
    /// bumped to `now_ms`, the result parsed (an invalid one is refused and nothing is written)
    /// and written durably; then every file is read again.
    pub fn edit<T>(
        &self,
        now_ms: i64,
        file: &Path,
        change: impl FnOnce(&mut serde_yaml::Value) -> Result<T, EditError>,
    ) -> Result<T, AclEditError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let path = file.to_path_buf();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(AclEditError::Read { path, source }),
        };
        let mut doc: serde_yaml::Value = if text.trim().is_empty() {
            serde_yaml::Value::Null
        } else {
            serde_yaml::from_str(&text).map_err(|e| AclEditError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?
        };
        let changed = change(&mut doc)?;
        edit::bump_version(&mut doc, now_ms)?;
        let next = serde_yaml::to_string(&doc).map_err(|e| AclEditError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        AclConfig::parse(&next)?;
        crate::durable_file::replace(&path, next.as_bytes()).map_err(|source| {
            AclEditError::Write {
                path: path.clone(),
                source,
            }
        })?;
        // The other files are as they were read, or changed by hand meanwhile: either way the
        // rules in force become what is on disk now.
        let (now, config) = read_all(&self.path).map_err(AclEditError::Reload)?;
        *seen = now;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
        Ok(changed)
    }

    /// Every file as last read, listed as one (GET_BROKER_CLUSTER_ACL_CONFIG): white lists
    /// added up, an account from the first file that names it.
    pub fn listing(&self) -> Result<AclConfigBody, AclConfigError> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all = AclConfigBody::default();
        for (_, text) in &seen.texts {
            let listed = super::config::listing(text)?;
            all.global_white_addrs.extend(listed.global_white_addrs);
            for account in listed.plain_access_configs {
                if !all
                    .plain_access_configs
                    .iter()
                    .any(|a| a.access_key == account.access_key)
                {
                    all.plain_access_configs.push(account);
                }
            }
        }
        Ok(all)
    }

    /// Each file's `dataVersion` as last read.
    pub fn data_versions(&self) -> Vec<(PathBuf, AclDataVersion)> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.texts
            .iter()
            .map(|(path, text)| {
                let version = serde_yaml::from_str(text)
                    .map(|doc: serde_yaml::Value| edit::data_version(&doc))
                    .unwrap_or_default();
                (path.clone(), version)
            })
            .collect()
    }

    /// Reads the files again if any was added, removed or changed.
    pub fn reload_if_changed(&self) -> Reload {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamps(&rules_files(&self.path));
        if now == seen.stamps {
            return Reload::Unchanged;
        }
        // Remembered before reading, so one bad version is reported once, not every poll.
        seen.stamps = now;
        match read_all(&self.path) {
            Ok((read, _)) if read.texts == seen.texts => {
                *seen = read;
                Reload::Unchanged
            }
            Ok((read, config)) => {
                *seen = read;
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
                Reload::Reloaded
            }
            Err(error) => Reload::Refused(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "accounts:\n  - {accessKey: RocketMQ, secretKey: 12345678}\n";
    const TWO: &str = "accounts:\n  - {accessKey: RocketMQ, secretKey: 12345678}\n  - {accessKey: rocketmq2, secretKey: 87654321, admin: true}\n";

    #[test]
    fn the_file_is_under_the_configured_home_or_else_rocketmq_home() {
        assert_eq!(
            rocketmq_home(Some("/opt/rmq"), Some("/env")).map(|h| acl_file(&h)),
            Some(PathBuf::from("/opt/rmq/conf/plain_acl.yml"))
        );
        assert_eq!(
            rocketmq_home(None, Some("/env")),
            Some(PathBuf::from("/env"))
        );
        assert_eq!(rocketmq_home(Some(" "), None), None);
    }

    #[test]
    fn a_changed_file_is_reloaded_and_a_bad_one_leaves_the_last_good_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        std::fs::write(&path, ONE).unwrap();
        let rules = AclRules::load(path.clone()).unwrap();
        assert_eq!(rules.current().accounts.len(), 1);
        assert!(matches!(rules.reload_if_changed(), Reload::Unchanged));

        std::fs::write(&path, TWO).unwrap();
        assert!(matches!(rules.reload_if_changed(), Reload::Reloaded));
        assert_eq!(rules.current().accounts.len(), 2);

        std::fs::write(
            &path,
            "accounts:\n  - {accessKey: short, secretKey: 12345678}\n",
        )
        .unwrap();
        match rules.reload_if_changed() {
            Reload::Refused(error) => {
                let text = format!("{error}: {}", std::error::Error::source(&error).unwrap());
                assert!(
                    text.contains("plain_acl.yml") && text.contains("accessKey"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            rules.current().accounts.len(),
            2,
            "the last good rules stay"
        );
        assert!(
            matches!(rules.reload_if_changed(), Reload::Unchanged),
            "reported once"
        );

        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            rules.reload_if_changed(),
            Reload::Refused(AclLoadError::Read { .. })
        ));
        assert_eq!(rules.current().accounts.len(), 2);
    }

    #[test]
    fn a_missing_or_bad_file_at_start_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain_acl.yml");
        let missing = AclRules::load(path.clone()).unwrap_err();
        assert!(missing.to_string().contains("plain_acl.yml"));
        std::fs::write(&path, "accounts: [").unwrap();
        assert!(matches!(
            AclRules::load(path),
            Err(AclLoadError::Parse { .. })
        ));
    }

    #[test]
    fn files_under_conf_acl_add_accounts_edits_go_to_their_own_file_and_new_files_are_noticed() {
        let home = tempfile::tempdir().unwrap();
        let conf = home.path().join("conf");
        std::fs::create_dir_all(conf.join("acl")).unwrap();
        let default = conf.join("plain_acl.yml");
        std::fs::write(&default, ONE).unwrap();
        let team = conf.join("acl/team.yml");
        std::fs::write(
            &team,
            "globalWhiteRemoteAddresses: [10.1.0.*]\naccounts:\n  - {accessKey: teamuser1, secretKey: team-secret}\n",
        )
        .unwrap();
        let rules = AclRules::load(default.clone()).unwrap();
        assert_eq!(rules.files(), [team.clone(), default.clone()]);
        assert_eq!(rules.current().accounts.len(), 2);
        assert_eq!(rules.file_of("teamuser1"), Some(team.clone()));
        assert_eq!(rules.file_of("RocketMQ"), Some(default.clone()));

        let change = crate::acl::edit::AccountChange {
            access_key: "teamuser1".into(),
            admin: true,
            ..Default::default()
        };
        rules
            .edit(5, &team, |doc| crate::acl::edit::upsert(doc, &change))
            .unwrap();
        assert!(rules.current().accounts["teamuser1"].admin);
        assert!(
            std::fs::read_to_string(&team)
                .unwrap()
                .contains("admin: true")
        );
        assert!(
            !std::fs::read_to_string(&default)
                .unwrap()
                .contains("teamuser1")
        );
        let versions = rules.data_versions();
        assert_eq!(versions[0].1.counter, 1, "{versions:?}");
        assert_eq!(versions[1].1.counter, 0, "{versions:?}");

        std::fs::write(
            conf.join("acl/late.yaml"),
            "accounts:\n  - {accessKey: lateuser1, secretKey: late-secret}\n",
        )
        .unwrap();
        assert!(matches!(rules.reload_if_changed(), Reload::Reloaded));
        assert!(rules.current().accounts.contains_key("lateuser1"));
        let listed = rules.listing().unwrap();
        assert_eq!(listed.global_white_addrs, ["10.1.0.*"]);
        assert_eq!(listed.plain_access_configs.len(), 3);
    }
}
