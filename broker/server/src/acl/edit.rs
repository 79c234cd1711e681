//! What the ACL admin codes change in `plain_acl.yml`, as Apache 4.9.7's
//! `PlainPermissionManager` changes it, on the file's YAML document (key order and keys this
//! broker does not read are kept; comments are not, as Apache's rewrite drops them too):
//!
//! - UPDATE_AND_CREATE_ACL_CONFIG: a new account is appended; an existing one takes the fields
//!   the request carries (a secret only when not empty, default permissions only when not
//!   empty, resource lists replaced whole, `admin` always) and moves to the end of the list.
//! - DELETE_ACL_CONFIG: the account goes; an unknown key is an error.
//! - UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: `globalWhiteRemoteAddresses` is replaced.
//! - every change bumps the file's `dataVersion` (`[{counter, timestamp}]`), which
//!   GET_BROKER_CLUSTER_ACL_INFO reports.
//!
//! Whether the result is a valid rules file is checked by parsing it before it is written
//! ([`super::rules::AclRules::edit`]).

use rmq_protocol::command::acl_config::{AclDataVersion, CreateAccessConfigRequestHeader};
use serde_yaml::{Mapping, Value};

/// A change that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("plain_acl.yml is not a YAML mapping; it is left as it is")]
    NotAMapping,
    #[error("accounts of plain_acl.yml is not a list; it is left as it is")]
    AccountsNotAList,
    #[error("a new account needs a secretKey")]
    NoSecret,
    #[error("no account has the accessKey {0}")]
    NoSuchAccount(String),
}

/// An account's fields from UPDATE_AND_CREATE_ACL_CONFIG.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChange {
    pub access_key: String,
    pub secret_key: Option<String>,
    pub white_remote_address: Option<String>,
    pub admin: bool,
    pub default_topic_perm: Option<String>,
    pub default_group_perm: Option<String>,
    pub topic_perms: Option<Vec<String>>,
    pub group_perms: Option<Vec<String>>,
}

/// Apache's `UtilAll.split(text, ",")`: every item, empty ones too (an empty item is then
/// refused as a resource that is not `name=PERM`).
fn split(list: Option<&String>) -> Option<Vec<String>> {
    list.map(|text| text.split(',').map(|item| item.trim().to_owned()).collect())
}

impl AccountChange {
    pub fn from_header(header: &CreateAccessConfigRequestHeader) -> AccountChange {
        AccountChange {
            access_key: header.access_key.trim().to_owned(),
            secret_key: header.secret_key.clone(),
            white_remote_address: header.white_remote_address.clone(),
            admin: header.admin,
            default_topic_perm: header.default_topic_perm.clone(),
            default_group_perm: header.default_group_perm.clone(),
            topic_perms: split(header.topic_perms.as_ref()),
            group_perms: split(header.group_perms.as_ref()),
        }
    }
}

/// Whether an account was made or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

fn root(doc: &mut Value) -> Result<&mut Mapping, EditError> {
    if doc.is_null() {
        *doc = Value::Mapping(Mapping::new());
    }
    doc.as_mapping_mut().ok_or(EditError::NotAMapping)
}

fn accounts(doc: &mut Value) -> Result<&mut Vec<Value>, EditError> {
    let root = root(doc)?;
    let entry = root
        .entry(Value::from("accounts"))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if entry.is_null() {
        *entry = Value::Sequence(Vec::new());
    }
    entry.as_sequence_mut().ok_or(EditError::AccountsNotAList)
}

/// A scalar as Apache reads it: the text of a string, number or boolean.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn is_account(value: &Value, access_key: &str) -> bool {
    value
        .get("accessKey")
        .and_then(scalar_text)
        .is_some_and(|key| key == access_key)
}

fn strings(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|s| Value::from(s.as_str())).collect())
}

/// Creates or changes an account (see the module documentation).
pub fn upsert(doc: &mut Value, change: &AccountChange) -> Result<Upserted, EditError> {
    let accounts = accounts(doc)?;
    let existing = accounts
        .iter()
        .position(|a| is_account(a, &change.access_key));
    let (mut account, upserted) = match existing {
        Some(at) => (accounts.remove(at), Upserted::Updated),
        None if change.secret_key.as_deref().unwrap_or("").is_empty() => {
            return Err(EditError::NoSecret);
        }
        None => (Value::Mapping(Mapping::new()), Upserted::Created),
    };
    let Some(map) = account.as_mapping_mut() else {
        return Err(EditError::NotAMapping);
    };
    let mut set = |key: &str, value: Value| {
        map.insert(Value::from(key), value);
    };
    set("accessKey", Value::from(change.access_key.as_str()));
    if let Some(secret) = change.secret_key.as_deref().filter(|s| !s.is_empty()) {
        set("secretKey", Value::from(secret));
    }
    if let Some(white) = &change.white_remote_address {
        set("whiteRemoteAddress", Value::from(white.as_str()));
    }
    set("admin", Value::Bool(change.admin));
    if let Some(perm) = change
        .default_topic_perm
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        set("defaultTopicPerm", Value::from(perm));
    }
    if let Some(perm) = change
        .default_group_perm
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        set("defaultGroupPerm", Value::from(perm));
    }
    if let Some(perms) = &change.topic_perms {
        set("topicPerms", strings(perms));
    }
    if let Some(perms) = &change.group_perms {
        set("groupPerms", strings(perms));
    }
    accounts.push(account);
    Ok(upserted)
}

/// Deletes the account of `access_key`.
pub fn delete(doc: &mut Value, access_key: &str) -> Result<(), EditError> {
    let accounts = accounts(doc)?;
    let at = accounts
        .iter()
        .position(|a| is_account(a, access_key))
        .ok_or_else(|| EditError::NoSuchAccount(access_key.to_owned()))?;
    accounts.remove(at);
    Ok(())
}

/// Replaces the global white list.
pub fn set_global_white(doc: &mut Value, addresses: &[String]) -> Result<(), EditError> {
    root(doc)?.insert(
        Value::from("globalWhiteRemoteAddresses"),
        strings(addresses),
    );
    Ok(())
}

/// The file's `dataVersion`, or zeros when it has none.
pub fn data_version(doc: &Value) -> AclDataVersion {
    let entry = doc.get("dataVersion").and_then(|v| match v {
        Value::Sequence(items) => items.first(),
        other => Some(other),
    });
    let number = |key: &str| {
        entry
            .and_then(|e| e.get(key))
            .and_then(scalar_text)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0)
    };
    AclDataVersion {
        counter: number("counter"),
        timestamp: number("timestamp"),
    }
}

/// Bumps `dataVersion` to the next counter at `now_ms`; the new version.
pub fn bump_version(doc: &mut Value, now_ms: i64) -> Result<AclDataVersion, EditError> {
    let next = AclDataVersion {
        counter: data_version(doc).counter + 1,
        timestamp: now_ms,
    };
    let mut version = Mapping::new();
    version.insert(Value::from("counter"), Value::from(next.counter));
    version.insert(Value::from("timestamp"), Value::from(next.timestamp));
    root(doc)?.insert(
        Value::from("dataVersion"),
        Value::Sequence(vec![Value::Mapping(version)]),
    );
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::config::AclConfig;

    const FILE: &str = "\
globalWhiteRemoteAddresses:
- 10.10.103.*
accounts:
- accessKey: RocketMQ
  secretKey: 12345678
  whiteRemoteAddress: ''
  admin: false
  defaultTopicPerm: DENY
  topicPerms:
  - topicA=DENY
  somethingElse: kept
- accessKey: rocketmq2
  secretKey: 12345678
  admin: true
";

    fn doc() -> Value {
        serde_yaml::from_str(FILE).unwrap()
    }

    fn change(key: &str) -> AccountChange {
        AccountChange {
            access_key: key.into(),
            ..AccountChange::default()
        }
    }

    #[test]
    fn an_update_keeps_absent_fields_replaces_lists_always_sets_admin_and_moves_to_the_end() {
        let mut doc = doc();
        let update = AccountChange {
            topic_perms: Some(vec!["topicB=PUB".into()]),
            default_topic_perm: Some(String::new()),
            ..change("RocketMQ")
        };
        assert_eq!(upsert(&mut doc, &update), Ok(Upserted::Updated));
        let accounts = doc["accounts"].as_sequence().unwrap();
        assert_eq!(accounts.len(), 2);
        let moved = &accounts[1];
        assert_eq!(moved["accessKey"], Value::from("RocketMQ"));
        assert_eq!(
            scalar_text(&moved["secretKey"]).as_deref(),
            Some("12345678")
        );
        assert_eq!(moved["defaultTopicPerm"], Value::from("DENY"));
        assert_eq!(moved["topicPerms"], strings(&["topicB=PUB".into()]));
        assert_eq!(moved["admin"], Value::Bool(false));
        assert_eq!(moved["somethingElse"], Value::from("kept"));
        let text = serde_yaml::to_string(&doc).unwrap();
        assert!(AclConfig::parse(&text).is_ok(), "{text}");
    }

    #[test]
    fn a_new_account_needs_a_secret_and_is_appended() {
        let mut doc = doc();
        assert_eq!(
            upsert(&mut doc, &change("newcomer")),
            Err(EditError::NoSecret)
        );
        let created = AccountChange {
            secret_key: Some("87654321".into()),
            admin: true,
            ..change("newcomer")
        };
        assert_eq!(upsert(&mut doc, &created), Ok(Upserted::Created));
        let config = AclConfig::parse(&serde_yaml::to_string(&doc).unwrap()).unwrap();
        assert!(config.accounts["newcomer"].admin);
        // A secret that looks like a number stays a string once written.
        assert!(serde_yaml::to_string(&doc).unwrap().contains("'87654321'"));

        let mut empty = Value::Null;
        assert_eq!(upsert(&mut empty, &created), Ok(Upserted::Created));
        assert_eq!(empty["accounts"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn resource_lists_split_as_apache_splits_them_and_an_empty_item_does_not_load() {
        let header = CreateAccessConfigRequestHeader {
            access_key: "rocketmq3".into(),
            secret_key: Some("12345678".into()),
            white_remote_address: None,
            admin: false,
            default_topic_perm: None,
            default_group_perm: None,
            topic_perms: Some("topicA=PUB, topicB=SUB".into()),
            group_perms: Some(String::new()),
        };
        let change = AccountChange::from_header(&header);
        assert_eq!(
            change.topic_perms,
            Some(vec!["topicA=PUB".into(), "topicB=SUB".into()])
        );
        let mut doc = doc();
        upsert(&mut doc, &change).unwrap();
        let refused = AclConfig::parse(&serde_yaml::to_string(&doc).unwrap()).unwrap_err();
        assert!(refused.to_string().contains("groupPerms"), "{refused}");
    }

    #[test]
    fn deleting_takes_only_the_named_account_and_an_unknown_one_is_an_error() {
        let mut doc = doc();
        delete(&mut doc, "rocketmq2").unwrap();
        assert_eq!(doc["accounts"].as_sequence().unwrap().len(), 1);
        assert_eq!(
            delete(&mut doc, "rocketmq2"),
            Err(EditError::NoSuchAccount("rocketmq2".into()))
        );
    }

    #[test]
    fn every_change_bumps_the_data_version_and_the_white_list_is_replaced() {
        let mut doc = doc();
        assert_eq!(data_version(&doc), AclDataVersion::default());
        assert_eq!(bump_version(&mut doc, 1000).unwrap().counter, 1);
        let second = bump_version(&mut doc, 2000).unwrap();
        assert_eq!(
            second,
            AclDataVersion {
                counter: 2,
                timestamp: 2000
            }
        );
        let text = serde_yaml::to_string(&doc).unwrap();
        assert!(
            text.contains("dataVersion:\n- counter: 2\n  timestamp: 2000\n"),
            "{text}"
        );
        set_global_white(&mut doc, &["192.168.0.*".into()]).unwrap();
        let config = AclConfig::parse(&serde_yaml::to_string(&doc).unwrap()).unwrap();
        assert_eq!(config.global_white_remote_addresses, ["192.168.0.*"]);
        let mut list: Value = serde_yaml::from_str("[1, 2]").unwrap();
        assert_eq!(
            set_global_white(&mut list, &[]),
            Err(EditError::NotAMapping)
        );
    }
}
