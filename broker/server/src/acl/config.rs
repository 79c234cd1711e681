//! `plain_acl.yml`, Apache's plain ACL file: the global white list and the accounts with their
//! permissions. Read as Apache reads it (SnakeYAML into its `PlainAccessConfig`): keys it does
//! not know are ignored, scalars may be written as numbers or strings (`secretKey: 12345678`),
//! and every permission string must be one of `DENY`, `PUB`, `SUB`, `PUB|SUB`, `SUB|PUB`.
//!
//! A file that does not parse, or an account that breaks a rule, is an error naming the line
//! (from the YAML parser) or the account and key: the broker then keeps the rules it had.

use std::collections::BTreeMap;

use rmq_protocol::command::acl_config::{AclConfigBody, PlainAccessConfig};
use serde::{Deserialize, Deserializer};

use super::address::{AddressPattern, AddressPatternError};

/// A permission of an account on a topic or group (Apache's `Permission` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perm(u8);

impl Perm {
    pub const DENY: Perm = Perm(1);
    /// What a request needs when either PUB or SUB will do.
    pub const ANY: Perm = Perm(1 << 1);
    pub const PUB: Perm = Perm(1 << 2);
    pub const SUB: Perm = Perm(1 << 3);
    pub const PUB_SUB: Perm = Perm((1 << 2) | (1 << 3));

    /// Apache's `Permission.parsePermFromString`, strict: an unknown word is an error here
    /// (Apache's file check refuses it too) instead of a silent DENY.
    pub fn parse(text: &str) -> Option<Perm> {
        match text.trim() {
            "DENY" => Some(Perm::DENY),
            "PUB" => Some(Perm::PUB),
            "SUB" => Some(Perm::SUB),
            "PUB|SUB" | "SUB|PUB" => Some(Perm::PUB_SUB),
            _ => None,
        }
    }

    /// Apache's `Permission.checkPermission`: DENY owns nothing; ANY needs PUB or SUB.
    pub fn allows(self, needed: Perm) -> bool {
        if self.0 & Perm::DENY.0 != 0 {
            return false;
        }
        if needed.0 & Perm::ANY.0 != 0 {
            return self.0 & (Perm::PUB.0 | Perm::SUB.0) != 0;
        }
        needed.0 & self.0 != 0
    }

    /// The word the file uses.
    pub fn name(self) -> &'static str {
        match self {
            Perm::PUB => "PUB",
            Perm::SUB => "SUB",
            Perm::PUB_SUB => "PUB|SUB",
            Perm::ANY => "ANY",
            _ => "DENY",
        }
    }
}

/// One account of the file. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct Account {
    pub access_key: String,
    /// The secret, ready to check signatures with.
    pub signing: rmq_protocol::acl::SigningKey,
    /// Address pattern as written; requests from addresses it matches need no signature check
    /// of the account's own white list (empty: none).
    pub white_remote_address: String,
    /// `white_remote_address`, parsed.
    pub white: AddressPattern,
    pub admin: bool,
    pub default_topic_perm: Perm,
    pub default_group_perm: Perm,
    /// Topic → permission.
    pub topic_perms: BTreeMap<String, Perm>,
    /// Group → permission.
    pub group_perms: BTreeMap<String, Perm>,
}

/// The whole file.
#[derive(Debug, Clone, Default)]
pub struct AclConfig {
    /// Address patterns whose requests need no signature, as written.
    pub global_white_remote_addresses: Vec<String>,
    /// The same, parsed.
    pub global_white: Vec<AddressPattern>,
    /// By access key.
    pub accounts: BTreeMap<String, Account>,
}

/// Reading `plain_acl.yml` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclConfigError {
    /// The YAML parser's message carries the line and column.
    #[error("plain_acl.yml is not valid: {0}")]
    Yaml(String),
    #[error("account {index} of plain_acl.yml: {key} {problem}")]
    Account {
        index: usize,
        key: &'static str,
        problem: String,
    },
    #[error("plain_acl.yml lists the accessKey {0:?} twice")]
    DuplicateAccessKey(String),
    #[error("globalWhiteRemoteAddresses of plain_acl.yml: {0}")]
    GlobalWhiteAddress(AddressPatternError),
}

/// A scalar Apache reads as a string whatever YAML type it was written as.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_yaml::Value>::deserialize(d)?;
    Ok(match value {
        None | Some(serde_yaml::Value::Null) => None,
        Some(serde_yaml::Value::String(s)) => Some(s),
        Some(serde_yaml::Value::Number(n)) => Some(n.to_string()),
        Some(serde_yaml::Value::Bool(b)) => Some(b.to_string()),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "expected a scalar, found {other:?}"
            )));
        }
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    #[serde(default)]
    global_white_remote_addresses: Option<Vec<String>>,
    #[serde(default)]
    accounts: Option<Vec<RawAccount>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAccount {
    #[serde(default, deserialize_with = "text")]
    access_key: Option<String>,
    #[serde(default, deserialize_with = "text")]
    secret_key: Option<String>,
    #[serde(default, deserialize_with = "text")]
    white_remote_address: Option<String>,
    #[serde(default, deserialize_with = "text")]
    admin: Option<String>,
    #[serde(default, deserialize_with = "text")]
    default_topic_perm: Option<String>,
    #[serde(default, deserialize_with = "text")]
    default_group_perm: Option<String>,
    #[serde(default)]
    topic_perms: Option<Vec<String>>,
    #[serde(default)]
    group_perms: Option<Vec<String>>,
}

/// Access and secret keys must be longer than this (`AclConstants.ACCESS_KEY_MIN_LENGTH`,
/// `SECRET_KEY_MIN_LENGTH`, checked by `PlainPermissionManager.checkPlainAccessConfig`).
pub const MIN_KEY_LEN: usize = 6;

impl AclConfig {
    /// Parses the text of `plain_acl.yml`.
    pub fn parse(text: &str) -> Result<AclConfig, AclConfigError> {
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| AclConfigError::Yaml(e.to_string()))?
        };
        let mut accounts = BTreeMap::new();
        for (index, raw) in raw.accounts.unwrap_or_default().into_iter().enumerate() {
            let account = account(index, raw)?;
            if accounts.contains_key(&account.access_key) {
                return Err(AclConfigError::DuplicateAccessKey(account.access_key));
            }
            accounts.insert(account.access_key.clone(), account);
        }
        let global_white_remote_addresses = raw.global_white_remote_addresses.unwrap_or_default();
        let global_white = global_white_remote_addresses
            .iter()
            .map(|p| AddressPattern::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AclConfigError::GlobalWhiteAddress)?;
        Ok(AclConfig {
            global_white_remote_addresses,
            global_white,
            accounts,
        })
    }
}

/// The file as GET_BROKER_CLUSTER_ACL_CONFIG lists it: the white list and every account's fields
/// as written (secrets included: only admin accounts may ask).
pub fn listing(text: &str) -> Result<AclConfigBody, AclConfigError> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile::default()
    } else {
        serde_yaml::from_str(text).map_err(|e| AclConfigError::Yaml(e.to_string()))?
    };
    let plain_access_configs = raw
        .accounts
        .unwrap_or_default()
        .into_iter()
        .map(|a| PlainAccessConfig {
            access_key: a.access_key.unwrap_or_default(),
            admin: a.admin.as_deref().map(str::trim) == Some("true"),
            default_group_perm: a.default_group_perm,
            default_topic_perm: a.default_topic_perm,
            group_perms: a.group_perms,
            secret_key: a.secret_key,
            topic_perms: a.topic_perms,
            white_remote_address: a.white_remote_address,
        })
        .collect();
    Ok(AclConfigBody {
        global_white_addrs: raw.global_white_remote_addresses.unwrap_or_default(),
        plain_access_configs,
    })
}

fn account(index: usize, raw: RawAccount) -> Result<Account, AclConfigError> {
    let bad = |key: &'static str, problem: String| AclConfigError::Account {
        index,
        key,
        problem,
    };
    let key_of = |key: &'static str, value: Option<String>| {
        let value = value.unwrap_or_default();
        if value.chars().count() <= MIN_KEY_LEN {
            return Err(bad(
                key,
                format!("must be longer than {MIN_KEY_LEN} characters"),
            ));
        }
        Ok(value)
    };
    let access_key = key_of("accessKey", raw.access_key)?;
    let secret_key = key_of("secretKey", raw.secret_key)?;
    let perm = |key: &'static str, value: Option<String>| match value {
        None => Ok(Perm::DENY),
        Some(text) => Perm::parse(&text)
            .ok_or_else(|| bad(key, format!("is {text:?}; use DENY, PUB, SUB or PUB|SUB"))),
    };
    let resources = |key: &'static str, entries: Option<Vec<String>>| {
        let mut out = BTreeMap::new();
        for entry in entries.unwrap_or_default() {
            let Some((name, word)) = entry.split_once('=') else {
                return Err(bad(
                    key,
                    format!("entry {entry:?} is not name=PERM (e.g. topicA=SUB)"),
                ));
            };
            let granted = Perm::parse(word).ok_or_else(|| {
                bad(
                    key,
                    format!("entry {entry:?}: use DENY, PUB, SUB or PUB|SUB"),
                )
            })?;
            out.insert(name.trim().to_owned(), granted);
        }
        Ok(out)
    };
    let admin = match raw.admin.as_deref().map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(bad("admin", format!("is {other:?}; use true or false"))),
    };
    let white_remote_address = raw.white_remote_address.unwrap_or_default();
    let white = AddressPattern::parse(&white_remote_address)
        .map_err(|e| bad("whiteRemoteAddress", e.to_string()))?;
    Ok(Account {
        access_key,
        signing: rmq_protocol::acl::SigningKey::new(&secret_key),
        white_remote_address,
        white,
        admin,
        default_topic_perm: perm("defaultTopicPerm", raw.default_topic_perm)?,
        default_group_perm: perm("defaultGroupPerm", raw.default_group_perm)?,
        topic_perms: resources("topicPerms", raw.topic_perms)?,
        group_perms: resources("groupPerms", raw.group_perms)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apache 4.9.x's distributed `conf/plain_acl.yml`.
    const APACHE_SAMPLE: &str = "\
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: 12345678
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true
";

    #[test]
    fn apaches_sample_file_reads_with_numbers_as_strings_and_every_permission() {
        let config = AclConfig::parse(APACHE_SAMPLE).unwrap();
        assert_eq!(
            config.global_white_remote_addresses,
            ["10.10.103.*", "192.168.0.*"]
        );
        let first = &config.accounts["RocketMQ"];
        assert!(first.signing.verify_request(
            [],
            b"x",
            &rmq_protocol::acl::signature("12345678", b"x")
        ));
        assert!(!format!("{first:?}").contains("12345678"));
        assert_eq!(first.white_remote_address, "");
        assert!(!first.admin);
        assert_eq!(first.default_topic_perm, Perm::DENY);
        assert_eq!(first.default_group_perm, Perm::SUB);
        assert_eq!(first.topic_perms["topicB"], Perm::PUB_SUB);
        assert_eq!(first.group_perms["groupC"], Perm::SUB);
        let admin = &config.accounts["rocketmq2"];
        assert!(admin.admin);
        assert_eq!(admin.white_remote_address, "192.168.1.*");
        assert_eq!(admin.default_topic_perm, Perm::DENY);
    }

    #[test]
    fn permissions_check_as_apaches_permission_class() {
        assert!(Perm::PUB_SUB.allows(Perm::PUB));
        assert!(Perm::SUB.allows(Perm::SUB));
        assert!(!Perm::SUB.allows(Perm::PUB));
        assert!(Perm::SUB.allows(Perm::ANY));
        assert!(!Perm::DENY.allows(Perm::ANY));
        assert!(!Perm::DENY.allows(Perm::DENY));
        assert_eq!(Perm::parse(" SUB|PUB "), Some(Perm::PUB_SUB));
        assert_eq!(Perm::parse("READ"), None);
    }

    #[test]
    fn a_bad_file_names_the_line_or_the_account_and_key() {
        let broken = AclConfig::parse("accounts:\n  - accessKey: [unclosed\n").unwrap_err();
        assert!(
            matches!(&broken, AclConfigError::Yaml(m) if m.contains("line")),
            "{broken}"
        );
        let short = AclConfig::parse("accounts:\n  - accessKey: abcdef\n    secretKey: 12345678\n")
            .unwrap_err();
        assert_eq!(
            short.to_string(),
            "account 0 of plain_acl.yml: accessKey must be longer than 6 characters"
        );
        let perm = AclConfig::parse(
            "accounts:\n  - accessKey: abcdefg\n    secretKey: 12345678\n    topicPerms: [t=READ]\n",
        )
        .unwrap_err();
        assert!(
            perm.to_string().contains("topicPerms") && perm.to_string().contains("t=READ"),
            "{perm}"
        );
        let twice = AclConfig::parse(
            "accounts:\n  - {accessKey: abcdefg, secretKey: 12345678}\n  - {accessKey: abcdefg, secretKey: 87654321}\n",
        )
        .unwrap_err();
        assert_eq!(twice, AclConfigError::DuplicateAccessKey("abcdefg".into()));
        let empty = AclConfig::parse("").unwrap();
        assert!(empty.accounts.is_empty() && empty.global_white.is_empty());
        let address = AclConfig::parse("globalWhiteRemoteAddresses: [10.10.*]\n").unwrap_err();
        assert!(address.to_string().contains("10.10.*"), "{address}");
        let account_address = AclConfig::parse(
            "accounts:\n  - {accessKey: abcdefg, secretKey: 12345678, whiteRemoteAddress: nowhere}\n",
        )
        .unwrap_err();
        assert!(
            account_address.to_string().contains("whiteRemoteAddress"),
            "{account_address}"
        );
    }
}
