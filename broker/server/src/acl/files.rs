//! Which files hold the ACL rules and how they combine, as Apache 4.9's
//! `PlainPermissionManager` reads them: every `*.yml` and `*.yaml` under `{home}/conf/acl`
//! (recursively, in path order), then `{home}/conf/plain_acl.yml` if it exists and is not among
//! them. Global white lists add up; an access key belongs to the first file that names it (a
//! later file's account of the same key is ignored, and reported).

use std::collections::btree_map::Entry;
use std::path::{Path, PathBuf};

use super::config::AclConfig;

/// `{home}/conf/acl`, given the default file `{home}/conf/plain_acl.yml`.
pub fn acl_dir(default_file: &Path) -> PathBuf {
    default_file
        .parent()
        .map_or_else(|| PathBuf::from("acl"), |conf| conf.join("acl"))
}

fn is_rules_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        // Hidden entries are skipped: a Secret or ConfigMap volume keeps its files twice, in
        // `..data` and a `..<timestamp>` directory, beside the links users see.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else if is_rules_file(&path) {
            found.push(path);
        }
    }
}

/// The rules files, in the order they are read.
pub fn rules_files(default_file: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(&acl_dir(default_file), &mut files);
    files.sort();
    if default_file.is_file() && !files.iter().any(|f| f == default_file) {
        files.push(default_file.to_path_buf());
    }
    files
}

/// The rules of several files as one, with the access keys a later file named again.
pub fn merge(configs: Vec<AclConfig>) -> (AclConfig, Vec<String>) {
    let mut merged = AclConfig::default();
    let mut ignored = Vec::new();
    for config in configs {
        merged
            .global_white_remote_addresses
            .extend(config.global_white_remote_addresses);
        merged.global_white.extend(config.global_white);
        for (key, account) in config.accounts {
            match merged.accounts.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(account);
                }
                Entry::Occupied(slot) => ignored.push(slot.key().clone()),
            }
        }
    }
    (merged, ignored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_under_conf_acl_come_in_path_order_then_the_default_file() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        std::fs::create_dir_all(conf.join("acl/team-b")).unwrap();
        for name in [
            "acl/z.yml",
            "acl/a.yaml",
            "acl/team-b/b.yml",
            "acl/notes.txt",
            "plain_acl.yml",
        ] {
            std::fs::write(conf.join(name), "").unwrap();
        }
        let files = rules_files(&conf.join("plain_acl.yml"));
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(&conf).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "acl/a.yaml",
                "acl/team-b/b.yml",
                "acl/z.yml",
                "plain_acl.yml"
            ]
        );
        let none = tempfile::tempdir().unwrap();
        assert!(rules_files(&none.path().join("conf/plain_acl.yml")).is_empty());
    }

    #[test]
    fn white_lists_add_up_and_an_access_key_belongs_to_its_first_file() {
        let first = AclConfig::parse(
            "globalWhiteRemoteAddresses: [10.0.0.*]\naccounts:\n  - {accessKey: shared01, secretKey: first-secret, admin: true}\n",
        )
        .unwrap();
        let second = AclConfig::parse(
            "globalWhiteRemoteAddresses: [10.1.0.*]\naccounts:\n  - {accessKey: shared01, secretKey: second-secret}\n  - {accessKey: other001, secretKey: other-secret}\n",
        )
        .unwrap();
        let (merged, ignored) = merge(vec![first, second]);
        assert_eq!(
            merged.global_white_remote_addresses,
            ["10.0.0.*", "10.1.0.*"]
        );
        assert_eq!(merged.global_white.len(), 2);
        assert!(
            merged.accounts["shared01"].admin,
            "the first file's account"
        );
        assert!(merged.accounts.contains_key("other001"));
        assert_eq!(ignored, ["shared01"]);
    }
}
