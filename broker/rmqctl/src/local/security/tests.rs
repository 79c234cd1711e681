//! `spec.security` of a local run: Secrets found, files laid out, config keys naming them,
//! certificate checks and `up`'s own connections.

use rmq_operator::crd::TlsRole;
use rmq_protocol::body::properties;

use super::*;
use crate::local::manifest::{parse, validate_local};
use crate::local::plan::{self, Plan};

const DIR: &str = "/state/demo";

const ACL_SECRETS: &str = "---
apiVersion: v1
kind: Secret
metadata: {name: acl}
stringData:
  plain_acl.yml: |
    accounts:
      - {accessKey: rocketmq2, secretKey: '12345678', admin: true}
---
apiVersion: v1
kind: Secret
metadata: {name: inner}
data:
  accessKey: cm9ja2V0bXEy
  secretKey: MTIzNDU2Nzg=
";

/// ACL with an inner account, TLS from one issuer everywhere, a slave per group, brokers
/// requiring client certificates.
const SECURE: &str = "{broker: {replicasPerGroup: 1}, security: {acl: {enabled: true, \
    secretName: acl, innerCredentialsSecret: inner}, tls: {nameServer: {mode: enforcing, \
    issuerRef: {name: ca}}, broker: {mode: enforcing, issuerRef: {name: ca}, clientAuth: \
    require}}}}";

fn manifest(spec: &str, extra: &str) -> String {
    format!(
        "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo}}\nspec: {spec}\n{extra}"
    )
}

fn setup(spec: &str, extra: &str) -> (ValidatedCluster, Result<Security, SecurityError>) {
    let parsed = parse(&manifest(spec, extra)).unwrap();
    let cluster = validate_local(parsed.cluster).unwrap();
    let security = resolve(&cluster, &parsed.secrets);
    (cluster, security)
}

fn plan_of(cluster: &ValidatedCluster) -> Plan {
    plan::plan(cluster, Path::new(DIR), 9876).unwrap()
}

fn fake_local_ca() -> LocalCa {
    let pair = |name: &str| KeyPair {
        cert: format!("{name} cert\n").into_bytes(),
        key: format!("{name} key\n").into_bytes(),
    };
    LocalCa {
        ca: b"local ca\n".to_vec(),
        namesrv: pair("namesrv"),
        broker: pair("broker"),
        client: pair("client"),
    }
}

#[test]
fn the_acl_file_and_inner_account_come_from_string_data_and_base64_data() {
    let (_, security) = setup(SECURE, ACL_SECRETS);
    let security = security.unwrap();
    let acl = security.acl.as_ref().unwrap();
    assert_eq!(acl.secret, "acl");
    assert!(String::from_utf8_lossy(&acl.file).contains("accessKey: rocketmq2"));
    assert_eq!(
        security.inner(),
        Some(&Credentials {
            access_key: "rocketmq2".into(),
            secret_key: "12345678".into()
        })
    );
    assert!(security.needs_local_ca());
    assert!(
        !format!("{security:?}").contains("12345678"),
        "{security:?}"
    );
}

#[test]
fn a_missing_secret_or_key_is_an_error_naming_the_field_before_anything_starts() {
    let (_, missing) = setup(SECURE, "");
    assert!(matches!(
        missing,
        Err(SecurityError::Secret(SecretError::NotInManifest { field: "spec.security.acl.secretName", ref name, .. })) if name == "acl"
    ));
    let half = ACL_SECRETS.replace("  secretKey: MTIzNDU2Nzg=\n", "");
    let (_, no_secret_key) = setup(SECURE, &half);
    let error = no_secret_key.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Secret inner (spec.security.acl.innerCredentialsSecret) has no key secretKey; it has \
         accessKey"
    );
    let tls = "{security: {tls: {nameServer: {secretName: ns-tls, secretHasCa: true}}}}";
    let without_ca = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: ns-tls}\nstringData: {tls.crt: c, tls.key: k}\n";
    let (_, error) = setup(tls, without_ca);
    assert!(matches!(
        error,
        Err(SecurityError::Secret(SecretError::MissingKey {
            key: "ca.crt",
            field: "spec.security.tls.nameServer.secretName",
            ..
        }))
    ));
    let (_, fine) = setup(&tls.replace(", secretHasCa: true", ""), without_ca);
    assert!(matches!(
        &fine.unwrap().tls[0].source,
        CertSource::Secret { ca: None, .. }
    ));
}

#[test]
fn broker_conf_and_namesrv_properties_name_files_under_the_state_directory_only() {
    let (cluster, security) = setup(SECURE, ACL_SECRETS);
    security.unwrap();
    let plan = plan_of(&cluster);
    let entries = |text: &str| properties::parse(text);
    let key = |entries: &[(String, String)], key: &str| {
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let slave = entries(&plan.brokers[1].config);
    assert_eq!(
        key(&slave, "rocketmqHome").as_deref(),
        Some("/state/demo/broker/demo-broker-0-1/acl")
    );
    assert_eq!(key(&slave, "aclEnable").as_deref(), Some("true"));
    for (k, v) in [
        ("tls.server.mode", "enforcing"),
        ("tls.server.certPath", "/state/demo/tls/broker/tls.crt"),
        ("tls.server.keyPath", "/state/demo/tls/broker/tls.key"),
        ("tls.server.trustCertPath", "/state/demo/tls/broker/ca.crt"),
        ("tls.server.need.client.auth", "require"),
        ("useTLS", "true"),
        ("tls.client.authServer", "true"),
        ("tls.client.trustCertPath", "/state/demo/tls/broker/ca.crt"),
        ("tls.client.certPath", "/state/demo/tls/broker/tls.crt"),
    ] {
        assert_eq!(key(&slave, k).as_deref(), Some(v), "{k}");
    }
    let namesrv = entries(&plan.namesrvs[0].config);
    assert_eq!(
        key(&namesrv, "tls.server.certPath").as_deref(),
        Some("/state/demo/tls/namesrv/tls.crt")
    );
    assert_eq!(
        key(&namesrv, "tls.server.mode").as_deref(),
        Some("enforcing")
    );
    for node in plan.nodes() {
        assert!(!node.config.contains("/etc/rocketmq"), "{}", node.config);
    }
}

#[test]
fn the_files_are_a_private_acl_copy_per_broker_role_directories_and_one_ca_bundle() {
    let (cluster, security) = setup(SECURE, ACL_SECRETS);
    let security = security.unwrap();
    let local = fake_local_ca();
    let files = files(&plan_of(&cluster), &security, Some(&local));
    let listed: Vec<(String, bool)> = files
        .iter()
        .map(|f| (f.path.display().to_string(), f.private))
        .collect();
    let expected = [
        ("broker/demo-broker-0-0/acl/conf/plain_acl.yml", true),
        ("broker/demo-broker-0-1/acl/conf/plain_acl.yml", true),
        ("tls/namesrv/tls.crt", false),
        ("tls/namesrv/tls.key", true),
        ("tls/namesrv/ca.crt", false),
        ("tls/broker/tls.crt", false),
        ("tls/broker/tls.key", true),
        ("tls/broker/ca.crt", false),
        ("tls/client.crt", false),
        ("tls/client.key", true),
        ("tls/ca.crt", false),
    ]
    .map(|(path, private)| (format!("{DIR}/{path}"), private));
    assert_eq!(listed, expected);
    let content = |path: &str| {
        let path = format!("{DIR}/{path}");
        files.iter().find(|f| f.path == Path::new(&path)).unwrap()
    };
    assert_eq!(content("tls/broker/tls.key").bytes, b"broker key\n");
    // One CA signed both roles: the bundle holds it once.
    assert_eq!(content("tls/ca.crt").bytes, b"local ca\n");
    assert_eq!(
        content("broker/demo-broker-0-1/acl/conf/plain_acl.yml").bytes,
        security.acl.as_ref().unwrap().file
    );
}

#[test]
fn certificate_checks_follow_who_checks_whom() {
    let (cluster, security) = setup(SECURE, ACL_SECRETS);
    let checks = cert_checks(&cluster, &security.unwrap());
    let listed: Vec<(Usage, Holder, TlsRole)> =
        checks.iter().map(|c| (c.usage, c.cert, c.ca)).collect();
    use Holder::{LocalClient, Role};
    use TlsRole::{Broker, NameServer};
    assert_eq!(
        listed,
        [
            // up checks both roles (there are slaves to ask about) and presents the local
            // client certificate to the brokers, which require one.
            (Usage::Server, Role(NameServer), NameServer),
            (Usage::Server, Role(Broker), Broker),
            (Usage::Client, LocalClient, Broker),
            // The brokers check the name servers and their master with their own ca.crt,
            // and slaves present their certificate to the master.
            (Usage::Server, Role(NameServer), Broker),
            (Usage::Client, Role(Broker), Broker),
        ]
    );
    let (plain_cluster, plain) = setup("{}", "");
    assert!(cert_checks(&plain_cluster, &plain.unwrap()).is_empty());
}

#[test]
fn up_reaches_enforcing_ports_over_tls_with_their_ca_and_signs_for_brokers_with_the_inner_account()
{
    let (_, security) = setup(SECURE, ACL_SECRETS);
    let security = security.unwrap();
    let dir = Path::new(DIR);
    let namesrv = reach(dir, &security, TlsRole::NameServer).unwrap();
    assert_eq!(
        namesrv,
        Reach {
            tls: Some(ClientTlsFiles {
                verify_server: true,
                trust: Some("/state/demo/tls/namesrv/ca.crt".into()),
                cert: None,
                key: None,
            }),
            // Name servers have no ACL.
            credentials: None,
        }
    );
    let broker = reach(dir, &security, TlsRole::Broker).unwrap();
    let tls = broker.tls.unwrap();
    assert_eq!(
        (tls.trust, tls.cert, tls.key),
        (
            Some("/state/demo/tls/broker/ca.crt".into()),
            Some("/state/demo/tls/client.crt".into()),
            Some("/state/demo/tls/client.key".into())
        )
    );
    assert_eq!(broker.credentials.unwrap().access_key, "rocketmq2");
}

#[test]
fn acl_without_an_inner_account_is_refused_only_where_up_must_sign() {
    let spec = SECURE.replace(", innerCredentialsSecret: inner", "");
    assert_ne!(spec, SECURE);
    let (_, security) = setup(&spec, ACL_SECRETS);
    let security = security.unwrap();
    let dir = Path::new(DIR);
    assert_eq!(
        reach(dir, &security, TlsRole::Broker),
        Err(SecurityError::NoAccount)
    );
    assert!(reach(dir, &security, TlsRole::NameServer).is_ok());
    assert!(
        SecurityError::NoAccount
            .to_string()
            .contains("add innerCredentialsSecret")
    );
}

#[test]
fn permissive_ports_are_reached_plain_and_a_required_secret_certificate_is_presented_by_up() {
    let spec = "{security: {tls: {nameServer: {mode: enforcing, secretName: ns, secretHasCa: \
                true, clientAuth: require}, broker: {secretName: ns, secretHasCa: true}}}}";
    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: ns}\nstringData: {tls.crt: c, tls.key: k, ca.crt: a}\n";
    let (cluster, security) = setup(spec, secret);
    let security = security.unwrap();
    let dir = Path::new(DIR);
    let namesrv = reach(dir, &security, TlsRole::NameServer)
        .unwrap()
        .tls
        .unwrap();
    assert_eq!(
        (namesrv.cert, namesrv.key),
        (
            Some("/state/demo/tls/namesrv/tls.crt".into()),
            Some("/state/demo/tls/namesrv/tls.key".into())
        )
    );
    assert_eq!(reach(dir, &security, TlsRole::Broker).unwrap().tls, None);
    // up presents the name servers' own certificate: it must be good for client auth.
    let checks = cert_checks(&cluster, &security);
    assert!(checks.contains(&CertCheck {
        usage: Usage::Client,
        cert: Holder::Role(TlsRole::NameServer),
        ca: TlsRole::NameServer,
        why: "rmqctl up presents it to that role, which requires client certificates",
    }));
    assert!(!security.needs_local_ca());
}
