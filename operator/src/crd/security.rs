//! `spec.security`: ACL accounts from a Secret, and TLS per role from a Secret or cert-manager.
//!
//! ```text
//! security:
//!   acl:   enabled, secretName (plain_acl.yml), innerCredentialsSecret, adminCredentialsSecret
//!   tls:
//!     nameServer: mode, secretName | issuerRef, secretHasCa, clientAuth
//!     broker:     mode, secretName | issuerRef, secretHasCa, clientAuth
//! ```
//!
//! The CEL rules here check one object at a time; what depends on both roles and on
//! `spec.broker.replicasPerGroup` (whether the brokers' own connections can use TLS) is checked
//! by [`crate::validate`], which uses [`TlsSpec::broker_client`] as the builders do.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Security of the cluster. Nothing here is on unless asked for.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySpec {
    /// Apache's plain ACL on every broker (name servers have no ACL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<AclSpec>,
    /// TLS on the name servers' and brokers' ports, and on the brokers' own connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
}

impl SecuritySpec {
    /// The ACL settings when ACL is on.
    pub fn acl_enabled(&self) -> Option<&AclSpec> {
        self.acl.as_ref().filter(|acl| acl.enabled)
    }

    /// The TLS settings of `role`, when that role serves TLS (a mode other than `disabled`).
    pub fn tls_of(&self, role: TlsRole) -> Option<&TlsRoleSpec> {
        let tls = self.tls.as_ref()?;
        let spec = match role {
            TlsRole::NameServer => tls.name_server.as_ref(),
            TlsRole::Broker => tls.broker.as_ref(),
        }?;
        spec.serves_tls().then_some(spec)
    }
}

/// Apache 4.x plain ACL (`aclEnable=true`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.enabled) || !self.enabled || has(self.secretName)").message("spec.security.acl.enabled needs secretName: a Secret in the cluster's namespace with the key plain_acl.yml"))]
pub struct AclSpec {
    /// Check every request against the accounts of `secretName` (`aclEnable=true`). Changing it
    /// rolls the brokers; changing the Secret does not (brokers re-read the file within 2 s).
    #[serde(default)]
    pub enabled: bool,
    /// Secret holding `plain_acl.yml` (Apache 4.x format), mounted read-only into every broker
    /// as `<rocketmqHome>/conf/plain_acl.yml`. It is the source of truth: mqadmin's ACL updates
    /// cannot write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
    /// Secret with keys `accessKey` and `secretKey`: the account the brokers sign their own
    /// requests with (slave → master metadata sync), given to them as environment variables.
    /// Without it, slaves must be white-listed in `plain_acl.yml`. A change of the Secret's
    /// content takes effect when the pods restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub inner_credentials_secret: Option<String>,
    /// Secret with keys `accessKey` and `secretKey` of an `admin: true` account: the operator
    /// signs its admin calls to the brokers with it (a scale-in's drain, a new group's topic
    /// copy). Without it, those wait and say so; nothing is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub admin_credentials_secret: Option<String>,
}

/// TLS per role.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsSpec {
    /// TLS of the name servers' port (9876).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_server: Option<TlsRoleSpec>,
    /// TLS of the brokers' ports (10911, the fast port 10909, and the HA port 10912).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<TlsRoleSpec>,
}

/// One of the two roles that serve TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsRole {
    /// The name servers.
    NameServer,
    /// The brokers.
    Broker,
}

/// How the brokers' own connections (to the name servers, and a slave's to its master,
/// replication included) use TLS: Apache's `useTLS` and `tls.client.*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerClientTls {
    /// `useTLS`: every peer a broker connects to serves TLS.
    pub use_tls: bool,
    /// The CA the brokers check servers with (`tls.client.authServer=true`); `None`: the
    /// connection is encrypted but the server is not authenticated (Apache's default).
    pub trust: Option<TrustSource>,
    /// Present the broker's own certificate (a peer asks for client certificates).
    pub present_certificate: bool,
}

/// Where a broker finds the CA it checks servers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustSource {
    /// `ca.crt` of the broker's own certificate Secret: it also signed the name servers'.
    OwnSecret,
    /// `ca.crt` of the name servers' certificate Secret, projected alone (no key) into the
    /// broker pods: clusters without slaves whose brokers have another or no certificate.
    NameServerSecret,
}

impl TlsSpec {
    /// What the brokers' own connections do, given whether groups have slaves.
    ///
    /// One client setting serves both the name servers and a slave's master, so TLS is used
    /// only when every peer serves it, and a CA only when one file verifies every peer.
    pub fn broker_client(&self, slaves: bool) -> BrokerClientTls {
        let ns = self.name_server.as_ref().filter(|r| r.serves_tls());
        let broker = self.broker.as_ref().filter(|r| r.serves_tls());
        let Some(ns) = ns else {
            return BrokerClientTls {
                use_tls: false,
                trust: None,
                present_certificate: false,
            };
        };
        let use_tls = !slaves || broker.is_some();
        let trust = if !ns.ca_known() {
            None
        } else if broker.is_some_and(|b| b.ca_known() && b.same_source(ns)) {
            Some(TrustSource::OwnSecret)
        } else if !slaves {
            Some(TrustSource::NameServerSecret)
        } else {
            None
        };
        let asks = |r: &TlsRoleSpec| r.client_auth != ClientAuth::None;
        let present_certificate =
            use_tls && broker.is_some_and(|b| asks(ns) || (slaves && asks(b)));
        BrokerClientTls {
            use_tls,
            trust: trust.filter(|_| use_tls),
            present_certificate,
        }
    }
}

/// TLS of one role's ports.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!(has(self.secretName) && has(self.issuerRef))").message("set either secretName or issuerRef, not both"),
    validation = Rule::new("(has(self.mode) && self.mode == 'disabled') || has(self.secretName) || has(self.issuerRef)").message("TLS mode permissive or enforcing (the default is permissive) needs a certificate: set secretName (a kubernetes.io/tls Secret) or issuerRef (a cert-manager issuer), or set mode: disabled"),
    validation = Rule::new("!has(self.clientAuth) || self.clientAuth == 'none' || has(self.issuerRef) || (has(self.secretName) && has(self.secretHasCa) && self.secretHasCa)").message("clientAuth optional or require checks client certificates against a CA: use issuerRef, or a secretName whose Secret holds ca.crt and set secretHasCa: true"),
    validation = Rule::new("!has(self.secretHasCa) || !self.secretHasCa || has(self.secretName)").message("secretHasCa describes the Secret of secretName: set secretName, or remove secretHasCa (an issuerRef's Secret always holds ca.crt)"),
)]
pub struct TlsRoleSpec {
    /// `disabled` (plain only), `permissive` (TLS and plain clients on the same port, told apart
    /// by their first byte) or `enforcing` (TLS only; plain clients are refused).
    #[serde(default)]
    pub mode: TlsMode,
    /// A `kubernetes.io/tls` Secret (`tls.crt`, `tls.key` unencrypted PEM, optionally `ca.crt`)
    /// whose certificate covers the pods' DNS names `*.<headless service>.<namespace>.svc` and
    /// `*.<headless service>.<namespace>.svc.<cluster domain>`. Renewed files are picked up
    /// within 2 s, without a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,
    /// The Secret of `secretName` also holds `ca.crt`, the CA that signed `tls.crt`: needed for
    /// `clientAuth`, and lets the brokers check the servers they connect to.
    #[serde(default)]
    pub secret_has_ca: bool,
    /// A cert-manager issuer: the operator creates a `Certificate` `<cluster>-<role>-tls` for
    /// every pod's DNS name and mounts its Secret. The issuer must write `ca.crt` (CA, Vault,
    /// self-signed issuers do; public ACME issuers cannot sign cluster-internal names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_ref: Option<IssuerRef>,
    /// Client certificates: `none`, `optional` (checked when presented) or `require` (mutual
    /// TLS). Checked against the CA, so this needs `issuerRef` or `secretHasCa`.
    #[serde(default)]
    pub client_auth: ClientAuth,
}

impl TlsRoleSpec {
    /// The role's ports speak TLS (the CRD requires a certificate for any other mode).
    pub fn serves_tls(&self) -> bool {
        self.mode != TlsMode::Disabled
    }

    /// A `ca.crt` is known to be in the role's Secret.
    pub fn ca_known(&self) -> bool {
        self.issuer_ref.is_some() || (self.secret_name.is_some() && self.secret_has_ca)
    }

    /// Both roles take certificates from the same Secret or the same issuer, so one CA signed
    /// both.
    pub fn same_source(&self, other: &TlsRoleSpec) -> bool {
        match (&self.issuer_ref, &other.issuer_ref) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.secret_name.is_some() && self.secret_name == other.secret_name,
            _ => false,
        }
    }
}

/// `tls.server.mode`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain remoting only.
    Disabled,
    /// TLS and plain clients on the same port.
    #[default]
    Permissive,
    /// TLS clients only.
    Enforcing,
}

impl TlsMode {
    /// The value of `tls.server.mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Permissive => "permissive",
            Self::Enforcing => "enforcing",
        }
    }
}

/// `tls.server.need.client.auth`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// No client certificates.
    #[default]
    None,
    /// Checked when a client presents one.
    Optional,
    /// Every client presents one (mutual TLS).
    Require,
}

impl ClientAuth {
    /// The value of `tls.server.need.client.auth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Optional => "optional",
            Self::Require => "require",
        }
    }
}

/// A cert-manager issuer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    /// Name of the issuer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// `Issuer` (in the cluster's namespace) or `ClusterIssuer`.
    #[serde(default)]
    pub kind: IssuerKind,
    /// API group of the issuer.
    #[serde(default = "default_issuer_group")]
    #[schemars(length(min = 1))]
    pub group: String,
}

fn default_issuer_group() -> String {
    "cert-manager.io".to_owned()
}

/// Kind of a cert-manager issuer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum IssuerKind {
    /// A namespaced `Issuer`.
    #[default]
    Issuer,
    /// A `ClusterIssuer`.
    ClusterIssuer,
}

impl IssuerKind {
    /// The value of `issuerRef.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issuer => "Issuer",
            Self::ClusterIssuer => "ClusterIssuer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(yaml: &str) -> TlsRoleSpec {
        serde_yaml::from_str(yaml).expect("role parses")
    }

    fn tls(ns: &str, broker: Option<&str>) -> TlsSpec {
        TlsSpec {
            name_server: Some(role(ns)),
            broker: broker.map(role),
        }
    }

    const ISSUER: &str = "{issuerRef: {name: ca}}";

    #[test]
    fn brokers_use_tls_and_their_own_ca_when_both_roles_share_an_issuer() {
        let client = tls(ISSUER, Some(ISSUER)).broker_client(true);
        assert_eq!(
            client,
            BrokerClientTls {
                use_tls: true,
                trust: Some(TrustSource::OwnSecret),
                present_certificate: false
            }
        );
    }

    #[test]
    fn slaves_without_broker_tls_keep_the_brokers_connections_plain() {
        let client = tls(ISSUER, None).broker_client(true);
        assert!(!client.use_tls && client.trust.is_none());
        // Without slaves the only peers are the name servers: TLS, checked with their CA.
        let alone = tls(ISSUER, None).broker_client(false);
        assert_eq!(alone.trust, Some(TrustSource::NameServerSecret));
        assert!(alone.use_tls);
    }

    #[test]
    fn different_certificate_sources_leave_the_server_unchecked_when_slaves_need_both() {
        let client = tls(ISSUER, Some("{issuerRef: {name: other}}")).broker_client(true);
        assert!(client.use_tls);
        assert_eq!(client.trust, None);
        let secret = tls("{secretName: s}", Some("{secretName: s}")).broker_client(true);
        assert_eq!(secret.trust, None, "no ca.crt declared in the Secret");
        let with_ca = tls(
            "{secretName: s, secretHasCa: true}",
            Some("{secretName: s, secretHasCa: true}"),
        )
        .broker_client(true);
        assert_eq!(with_ca.trust, Some(TrustSource::OwnSecret));
    }

    #[test]
    fn brokers_present_their_certificate_only_to_peers_that_ask() {
        let asked = tls("{issuerRef: {name: ca}, clientAuth: require}", Some(ISSUER));
        assert!(asked.broker_client(false).present_certificate);
        let master_asks = tls(
            ISSUER,
            Some("{issuerRef: {name: ca}, clientAuth: optional}"),
        );
        assert!(master_asks.broker_client(true).present_certificate);
        assert!(!master_asks.broker_client(false).present_certificate);
    }

    #[test]
    fn a_disabled_name_server_role_means_plain_broker_connections() {
        let client = tls("{mode: disabled}", Some(ISSUER)).broker_client(false);
        assert!(!client.use_tls && !client.present_certificate);
    }
}
