//! The reconcile paths of `spec.security`: Certificates from a cert-manager issuer applied
//! before the StatefulSets that mount their Secrets, deleted when TLS goes, and a missing
//! cert-manager API.

use serde_json::json;

use super::mock::*;
use super::*;

/// The reconcile paths of `spec.security`.
pub(super) enum SecurityScenario {
    /// TLS from a cert-manager issuer: a Certificate per role, applied before the StatefulSets
    /// that mount their Secrets.
    TlsFromIssuer,
    /// TLS removed: the operator's Certificates are deleted before anything is applied.
    TlsRemoved,
    /// An issuer is named but the cert-manager API is not served.
    CertManagerMissing,
}

const TLS_FROM_ISSUER: &str = r#"{"security": {"tls": {"nameServer": {"issuerRef": {"name": "rmq-ca"}}, "broker": {"mode": "enforcing", "issuerRef": {"name": "rmq-ca"}}}}}"#;

impl SecurityScenario {
    /// The cluster to reconcile and the calls it must make, in order.
    pub(super) fn setup(&self) -> (RocketCluster, Vec<Call>) {
        let tls: serde_json::Value = serde_json::from_str(TLS_FROM_ISSUER).expect("spec");
        let certificates = format!("/apis/cert-manager.io/v1{NS}/certificates");
        match self {
            Self::TlsFromIssuer => {
                let before = built(&cluster(json!({}), None));
                let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
                let c = cluster(tls, None);
                let desired = gated(&c, &live);
                let mut calls = vec![list_sts(&live), list_external(&[])];
                calls.extend(apply_calls(&desired, |s| {
                    Reply::EchoWithStatus(json!(settled(s).status))
                }));
                let uris: Vec<String> = calls.iter().map(|c| c.uri.clone()).collect();
                let at = |needle: &str| {
                    uris.iter()
                        .position(|u| u.contains(needle))
                        .unwrap_or_else(|| panic!("no call for {needle}"))
                };
                assert!(
                    at("configmaps/demo-broker-0-config") < at("certificates/demo-namesrv-tls")
                );
                assert!(
                    at("certificates/demo-broker-tls") < at("poddisruptionbudgets/demo-namesrv")
                );
                let sts = at("statefulsets/demo-broker-0");
                calls[at("certificates/demo-broker-tls")].check = Box::new({
                    let expected = json!(desired.certificates[1]);
                    move |body| {
                        assert_eq!(body, &expected);
                        assert_eq!(body["apiVersion"], "cert-manager.io/v1");
                        assert_eq!(body["kind"], "Certificate");
                        assert_eq!(body["spec"]["issuerRef"]["name"], "rmq-ca");
                    }
                });
                calls[sts].check = Box::new(|body| {
                    let volumes = body["spec"]["template"]["spec"]["volumes"].to_string();
                    assert!(
                        volumes.contains("\"secretName\":\"demo-broker-tls\""),
                        "{volumes}"
                    );
                });
                // The lone group's only pod takes the new template at once. The admin API
                // would be reached over TLS: cert-manager has not written the Secret yet,
                // which a lone group's roll does not need.
                calls.push(list_pods(&[("demo-broker-0-0", true)]));
                calls.push(call(
                    Method::GET,
                    format!("/api/v1{NS}/secrets/demo-namesrv-tls"),
                    Reply::NotFound,
                ));
                calls.push(partition_call("demo-broker-0", 0));
                calls.push(event("RollingRestart", "demo-broker-0 changed"));
                calls.push(status_call(&c, |_| {}));
                (c, calls)
            }
            Self::TlsRemoved => {
                let before = built(&cluster(tls, None));
                let live: Vec<_> = before.stateful_sets.iter().map(settled).collect();
                let c = cluster(json!({}), None);
                let desired = gated(&c, &live);
                assert!(desired.certificates.is_empty());
                let mut calls = vec![
                    list_sts(&live),
                    list_external(&[]),
                    delete_call(
                        &certificates,
                        "demo-namesrv-tls",
                        Reply::Json(json!(before.certificates[0])),
                    ),
                    // Already gone: fine.
                    delete_call(&certificates, "demo-broker-tls", Reply::NotFound),
                ];
                calls.extend(apply_calls(&desired, |s| {
                    Reply::EchoWithStatus(json!(settled(s).status))
                }));
                calls.push(list_pods(&[("demo-broker-0-0", true)]));
                calls.push(partition_call("demo-broker-0", 0));
                calls.push(event("RollingRestart", "demo-broker-0 changed"));
                calls.push(status_call(&c, |_| {}));
                (c, calls)
            }
            Self::CertManagerMissing => {
                let c = cluster(tls, None);
                let desired = built(&c);
                let mut calls = vec![list_sts(&[]), list_external(&[])];
                calls.extend(
                    apply_calls(&desired, |_| Reply::Echo)
                        .into_iter()
                        .take_while(|c| !c.uri.contains("certificates/")),
                );
                calls.push(apply_call(
                    &certificates,
                    "demo-namesrv-tls",
                    json!(desired.certificates[0]),
                    Reply::NotFound,
                ));
                (c, calls)
            }
        }
    }
}
