//! cert-manager `Certificate`s (`cert-manager.io/v1`), one per role whose TLS names an
//! `issuerRef`, built as [`DynamicObject`]s so no cert-manager crate is needed.
//!
//! ```text
//! <c>-namesrv-tls   dnsNames of <c>-namesrv                     → Secret <c>-namesrv-tls
//! <c>-broker-tls    dnsNames of <c>-broker-0 … <c>-broker-<g>  → Secret <c>-broker-tls
//! dnsNames per headless Service s:  *.s.<ns>.svc  *.s.<ns>.svc.<domain>  s  s.<ns>  s.<ns>.svc  s.<ns>.svc.<domain>
//! ```
//!
//! The wildcards cover every pod's stable name (`<pod>.s.<ns>.svc.<domain>`, what brokers
//! advertise and connect to), so scaling a group adds no name within a Service; adding a group
//! adds its Service's names and cert-manager reissues the certificate into the same Secret,
//! which the processes pick up without a restart. The key is ECDSA P-256 in PKCS#8 and renewed
//! with each certificate (`rotationPolicy: Always`).

use k8s_openapi::api::apps::v1::StatefulSet;
use kube::core::{ApiResource, DynamicObject};
use serde_json::json;

use super::labels::Component;
use super::{metadata, names};
use crate::crd::TlsRole;
use crate::validate::ValidatedCluster;

/// The `Certificate` resource of cert-manager.
pub fn api_resource() -> ApiResource {
    ApiResource {
        group: "cert-manager.io".to_owned(),
        version: "v1".to_owned(),
        api_version: "cert-manager.io/v1".to_owned(),
        kind: "Certificate".to_owned(),
        plural: "certificates".to_owned(),
    }
}

/// The Certificates `cluster` needs: one per role that serves TLS from an `issuerRef`, name
/// servers first.
pub fn build(cluster: &ValidatedCluster) -> Vec<DynamicObject> {
    [TlsRole::NameServer, TlsRole::Broker]
        .into_iter()
        .filter_map(|role| certificate(cluster, role))
        .collect()
}

/// The Certificates to delete: made by the operator for `cluster` (their Secret, named after
/// the role, is mounted by a live StatefulSet) and no longer in `desired`.
///
/// Found through the live StatefulSets the reconcile reads anyway, so a cluster that never used
/// cert-manager costs no call to its API (which may not even be installed).
pub fn unused(
    cluster: &ValidatedCluster,
    desired: &[DynamicObject],
    live: &[StatefulSet],
) -> Vec<String> {
    let mounted: Vec<&str> = live
        .iter()
        .filter_map(|s| s.spec.as_ref()?.template.spec.as_ref()?.volumes.as_ref())
        .flatten()
        .filter_map(|v| v.secret.as_ref()?.secret_name.as_deref())
        .collect();
    let in_use =
        [TlsRole::NameServer, TlsRole::Broker].map(|r| super::security::tls_secret(cluster, r));
    [TlsRole::NameServer, TlsRole::Broker]
        .into_iter()
        .map(|role| names::tls_certificate(cluster, role))
        .filter(|name| mounted.contains(&name.as_str()))
        .filter(|name| {
            !desired
                .iter()
                .any(|c| c.metadata.name.as_ref() == Some(name))
        })
        // A user's own Secret may carry the same name: then it is theirs, and so is any
        // Certificate behind it.
        .filter(|name| !in_use.contains(&Some(name.clone())))
        .collect()
}

fn certificate(cluster: &ValidatedCluster, role: TlsRole) -> Option<DynamicObject> {
    let spec = cluster.spec.security.tls_of(role)?;
    let issuer = spec
        .issuer_ref
        .as_ref()
        .filter(|_| spec.secret_name.is_none())?;
    let name = names::tls_certificate(cluster, role);
    let component = match role {
        TlsRole::NameServer => Component::NameServer,
        TlsRole::Broker => Component::Brokers,
    };
    let meta = metadata(cluster, name.clone(), component);
    let labels = meta.labels.clone().unwrap_or_default();
    let mut object = DynamicObject::new(&name, &api_resource()).data(json!({
        "spec": {
            "secretName": name,
            "secretTemplate": {"labels": labels},
            "issuerRef": {
                "name": issuer.name,
                "kind": issuer.kind.as_str(),
                "group": issuer.group,
            },
            "dnsNames": dns_names(cluster, role),
            "usages": ["digital signature", "server auth", "client auth"],
            "privateKey": {
                "algorithm": "ECDSA",
                "size": 256,
                "encoding": "PKCS8",
                "rotationPolicy": "Always",
            },
        }
    }));
    object.metadata = meta;
    Some(object)
}

/// Every DNS name a pod of `role` is reached by, through its headless Service.
pub fn dns_names(cluster: &ValidatedCluster, role: TlsRole) -> Vec<String> {
    let ns = &cluster.namespace;
    let domain = &cluster.environment.cluster_domain;
    names::tls_services(cluster, role)
        .into_iter()
        .flat_map(|s| {
            [
                format!("*.{s}.{ns}.svc"),
                format!("*.{s}.{ns}.svc.{domain}"),
                s.clone(),
                format!("{s}.{ns}"),
                format!("{s}.{ns}.svc"),
                format!("{s}.{ns}.svc.{domain}"),
            ]
        })
        .collect()
}
