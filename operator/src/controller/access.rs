//! How the operator reaches a cluster's servers over RocketMQ's admin protocol (drains, topic
//! syncs) when `spec.security` is on: TLS to each role whose ports serve it, the server checked
//! against the role's CA when its Secret has one, the role's own certificate presented when the
//! role asks for client certificates, and every request signed with the admin account of
//! `spec.security.acl.adminCredentialsSecret` when ACL is on.
//!
//! ```text
//! spec ──plan (pure)──▶ Plan: which Secrets, which keys ──read (shell)──▶ Access per role
//! ```
//!
//! The operator reads a Secret only here, only with `get`, and only those the spec names.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use rmq_protocol::acl::Credentials;
use rmq_remoting::ClientConfig;
use rmq_remoting::tls::client::{ClientTls, ClientTlsError, ClientTlsPem, Pem};

use crate::build::security::tls_secret;
use crate::crd::{ClientAuth, TlsRole};
use crate::validate::ValidatedCluster;

/// Keys of an account Secret (the same as the brokers' inner account).
pub const ACCESS_KEY: &str = "accessKey";
pub const SECRET_KEY: &str = "secretKey";
/// Keys of a `kubernetes.io/tls` Secret.
pub const TLS_CRT: &str = "tls.crt";
pub const TLS_KEY: &str = "tls.key";
pub const CA_CRT: &str = "ca.crt";

/// What reaching the cluster takes, decided from the spec alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub account: Account,
    pub namesrv: Option<RoleTls>,
    pub broker: Option<RoleTls>,
}

/// The account requests are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Account {
    /// ACL is off: unsigned requests.
    #[default]
    Unsigned,
    /// The `accessKey` and `secretKey` of this Secret.
    Secret(String),
    /// ACL is on and the spec names no admin account: the brokers refuse the calls.
    Missing,
}

/// TLS to one role's ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTls {
    /// The role's certificate Secret.
    pub secret: String,
    /// Check the server against the Secret's `ca.crt`.
    pub verify_server: bool,
    /// Present the Secret's `tls.crt`/`tls.key` (the role asks for client certificates).
    pub present_certificate: bool,
}

/// What the spec says about reaching `cluster`.
pub fn plan(cluster: &ValidatedCluster) -> Plan {
    let security = &cluster.spec.security;
    let account = match security.acl_enabled() {
        None => Account::Unsigned,
        Some(acl) => acl
            .admin_credentials_secret
            .clone()
            .map_or(Account::Missing, Account::Secret),
    };
    let role = |role: TlsRole| {
        let spec = security.tls_of(role)?;
        Some(RoleTls {
            secret: tls_secret(cluster, role)?,
            verify_server: spec.ca_known(),
            present_certificate: spec.client_auth != ClientAuth::None,
        })
    };
    Plan {
        account,
        namesrv: role(TlsRole::NameServer),
        broker: role(TlsRole::Broker),
    }
}

/// Client settings for the name servers and for the brokers.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub namesrv: ClientConfig,
    pub broker: ClientConfig,
}

impl Access {
    /// What the settings amount to, in words (no secret in it).
    pub fn summary(&self) -> String {
        let role = |c: &ClientConfig| match &c.tls {
            Some(tls) => format!("tls {tls:?}"),
            None => "plain".to_owned(),
        };
        let account = self.broker.credentials.as_ref().map_or_else(
            || "unsigned".to_owned(),
            |c| format!("signed as {}", c.access_key),
        );
        format!(
            "name servers {}, brokers {}, {account}",
            role(&self.namesrv),
            role(&self.broker)
        )
    }
}

/// Why the cluster's servers cannot be reached as the spec requires.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(
        "ACL is on and spec.security.acl.adminCredentialsSecret names no admin account for the operator's calls"
    )]
    NoAdminAccount,
    #[error("reading Secret {name}: {source}")]
    ReadSecret {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Secret {secret} has no key {key}")]
    MissingKey { secret: String, key: &'static str },
    #[error("key {key} of Secret {secret} is not UTF-8")]
    NotText { secret: String, key: &'static str },
    #[error("TLS material of Secret {secret}: {source}")]
    Tls {
        secret: String,
        #[source]
        source: ClientTlsError,
    },
}

/// Reads what `plan` needs from the Secrets of `namespace`; each request of the client
/// configurations is bounded by `timeout`.
pub async fn resolve(
    client: &Client,
    namespace: &str,
    plan: &Plan,
    timeout: std::time::Duration,
) -> Result<Access, AccessError> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let credentials = match &plan.account {
        Account::Unsigned => None,
        Account::Missing => return Err(AccessError::NoAdminAccount),
        Account::Secret(name) => Some(credentials(&read(&secrets, name).await?, name)?),
    };
    let mut configs = Vec::with_capacity(2);
    for role in [&plan.namesrv, &plan.broker] {
        let tls = match role {
            None => None,
            Some(role) => Some(client_tls(&read(&secrets, &role.secret).await?, role)?),
        };
        configs.push(ClientConfig {
            connect_timeout: timeout,
            credentials: credentials.clone(),
            tls,
            ..ClientConfig::default()
        });
    }
    let broker = configs.pop().unwrap_or_default();
    let namesrv = configs.pop().unwrap_or_default();
    Ok(Access { namesrv, broker })
}

async fn read(secrets: &Api<Secret>, name: &str) -> Result<Secret, AccessError> {
    secrets
        .get(name)
        .await
        .map_err(|source| AccessError::ReadSecret {
            name: name.to_owned(),
            source,
        })
}

/// The bytes of `key` of `secret` (named `name`).
pub fn bytes(secret: &Secret, name: &str, key: &'static str) -> Result<Vec<u8>, AccessError> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.clone().into_bytes())
        })
        .ok_or_else(|| AccessError::MissingKey {
            secret: name.to_owned(),
            key,
        })
}

/// The account of `secret` (named `name`): its `accessKey` and `secretKey`.
pub fn credentials(secret: &Secret, name: &str) -> Result<Credentials, AccessError> {
    Ok(Credentials {
        access_key: text(secret, name, ACCESS_KEY)?,
        secret_key: text(secret, name, SECRET_KEY)?,
    })
}

fn text(secret: &Secret, name: &str, key: &'static str) -> Result<String, AccessError> {
    String::from_utf8(bytes(secret, name, key)?)
        .map(|s| s.trim().to_owned())
        .map_err(|_| AccessError::NotText {
            secret: name.to_owned(),
            key,
        })
}

/// The TLS client of one role from its certificate Secret.
pub fn client_tls(secret: &Secret, role: &RoleTls) -> Result<ClientTls, AccessError> {
    let name = &role.secret;
    let pem = |key: &'static str| -> Result<Pem, AccessError> {
        Ok(Pem {
            source: format!("Secret {name} key {key}"),
            bytes: bytes(secret, name, key)?,
        })
    };
    let material = ClientTlsPem {
        verify_server: role.verify_server,
        trust: role.verify_server.then(|| pem(CA_CRT)).transpose()?,
        identity: if role.present_certificate {
            Some((pem(TLS_CRT)?, pem(TLS_KEY)?))
        } else {
            None
        },
    };
    ClientTls::from_pem(&material).map_err(|source| AccessError::Tls {
        secret: name.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crd::RocketCluster;
    use crate::validate::{Environment, validate};

    fn planned(security: serde_json::Value) -> Plan {
        let c: RocketCluster = serde_json::from_value(json!({
            "apiVersion": "rocketmq.rs/v1alpha1",
            "kind": "RocketCluster",
            "metadata": {"name": "demo", "namespace": "mq", "uid": "uid-demo"},
            "spec": {"security": security},
        }))
        .expect("cluster");
        plan(&validate(&c, &Environment::default()).expect("valid"))
    }

    #[test]
    fn a_cluster_without_security_is_reached_plain_and_unsigned() {
        assert_eq!(planned(json!({})), Plan::default());
    }

    #[test]
    fn acl_signs_with_the_admin_account_and_without_one_the_calls_cannot_be_made() {
        let acl = planned(json!({"acl": {"enabled": true, "secretName": "acl",
            "adminCredentialsSecret": "ops"}}));
        assert_eq!(acl.account, Account::Secret("ops".into()));
        let none = planned(json!({"acl": {"enabled": true, "secretName": "acl"}}));
        assert_eq!(none.account, Account::Missing);
        let off = planned(json!({"acl": {"enabled": false, "adminCredentialsSecret": "ops"}}));
        assert_eq!(off.account, Account::Unsigned);
    }

    #[test]
    fn each_role_that_serves_tls_is_reached_over_tls_checked_when_its_ca_is_known() {
        let p = planned(json!({"tls": {
            "nameServer": {"mode": "permissive", "secretName": "ns-tls"},
            "broker": {"mode": "enforcing", "secretName": "b-tls", "secretHasCa": true,
                "clientAuth": "require"},
        }}));
        assert_eq!(
            p.namesrv,
            Some(RoleTls {
                secret: "ns-tls".into(),
                verify_server: false,
                present_certificate: false
            })
        );
        assert_eq!(
            p.broker,
            Some(RoleTls {
                secret: "b-tls".into(),
                verify_server: true,
                present_certificate: true
            })
        );
        let disabled = planned(json!({"tls": {"broker": {"mode": "disabled"}}}));
        assert_eq!(disabled.broker, None);
    }

    #[test]
    fn a_secret_without_the_key_a_role_needs_is_an_error_naming_both() {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "b-tls"},
            "data": {"tls.crt": "AAAA"}
        }))
        .expect("secret");
        let role = RoleTls {
            secret: "b-tls".into(),
            verify_server: true,
            present_certificate: false,
        };
        let error = client_tls(&secret, &role).unwrap_err().to_string();
        assert_eq!(error, "Secret b-tls has no key ca.crt");
    }
}
