//! What `spec.security` means for a local run, as pure functions of the validated cluster, the
//! manifest's Secrets and the state directory: the files each process reads, the brokers' own
//! account, the certificate checks to make before starting, and how `up` itself reaches the
//! processes it waits for.
//!
//! ```text
//! <dir>/tls/pki/                    the local CA of issuerRef roles (scripts/make-test-certs.sh)
//! <dir>/tls/ca.crt                  every CA of the roles serving TLS: what clients pass to --tls-ca
//! <dir>/tls/client.crt, client.key  a client certificate of the local CA (clientAuth)
//! <dir>/tls/namesrv/                tls.crt tls.key [ca.crt]: the name servers' tls_dir
//! <dir>/tls/broker/                 tls.crt tls.key [ca.crt]: the brokers' tls_dir
//! <dir>/broker/<name>/acl/conf/plain_acl.yml   a writable copy per broker (rocketmqHome)
//! ROCKETMQ_INNER_ACCESS_KEY, ROCKETMQ_INNER_SECRET_KEY   each broker's environment
//! ```
//!
//! This is the operator's layout (`rmq_operator::build::security`) with directories of the
//! state directory for its mount points: every config key is the operator's rendering, given
//! these [`SecurityFiles`]. Where the operator asks cert-manager for a `Certificate`
//! (`issuerRef`), a local run has one local CA for every issuer, and one certificate per role
//! for 127.0.0.1 and localhost, usable as server and client certificate as the operator's are.
//!
//! The ACL file is copied per broker and rewritten from the Secret at every `up`: in Kubernetes
//! the Secret is the truth too; here the copy is writable, so ACL admin codes (mqadmin,
//! `updateAclConfig`) work, and their changes last until the next `up`.

use std::path::{Path, PathBuf};

use rmq_operator::build::security::{ACCESS_KEY, ACL_FILE, SECRET_KEY, SecurityFiles};
use rmq_operator::crd::{ClientAuth, TlsMode, TlsRole, TrustSource};
use rmq_operator::validate::ValidatedCluster;
use rmq_protocol::acl::Credentials;
use rmq_remoting::tls::client::ClientTlsFiles;

use crate::local::plan::Plan;
use crate::local::secrets::{SecretError, Secrets};

/// Host name every local certificate must be valid for: processes listen and advertise there.
pub const LOCAL_CERT_HOST: &str = "127.0.0.1";

/// `spec.security` cannot be run locally as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "spec.security.acl has no innerCredentialsSecret, and rmqctl up signs its checks of the \
         brokers (whether each slave replicates from its master) with that account: add \
         innerCredentialsSecret, a Secret with accessKey and secretKey of an account of \
         plain_acl.yml (the brokers sign their own requests with it too)"
    )]
    NoAccount,
    /// The operator's validation refuses this; kept as an error rather than a panic.
    #[error("spec.security.tls.{role} serves TLS but names no certificate")]
    NoCertificate { role: &'static str },
}

/// `spec.security`, resolved against the manifest's Secrets. `Debug` shows no secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Security {
    /// With `acl.enabled`.
    pub acl: Option<Acl>,
    /// The roles that serve TLS, name servers first.
    pub tls: Vec<RoleTls>,
}

/// ACL of the brokers.
#[derive(Clone, PartialEq, Eq)]
pub struct Acl {
    /// `acl.secretName`.
    pub secret: String,
    /// Its `plain_acl.yml`.
    pub file: Vec<u8>,
    /// The account of `innerCredentialsSecret`.
    pub inner: Option<Credentials>,
}

impl std::fmt::Debug for Acl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acl")
            .field("secret", &self.secret)
            .field("file", &format_args!("<{} bytes>", self.file.len()))
            .field("inner", &self.inner)
            .finish()
    }
}

/// TLS of one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTls {
    pub role: TlsRole,
    pub mode: TlsMode,
    pub client_auth: ClientAuth,
    pub source: CertSource,
}

impl RoleTls {
    /// Whether its `ca.crt` is known, as the operator's `TlsRoleSpec::ca_known`.
    pub fn ca_known(&self) -> bool {
        match &self.source {
            CertSource::Secret { ca, .. } => ca.is_some(),
            CertSource::LocalCa => true,
        }
    }
}

/// Where a role's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// `secretName`: its `tls.crt`, `tls.key` and, with `secretHasCa`, `ca.crt`.
    Secret {
        name: String,
        pair: KeyPair,
        ca: Option<Vec<u8>>,
    },
    /// `issuerRef`: the local CA's certificate for the role.
    LocalCa,
}

/// A certificate (PEM) and its key (PEM). `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPair { .. }")
    }
}

/// The local CA that stands for every `issuerRef`: its certificate, one certificate per role
/// and a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCa {
    pub ca: Vec<u8>,
    pub namesrv: KeyPair,
    pub broker: KeyPair,
    pub client: KeyPair,
}

impl Security {
    /// TLS of `role`, when it serves TLS.
    pub fn role(&self, role: TlsRole) -> Option<&RoleTls> {
        self.tls.iter().find(|r| r.role == role)
    }

    /// Some role takes its certificate from `issuerRef`: `up` makes the local CA.
    pub fn needs_local_ca(&self) -> bool {
        self.tls.iter().any(|r| r.source == CertSource::LocalCa)
    }

    /// The brokers' own account, for their environment.
    pub fn inner(&self) -> Option<&Credentials> {
        self.acl.as_ref()?.inner.as_ref()
    }

    /// `role`'s certificate and, when known, its CA.
    pub fn material<'a>(
        &'a self,
        role: TlsRole,
        local: Option<&'a LocalCa>,
    ) -> Option<(&'a KeyPair, Option<&'a [u8]>)> {
        match &self.role(role)?.source {
            CertSource::Secret { pair, ca, .. } => Some((pair, ca.as_deref())),
            CertSource::LocalCa => {
                let local = local?;
                let pair = match role {
                    TlsRole::NameServer => &local.namesrv,
                    TlsRole::Broker => &local.broker,
                };
                Some((pair, Some(local.ca.as_slice())))
            }
        }
    }
}

/// Looks up every Secret `spec.security` names in the manifest, with the keys it needs.
pub fn resolve(cluster: &ValidatedCluster, secrets: &Secrets) -> Result<Security, SecurityError> {
    let spec = &cluster.spec.security;
    let namespace = cluster.namespace.as_str();
    let mut security = Security::default();
    if let Some(acl) = spec.acl_enabled() {
        const FIELD: &str = "spec.security.acl.secretName";
        // Validation requires secretName with ACL on.
        let name = acl.secret_name.as_deref().unwrap_or_default();
        let file = secrets
            .find(namespace, name, FIELD)?
            .bytes(ACL_FILE, FIELD)?;
        let inner = match &acl.inner_credentials_secret {
            None => None,
            Some(name) => {
                const FIELD: &str = "spec.security.acl.innerCredentialsSecret";
                let secret = secrets.find(namespace, name, FIELD)?;
                Some(Credentials {
                    access_key: secret.text(ACCESS_KEY, FIELD)?.to_owned(),
                    secret_key: secret.text(SECRET_KEY, FIELD)?.to_owned(),
                })
            }
        };
        security.acl = Some(Acl {
            secret: name.to_owned(),
            file: file.to_vec(),
            inner,
        });
    }
    for role in [TlsRole::NameServer, TlsRole::Broker] {
        let Some(tls) = spec.tls_of(role) else {
            continue;
        };
        let field = match role {
            TlsRole::NameServer => "spec.security.tls.nameServer.secretName",
            TlsRole::Broker => "spec.security.tls.broker.secretName",
        };
        let source = match (&tls.secret_name, &tls.issuer_ref) {
            (Some(name), _) => {
                let secret = secrets.find(namespace, name, field)?;
                CertSource::Secret {
                    name: name.clone(),
                    pair: KeyPair {
                        cert: secret.bytes("tls.crt", field)?.to_vec(),
                        key: secret.bytes("tls.key", field)?.to_vec(),
                    },
                    ca: if tls.secret_has_ca {
                        Some(secret.bytes("ca.crt", field)?.to_vec())
                    } else {
                        None
                    },
                }
            }
            (None, Some(_)) => CertSource::LocalCa,
            (None, None) => {
                return Err(SecurityError::NoCertificate {
                    role: spec_name(role),
                });
            }
        };
        security.tls.push(RoleTls {
            role,
            mode: tls.mode,
            client_auth: tls.client_auth,
            source,
        });
    }
    Ok(security)
}

/// `<dir>/tls/pki`: the local CA and what the script makes with it.
pub fn pki_dir(dir: &Path) -> PathBuf {
    dir.join("tls").join("pki")
}

/// `<dir>/tls/ca.crt`: every CA of the roles serving TLS, for clients.
pub fn ca_bundle(dir: &Path) -> PathBuf {
    dir.join("tls").join("ca.crt")
}

/// `<dir>/tls/client.crt` and `client.key`: a client certificate of the local CA.
pub fn client_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let tls = dir.join("tls");
    (tls.join("client.crt"), tls.join("client.key"))
}

/// `<dir>/tls/namesrv` or `<dir>/tls/broker`: a role's `tls.crt`, `tls.key`, `ca.crt`.
pub fn role_dir(dir: &Path, role: TlsRole) -> PathBuf {
    dir.join("tls").join(match role {
        TlsRole::NameServer => "namesrv",
        TlsRole::Broker => "broker",
    })
}

/// `rocketmqHome` of broker `name`: it reads `<it>/conf/plain_acl.yml`.
pub fn acl_home(dir: &Path, name: &str) -> PathBuf {
    dir.join("broker").join(name).join("acl")
}

/// Where broker `name` finds its security files (`dir` is valid UTF-8: the plan checks it).
pub fn broker_files(dir: &Path, name: &str) -> SecurityFiles {
    SecurityFiles {
        acl_home: text(&acl_home(dir, name)),
        tls_dir: text(&role_dir(dir, TlsRole::Broker)),
        namesrv_ca_dir: text(&role_dir(dir, TlsRole::NameServer)),
    }
}

/// Where a name server finds its security files (it has no ACL).
pub fn namesrv_files(dir: &Path) -> SecurityFiles {
    SecurityFiles {
        acl_home: String::new(),
        tls_dir: text(&role_dir(dir, TlsRole::NameServer)),
        namesrv_ca_dir: text(&role_dir(dir, TlsRole::NameServer)),
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// One file `up` writes for `spec.security`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Readable by the owner only (keys, accounts).
    pub private: bool,
}

impl std::fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (private: {})", self.path.display(), self.private)
    }
}

/// Every file of the table above, given the local CA when some role needs it (a role whose
/// local certificate is not given gets no files).
pub fn files(plan: &Plan, security: &Security, local: Option<&LocalCa>) -> Vec<SecretFile> {
    let file = |path: PathBuf, bytes: &[u8], private: bool| SecretFile {
        path,
        bytes: bytes.to_vec(),
        private,
    };
    let mut out = Vec::new();
    if let Some(acl) = &security.acl {
        for broker in &plan.brokers {
            let path = acl_home(&plan.dir, &broker.name)
                .join("conf")
                .join(ACL_FILE);
            out.push(file(path, &acl.file, true));
        }
    }
    let mut cas: Vec<&[u8]> = Vec::new();
    for tls in &security.tls {
        let Some((pair, ca)) = security.material(tls.role, local) else {
            continue;
        };
        let dir = role_dir(&plan.dir, tls.role);
        out.push(file(dir.join("tls.crt"), &pair.cert, false));
        out.push(file(dir.join("tls.key"), &pair.key, true));
        if let Some(ca) = ca {
            out.push(file(dir.join("ca.crt"), ca, false));
            if !cas.contains(&ca) {
                cas.push(ca);
            }
        }
    }
    if let Some(local) = local.filter(|_| security.needs_local_ca()) {
        let (cert, key) = client_pair(&plan.dir);
        out.push(file(cert, &local.client.cert, false));
        out.push(file(key, &local.client.key, true));
    }
    if !cas.is_empty() {
        let mut bundle = Vec::new();
        for ca in cas {
            bundle.extend_from_slice(ca);
            if !ca.ends_with(b"\n") {
                bundle.push(b'\n');
            }
        }
        out.push(file(ca_bundle(&plan.dir), &bundle, false));
    }
    out
}

/// What a certificate must be good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A server's, for [`LOCAL_CERT_HOST`].
    Server,
    /// A client's (mutual TLS).
    Client,
}

/// Whose certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Role(TlsRole),
    /// The local CA's client certificate, which `up` presents.
    LocalClient,
}

/// A check `up` makes before starting, so that a certificate nobody could accept fails with
/// its reason now rather than as a timeout later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertCheck {
    pub usage: Usage,
    pub cert: Holder,
    /// The role whose CA must have signed it.
    pub ca: TlsRole,
    /// Who relies on it.
    pub why: &'static str,
}

/// The certificate checks of `security`, following who checks whom: `up` (the name servers
/// always, the brokers when groups have slaves), and the brokers' own connections as the
/// operator's `TlsSpec::broker_client` sets them up.
pub fn cert_checks(cluster: &ValidatedCluster, security: &Security) -> Vec<CertCheck> {
    let slaves = cluster.spec.broker.replicas_per_group > 0;
    let mut checks = Vec::new();
    let mut add = |usage, cert, ca, why| {
        let check = CertCheck {
            usage,
            cert,
            ca,
            why,
        };
        // One check per certificate, CA and usage: the first reason given is enough.
        if !checks
            .iter()
            .any(|c: &CertCheck| (c.usage, c.cert, c.ca) == (usage, cert, ca))
        {
            checks.push(check);
        }
    };
    for tls in &security.tls {
        let up_calls = tls.role == TlsRole::NameServer || slaves;
        if !up_calls || tls.mode != TlsMode::Enforcing {
            continue;
        }
        if tls.ca_known() {
            add(
                Usage::Server,
                Holder::Role(tls.role),
                tls.role,
                "rmqctl up connects to that role over TLS and checks it with that ca.crt",
            );
        }
        if tls.client_auth == ClientAuth::Require {
            let holder = match tls.source {
                CertSource::LocalCa => Holder::LocalClient,
                CertSource::Secret { .. } => Holder::Role(tls.role),
            };
            add(
                Usage::Client,
                holder,
                tls.role,
                "rmqctl up presents it to that role, which requires client certificates",
            );
        }
    }
    let Some(spec) = &cluster.spec.security.tls else {
        return checks;
    };
    let client = spec.broker_client(slaves);
    match client.trust {
        Some(TrustSource::OwnSecret) => {
            add(
                Usage::Server,
                Holder::Role(TlsRole::NameServer),
                TlsRole::Broker,
                "the brokers check the name servers with the brokers' ca.crt",
            );
            if slaves {
                add(
                    Usage::Server,
                    Holder::Role(TlsRole::Broker),
                    TlsRole::Broker,
                    "slaves check their master with that ca.crt",
                );
            }
        }
        Some(TrustSource::NameServerSecret) => add(
            Usage::Server,
            Holder::Role(TlsRole::NameServer),
            TlsRole::NameServer,
            "the brokers check the name servers with the name servers' ca.crt",
        ),
        None => {}
    }
    if client.present_certificate {
        let asks = |role| {
            security
                .role(role)
                .is_some_and(|r| r.client_auth != ClientAuth::None)
        };
        if asks(TlsRole::NameServer) {
            add(
                Usage::Client,
                Holder::Role(TlsRole::Broker),
                TlsRole::NameServer,
                "the brokers present it to the name servers, which ask for client certificates",
            );
        }
        if slaves && asks(TlsRole::Broker) {
            add(
                Usage::Client,
                Holder::Role(TlsRole::Broker),
                TlsRole::Broker,
                "slaves present it to their master, which asks for client certificates",
            );
        }
    }
    checks
}

/// How `up` connects to the processes of one role for its own checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reach {
    /// TLS when the role's ports are `enforcing` (a `permissive` port takes plain clients).
    pub tls: Option<ClientTlsFiles>,
    /// The brokers' own account, when the brokers check signatures.
    pub credentials: Option<Credentials>,
}

/// How `up` reaches `role`'s processes. Only called for roles `up` talks to: the brokers only
/// when groups have slaves, so ACL without an account is refused only then.
pub fn reach(dir: &Path, security: &Security, role: TlsRole) -> Result<Reach, SecurityError> {
    let tls = security
        .role(role)
        .filter(|tls| tls.mode == TlsMode::Enforcing)
        .map(|tls| {
            let own = role_dir(dir, role);
            let (cert, key) = match (tls.client_auth, &tls.source) {
                (ClientAuth::Require, CertSource::LocalCa) => {
                    let (cert, key) = client_pair(dir);
                    (Some(cert), Some(key))
                }
                (ClientAuth::Require, CertSource::Secret { .. }) => {
                    (Some(own.join("tls.crt")), Some(own.join("tls.key")))
                }
                _ => (None, None),
            };
            // Without a known CA the channel is encrypted but the server unchecked, as
            // Apache's tls.client.authServer=false; these are the processes `up` just started.
            ClientTlsFiles {
                verify_server: tls.ca_known(),
                trust: tls.ca_known().then(|| own.join("ca.crt")),
                cert,
                key,
            }
        });
    let credentials = match (role, &security.acl) {
        (TlsRole::Broker, Some(acl)) => Some(acl.inner.clone().ok_or(SecurityError::NoAccount)?),
        _ => None,
    };
    Ok(Reach { tls, credentials })
}

/// `nameServer` or `broker`, as the spec names the role.
pub fn spec_name(role: TlsRole) -> &'static str {
    match role {
        TlsRole::NameServer => "nameServer",
        TlsRole::Broker => "broker",
    }
}

/// `name servers` or `brokers`.
pub fn label(role: TlsRole) -> &'static str {
    match role {
        TlsRole::NameServer => "name servers",
        TlsRole::Broker => "brokers",
    }
}

#[cfg(test)]
mod tests;
