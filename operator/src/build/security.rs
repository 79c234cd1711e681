//! What `spec.security` puts into the pods: `broker.conf` and `namesrv.properties` keys, Secret
//! volumes and mounts, and the brokers' own ACL account as environment variables.
//!
//! ```text
//! /etc/rocketmq-acl/conf/plain_acl.yml     acl.secretName            brokers (rocketmqHome=/etc/rocketmq-acl)
//! /etc/rocketmq-tls/tls.crt, tls.key       the role's certificate    name servers, brokers
//! /etc/rocketmq-tls/ca.crt                 when its CA is known      (tls.server.trustCertPath)
//! /etc/rocketmq-tls-namesrv/ca.crt         the name servers' CA only brokers, TrustSource::NameServerSecret
//! ROCKETMQ_INNER_ACCESS_KEY / _SECRET_KEY  acl.innerCredentialsSecret (accessKey / secretKey)
//! ```
//!
//! Secrets are mounted as whole directories, never with `subPath`: the kubelet updates a Secret
//! volume by swapping a symlink, which a `subPath` mount never sees. The broker and name server
//! re-read `plain_acl.yml` and the certificate files within 2 s of a change, so a renewed
//! certificate or an edited ACL reaches them without a restart, and the pod template (whose hash
//! rolls the pods) names only the Secrets, never their content.

use k8s_openapi::api::core::v1::{
    EnvVar, EnvVarSource, KeyToPath, SecretKeySelector, SecretVolumeSource, Volume, VolumeMount,
};

use super::names;
use crate::crd::{TlsRole, TlsRoleSpec, TrustSource};
use crate::validate::ValidatedCluster;

/// `rocketmqHome` of the brokers with ACL: the ACL Secret is mounted at `<it>/conf`.
pub const ACL_HOME: &str = "/etc/rocketmq-acl";
/// Key of the ACL Secret, and file name the broker reads.
pub const ACL_FILE: &str = "plain_acl.yml";
/// Where a pod's own certificate Secret is mounted.
pub const TLS_DIR: &str = "/etc/rocketmq-tls";
/// Where a broker pod finds the name servers' CA, when it checks them with that one.
pub const NAMESRV_CA_DIR: &str = "/etc/rocketmq-tls-namesrv";
/// Environment variable with the brokers' own access key (from `innerCredentialsSecret`).
pub const INNER_ACCESS_KEY_ENV: &str = "ROCKETMQ_INNER_ACCESS_KEY";
/// Environment variable with the brokers' own secret key (from `innerCredentialsSecret`).
pub const INNER_SECRET_KEY_ENV: &str = "ROCKETMQ_INNER_SECRET_KEY";
/// Keys of `innerCredentialsSecret` and `adminCredentialsSecret`.
pub const ACCESS_KEY: &str = "accessKey";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "secretKey";
/// Read-only for the owner and the pod's `fsGroup`; nobody else.
const SECRET_FILE_MODE: i32 = 0o440;

const ACL_VOLUME: &str = "acl";
const TLS_VOLUME: &str = "tls";
const NAMESRV_CA_VOLUME: &str = "namesrv-ca";

/// Where the security files are, for the config keys that name them. Pods in Kubernetes use
/// [`SecurityFiles::in_cluster`]; a local runner gives its own directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityFiles {
    /// `rocketmqHome`: the broker reads `<it>/conf/plain_acl.yml`.
    pub acl_home: String,
    /// Directory of the process's own `tls.crt`, `tls.key` and `ca.crt`.
    pub tls_dir: String,
    /// Directory of the name servers' `ca.crt`, as brokers see it.
    pub namesrv_ca_dir: String,
}

impl SecurityFiles {
    /// The mount points of the operator's pods.
    pub fn in_cluster() -> Self {
        Self {
            acl_home: ACL_HOME.to_owned(),
            tls_dir: TLS_DIR.to_owned(),
            namesrv_ca_dir: NAMESRV_CA_DIR.to_owned(),
        }
    }
}

/// A `broker.conf` or `namesrv.properties` line.
pub type Key = (&'static str, String);

/// The brokers' security keys: ACL, TLS of their ports, and of their own connections.
///
/// ```text
/// aclEnable rocketmqHome                                  with spec.security.acl.enabled
/// tls.server.mode tls.server.certPath tls.server.keyPath  with spec.security.tls.broker
///   [tls.server.trustCertPath] tls.server.need.client.auth
/// useTLS [tls.client.authServer tls.client.trustCertPath] with spec.security.tls
///   [tls.client.certPath tls.client.keyPath]
/// ```
pub fn broker_keys(cluster: &ValidatedCluster, files: &SecurityFiles) -> Vec<Key> {
    let security = &cluster.spec.security;
    let mut keys = Vec::new();
    if security.acl_enabled().is_some() {
        keys.push(("aclEnable", "true".to_owned()));
        keys.push(("rocketmqHome", files.acl_home.clone()));
    }
    if let Some(role) = security.tls_of(TlsRole::Broker) {
        keys.extend(server_keys(role, &files.tls_dir));
    }
    if let Some(tls) = &security.tls {
        let client = tls.broker_client(cluster.spec.broker.replicas_per_group > 0);
        // Always explicit: the broker's own default (TLS when its ports enforce it) would try
        // TLS against plain name servers.
        keys.push(("useTLS", client.use_tls.to_string()));
        let trust = match client.trust {
            Some(TrustSource::OwnSecret) => Some(&files.tls_dir),
            Some(TrustSource::NameServerSecret) => Some(&files.namesrv_ca_dir),
            None => None,
        };
        if let Some(dir) = trust {
            keys.push(("tls.client.authServer", "true".to_owned()));
            keys.push(("tls.client.trustCertPath", format!("{dir}/ca.crt")));
        }
        if client.present_certificate {
            keys.push(("tls.client.certPath", format!("{}/tls.crt", files.tls_dir)));
            keys.push(("tls.client.keyPath", format!("{}/tls.key", files.tls_dir)));
        }
    }
    keys
}

/// The name servers' security keys: TLS of their port (they have no ACL and open no
/// connections).
pub fn namesrv_keys(cluster: &ValidatedCluster, files: &SecurityFiles) -> Vec<Key> {
    cluster
        .spec
        .security
        .tls_of(TlsRole::NameServer)
        .map(|role| server_keys(role, &files.tls_dir))
        .unwrap_or_default()
}

fn server_keys(role: &TlsRoleSpec, dir: &str) -> Vec<Key> {
    let mut keys = vec![
        ("tls.server.mode", role.mode.as_str().to_owned()),
        ("tls.server.certPath", format!("{dir}/tls.crt")),
        ("tls.server.keyPath", format!("{dir}/tls.key")),
    ];
    if role.ca_known() {
        keys.push(("tls.server.trustCertPath", format!("{dir}/ca.crt")));
    }
    keys.push((
        "tls.server.need.client.auth",
        role.client_auth.as_str().to_owned(),
    ));
    keys
}

/// The Secret holding `role`'s certificate, when that role serves TLS: the user's
/// `secretName`, or the one the operator's cert-manager `Certificate` writes.
pub fn tls_secret(cluster: &ValidatedCluster, role: TlsRole) -> Option<String> {
    let spec = cluster.spec.security.tls_of(role)?;
    match (&spec.secret_name, &spec.issuer_ref) {
        (Some(name), _) => Some(name.clone()),
        (None, Some(_)) => Some(names::tls_certificate(cluster, role)),
        (None, None) => None,
    }
}

/// Volumes, mounts and environment a pod of one role gets from `spec.security`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodSecurity {
    /// Secret volumes.
    pub volumes: Vec<Volume>,
    /// Their read-only mounts in the container.
    pub mounts: Vec<VolumeMount>,
    /// Environment variables from Secrets.
    pub env: Vec<EnvVar>,
}

impl PodSecurity {
    fn mount_secret(&mut self, volume: &str, secret: String, dir: &str, keys: &[&str]) {
        self.volumes.push(Volume {
            name: volume.to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret),
                // Only these keys are projected; a missing one stops the pod from starting
                // with an event naming it, rather than a process failing on a missing file.
                items: Some(
                    keys.iter()
                        .map(|k| KeyToPath {
                            key: (*k).to_owned(),
                            path: (*k).to_owned(),
                            ..KeyToPath::default()
                        })
                        .collect(),
                ),
                default_mode: Some(SECRET_FILE_MODE),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
        self.mounts.push(VolumeMount {
            name: volume.to_owned(),
            mount_path: dir.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }

    fn mount_tls(&mut self, cluster: &ValidatedCluster, role: TlsRole) {
        let (Some(secret), Some(spec)) = (
            tls_secret(cluster, role),
            cluster.spec.security.tls_of(role),
        ) else {
            return;
        };
        let keys: &[&str] = if spec.ca_known() {
            &["tls.crt", "tls.key", "ca.crt"]
        } else {
            &["tls.crt", "tls.key"]
        };
        self.mount_secret(TLS_VOLUME, secret, TLS_DIR, keys);
    }
}

/// What a broker pod gets: the ACL file, its certificate, the name servers' CA when it checks
/// them with that one, and its own ACL account.
pub fn broker_pod(cluster: &ValidatedCluster) -> PodSecurity {
    let security = &cluster.spec.security;
    let mut pod = PodSecurity::default();
    if let Some(acl) = security.acl_enabled() {
        if let Some(secret) = &acl.secret_name {
            pod.mount_secret(
                ACL_VOLUME,
                secret.clone(),
                &format!("{ACL_HOME}/conf"),
                &[ACL_FILE],
            );
        }
        if let Some(secret) = &acl.inner_credentials_secret {
            pod.env
                .push(secret_env(INNER_ACCESS_KEY_ENV, secret, ACCESS_KEY));
            pod.env
                .push(secret_env(INNER_SECRET_KEY_ENV, secret, SECRET_KEY));
        }
    }
    pod.mount_tls(cluster, TlsRole::Broker);
    if let Some(tls) = &security.tls {
        let client = tls.broker_client(cluster.spec.broker.replicas_per_group > 0);
        if client.trust == Some(TrustSource::NameServerSecret)
            && let Some(secret) = tls_secret(cluster, TlsRole::NameServer)
        {
            // ca.crt alone: the name servers' key never enters a broker pod.
            pod.mount_secret(NAMESRV_CA_VOLUME, secret, NAMESRV_CA_DIR, &["ca.crt"]);
        }
    }
    pod
}

/// What a name server pod gets: its certificate.
pub fn namesrv_pod(cluster: &ValidatedCluster) -> PodSecurity {
    let mut pod = PodSecurity::default();
    pod.mount_tls(cluster, TlsRole::NameServer);
    pod
}

fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                ..SecretKeySelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

#[cfg(test)]
mod tests;
