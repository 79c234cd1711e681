//! Whether a request may pass, as Apache 4.9.7's `PlainPermissionManager.validate` decides:
//!
//! 1. from an address of `globalWhiteRemoteAddresses`: yes;
//! 2. no `AccessKey`, or one without an account: no;
//! 3. from the account's `whiteRemoteAddress`: yes (no signature, no permission check);
//! 4. a signature that is not the account's over the request: no;
//! 5. a send to `RMQ_SYS_TRACE_TOPIC` (message trace): yes;
//! 6. an admin code from an account that is not admin: no;
//! 7. an admin account with no topic or group permission listed: yes;
//! 8. each resource the request needs: the account's permission on it, else its default
//!    topic or group permission (groups are checked as their `%RETRY%` topic), must allow it.
//!
//! The refusals carry Apache's messages; none of them holds a secret.

use std::borrow::Cow;
use std::net::IpAddr;

use rmq_protocol::ExtFields;

use super::config::{AclConfig, Perm};

/// Apache's retry topic prefix: a group's permission is kept under `%RETRY%group`.
pub const RETRY_PREFIX: &str = "%RETRY%";
/// Message trace's topic, open to every account that signs (Apache's exception).
pub const TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";

/// What one request needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Needs<'a> {
    pub request_code: i32,
    /// Admin-only codes (`Permission.ADMIN_CODE`).
    pub admin: bool,
    /// Topic (or `%RETRY%group`) and the permission needed on it, each resource once (a
    /// request names one or two; a heartbeat a few): borrowed from the request where it can be.
    pub resources: Vec<(Cow<'a, str>, Perm)>,
}

impl<'a> Needs<'a> {
    /// Adds `resource`; a resource named again takes the later permission, as Apache's map does.
    pub fn add(&mut self, resource: Cow<'a, str>, perm: Perm) {
        match self.resources.iter_mut().find(|(r, _)| *r == resource) {
            Some(entry) => entry.1 = perm,
            None => self.resources.push((resource, perm)),
        }
    }
}

/// What the request carried.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub remote: IpAddr,
    pub access_key: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// Every ext field (the signature covers their values, `rmq_protocol::acl`).
    pub ext_fields: &'a ExtFields,
    pub body: &'a [u8],
}

/// Why a request is refused, with Apache's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("No accessKey is configured")]
    NoAccessKey,
    #[error("No acl config for {0}")]
    UnknownAccessKey(String),
    #[error("Check signature failed for accessKey={0}")]
    BadSignature(String),
    #[error("Need admin permission for request code={code}, but accessKey={access_key} is not")]
    NeedAdmin { code: i32, access_key: String },
    #[error("No default permission for {}", printed(.0))]
    NoPermission(String),
}

/// Apache's `PlainAccessResource.printStr`: `group:<name>` or `topic:<name>`.
fn printed(resource: &str) -> String {
    match resource.strip_prefix(RETRY_PREFIX) {
        Some(group) => format!("group:{group}"),
        None => format!("topic:{resource}"),
    }
}

/// The decision (see the module documentation).
pub fn check(
    config: &AclConfig,
    presented: Presented<'_>,
    needs: &Needs<'_>,
) -> Result<(), Denied> {
    if config
        .global_white
        .iter()
        .any(|p| p.matches(presented.remote))
    {
        return Ok(());
    }
    let access_key = presented.access_key.ok_or(Denied::NoAccessKey)?;
    let account = config
        .accounts
        .get(access_key)
        .ok_or_else(|| Denied::UnknownAccessKey(access_key.to_owned()))?;
    if account.white.matches(presented.remote) {
        return Ok(());
    }
    let signed = presented.signature.is_some_and(|signature| {
        account
            .signing
            .verify_request(presented.ext_fields.iter(), presented.body, signature)
    });
    if !signed {
        return Err(Denied::BadSignature(access_key.to_owned()));
    }
    if needs
        .resources
        .iter()
        .any(|(r, p)| r == TRACE_TOPIC && *p == Perm::PUB)
    {
        return Ok(());
    }
    if needs.admin && !account.admin {
        return Err(Denied::NeedAdmin {
            code: needs.request_code,
            access_key: access_key.to_owned(),
        });
    }
    if account.admin && account.topic_perms.is_empty() && account.group_perms.is_empty() {
        return Ok(());
    }
    for (resource, needed) in &needs.resources {
        let owned = match resource.strip_prefix(RETRY_PREFIX) {
            Some(group) => account
                .group_perms
                .get(group)
                .copied()
                .unwrap_or(account.default_group_perm),
            None => account
                .topic_perms
                .get(resource.as_ref())
                .copied()
                .unwrap_or(account.default_topic_perm),
        };
        if !owned.allows(*needed) {
            return Err(Denied::NoPermission(resource.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
globalWhiteRemoteAddresses: [10.10.103.*]
accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms: [topicA=DENY, topicB=PUB|SUB, topicC=SUB]
    groupPerms: [groupA=DENY, groupB=PUB|SUB]
  - accessKey: rocketmq2
    secretKey: 87654321
    whiteRemoteAddress: 192.168.1.*
    admin: true
";

    fn config() -> AclConfig {
        AclConfig::parse(FILE).unwrap()
    }

    static NO_FIELDS: ExtFields = ExtFields::new();

    fn needs<'a>(code: i32, admin: bool, resources: &[(&'a str, Perm)]) -> Needs<'a> {
        Needs {
            request_code: code,
            admin,
            resources: resources
                .iter()
                .map(|(r, p)| (Cow::Borrowed(*r), *p))
                .collect(),
        }
    }

    /// A request from 127.0.0.1 with no ext field but its key and signature, and `body`.
    fn signed<'a>(key: &'a str, signature: &'a str, body: &'a [u8]) -> Presented<'a> {
        Presented {
            remote: "127.0.0.1".parse().unwrap(),
            access_key: Some(key),
            signature: Some(signature),
            ext_fields: &NO_FIELDS,
            body,
        }
    }

    /// The signature of such a request (the access key is an ext field the client signs,
    /// left out here for brevity: the rule is the same).
    fn sign(secret: &str, body: &[u8]) -> String {
        rmq_protocol::acl::signature(secret, body)
    }

    #[test]
    fn white_listed_addresses_pass_without_any_signature() {
        let unsigned = |ip: &str| Presented {
            remote: ip.parse().unwrap(),
            access_key: None,
            signature: None,
            ext_fields: &NO_FIELDS,
            body: b"",
        };
        let admin_code = needs(17, true, &[("topicA", Perm::PUB)]);
        assert_eq!(
            check(&config(), unsigned("10.10.103.7"), &admin_code),
            Ok(())
        );
        assert_eq!(
            check(&config(), unsigned("10.10.104.7"), &admin_code),
            Err(Denied::NoAccessKey)
        );
        let from_its_network = Presented {
            access_key: Some("rocketmq2"),
            ..unsigned("192.168.1.20")
        };
        assert_eq!(check(&config(), from_its_network, &admin_code), Ok(()));
    }

    #[test]
    fn an_unknown_key_or_a_wrong_signature_is_refused_without_showing_the_secret() {
        let send = needs(310, false, &[("topicB", Perm::PUB)]);
        let good = sign("12345678", b"content");
        assert_eq!(
            check(&config(), signed("RocketMQ", &good, b"content"), &send),
            Ok(())
        );
        assert_eq!(
            check(&config(), signed("nobody1", &good, b"content"), &send),
            Err(Denied::UnknownAccessKey("nobody1".into()))
        );
        let wrong = sign("12345679", b"content");
        let refused = check(&config(), signed("RocketMQ", &wrong, b"content"), &send).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Check signature failed for accessKey=RocketMQ"
        );
        assert!(!refused.to_string().contains("12345678"));
        let tampered = check(&config(), signed("RocketMQ", &good, b"c0ntent"), &send);
        assert_eq!(tampered, Err(Denied::BadSignature("RocketMQ".into())));
    }

    #[test]
    fn topic_and_group_permissions_and_their_defaults_decide_with_apaches_messages() {
        let content = b"x";
        let sig = sign("12345678", content);
        let ask = |resources: &[(&str, Perm)]| {
            check(
                &config(),
                signed("RocketMQ", &sig, content),
                &needs(11, false, resources),
            )
        };
        assert_eq!(
            ask(&[("topicC", Perm::SUB), ("%RETRY%groupB", Perm::SUB)]),
            Ok(())
        );
        assert_eq!(
            ask(&[("topicC", Perm::PUB)]).unwrap_err().to_string(),
            "No default permission for topic:topicC"
        );
        // Unlisted topics take defaultTopicPerm (DENY), unlisted groups defaultGroupPerm (SUB).
        assert_eq!(
            ask(&[("other", Perm::SUB)]),
            Err(Denied::NoPermission("other".into()))
        );
        assert_eq!(ask(&[("%RETRY%other", Perm::SUB)]), Ok(()));
        assert_eq!(
            ask(&[("%RETRY%groupA", Perm::SUB)])
                .unwrap_err()
                .to_string(),
            "No default permission for group:groupA"
        );
        // Message trace is open to every account that signs.
        assert_eq!(ask(&[(TRACE_TOPIC, Perm::PUB)]), Ok(()));
    }

    #[test]
    fn admin_codes_need_an_admin_account_and_an_admin_without_lists_may_do_anything() {
        let content = b"y";
        let user = sign("12345678", content);
        let create = needs(17, true, &[]);
        assert_eq!(
            check(&config(), signed("RocketMQ", &user, content), &create)
                .unwrap_err()
                .to_string(),
            "Need admin permission for request code=17, but accessKey=RocketMQ is not"
        );
        let admin = sign("87654321", content);
        let anything = needs(17, true, &[("topicA", Perm::PUB)]);
        assert_eq!(
            check(&config(), signed("rocketmq2", &admin, content), &anything),
            Ok(())
        );
    }
}
