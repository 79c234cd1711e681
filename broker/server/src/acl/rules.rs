//! The ACL rules in force: `plain_acl.yml` read at start, and again when it changes (the
//! broker polls it; a changed size, modification time or content is a change). A file that
//! cannot be read or parsed leaves the last good rules in force; the reason is returned for the
//! log. At start there are no last good rules: a missing or bad file stops the start.
//!
//! The file is where Apache looks for it: `{rocketmqHome}/conf/plain_acl.yml`, `rocketmqHome`
//! from `broker.conf` or else the `ROCKETMQ_HOME` environment variable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use rmq_protocol::command::acl_config::{AclConfigBody, AclDataVersion};

use super::config::{AclConfig, AclConfigError};
use super::edit::{self, EditError};

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
}

/// What a reload check did.
#[derive(Debug)]
pub enum Reload {
    Unchanged,
    Reloaded,
    /// The file changed but cannot be used; the previous rules stay in force.
    Refused(AclLoadError),
}

/// Size, modification time and content of the file as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    text: String,
}

/// The rules of one broker.
#[derive(Debug)]
pub struct AclRules {
    path: PathBuf,
    current: RwLock<Arc<AclConfig>>,
    seen: Mutex<Seen>,
}

fn read(path: &Path) -> Result<(Seen, AclConfig), AclLoadError> {
    let read_error = |source| AclLoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let config = AclConfig::parse(&text).map_err(|source| AclLoadError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    let seen = Seen {
        len: meta.len(),
        modified: meta.modified().ok(),
        text,
    };
    Ok((seen, config))
}

impl AclRules {
    /// Reads `path`; a missing or bad file is an error.
    pub fn load(path: PathBuf) -> Result<AclRules, AclLoadError> {
        let (seen, config) = read(&path)?;
        Ok(AclRules {
            path,
            current: RwLock::new(Arc::new(config)),
            seen: Mutex::new(seen),
        })
    }

    /// The file the rules come from.
    pub fn path(&self) -> &Path {
        &self.path
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

    /// Changes the file with `change` (ACL admin codes) and puts the result in force: the file
    /// is read afresh, changed, its `dataVersion` bumped to `now_ms`, the result parsed (an
    /// invalid one is refused and nothing is written) and written durably.
    pub fn edit<T>(
        &self,
        now_ms: i64,
        change: impl FnOnce(&mut serde_yaml::Value) -> Result<T, EditError>,
    ) -> Result<T, AclEditError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let path = &self.path;
        let text = std::fs::read_to_string(path).map_err(|source| AclEditError::Read {
            path: path.clone(),
            source,
        })?;
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
        let config = AclConfig::parse(&next)?;
        crate::durable_file::replace(path, next.as_bytes()).map_err(|source| {
            AclEditError::Write {
                path: path.clone(),
                source,
            }
        })?;
        let meta = std::fs::metadata(path).ok();
        *seen = Seen {
            len: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
            text: next,
        };
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
        Ok(changed)
    }

    /// The rules file as last read, listed (GET_BROKER_CLUSTER_ACL_CONFIG).
    pub fn listing(&self) -> Result<AclConfigBody, AclConfigError> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        super::config::listing(&seen.text)
    }

    /// The file's `dataVersion` as last read.
    pub fn data_version(&self) -> AclDataVersion {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        serde_yaml::from_str(&seen.text)
            .map(|doc: serde_yaml::Value| edit::data_version(&doc))
            .unwrap_or_default()
    }

    /// Reads the file again if it changed.
    pub fn reload_if_changed(&self) -> Reload {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let meta = std::fs::metadata(&self.path).ok();
        let same_stamp = meta
            .as_ref()
            .is_some_and(|m| m.len() == seen.len && m.modified().ok() == seen.modified);
        if same_stamp {
            return Reload::Unchanged;
        }
        match read(&self.path) {
            Ok((now, _)) if now.text == seen.text => {
                *seen = now;
                Reload::Unchanged
            }
            Ok((now, config)) => {
                *seen = now;
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
                Reload::Reloaded
            }
            Err(error) => {
                // Remember the stamp, so one bad version is reported once, not every poll.
                if let Some(m) = meta {
                    seen.len = m.len();
                    seen.modified = m.modified().ok();
                }
                Reload::Refused(error)
            }
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
}
