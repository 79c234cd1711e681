//! What `spec.security` renders: config keys, Secret volumes, mounts, environment, Certificates,
//! and which changes roll the pods.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Container, PodSpec, Volume};
use serde_json::json;

use super::*;
use crate::build::pod::TEMPLATE_HASH_ANNOTATION;
use crate::build::tests::validated;
use crate::build::{broker_conf, build, certificate, config_map, owner_reference};

const ACL: &str = "spec: {security: {acl: {enabled: true, secretName: rmq-acl, innerCredentialsSecret: rmq-inner}}}";
/// TLS everywhere from one cert-manager issuer, a slave per group.
const SHARED_ISSUER: &str = "spec: {broker: {replicasPerGroup: 1}, security: {tls: {nameServer: {mode: enforcing, issuerRef: {name: rmq-ca}}, broker: {issuerRef: {name: rmq-ca}, clientAuth: require}}}}";

fn pod(sts: &StatefulSet) -> &PodSpec {
    sts.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod template")
}

fn container(sts: &StatefulSet) -> &Container {
    &pod(sts).containers[0]
}

fn volume<'a>(sts: &'a StatefulSet, name: &str) -> Option<&'a Volume> {
    pod(sts).volumes.as_ref()?.iter().find(|v| v.name == name)
}

/// `(secret, keys projected)` of a Secret volume.
fn secret_of(v: &Volume) -> (String, Vec<String>) {
    let s = v.secret.as_ref().expect("a Secret volume");
    let keys = s
        .items
        .iter()
        .flatten()
        .map(|i| {
            assert_eq!(i.key, i.path, "files keep their key's name");
            i.key.clone()
        })
        .collect();
    (s.secret_name.clone().unwrap_or_default(), keys)
}

fn mount_path(sts: &StatefulSet, name: &str) -> Option<String> {
    let m = container(sts)
        .volume_mounts
        .as_ref()?
        .iter()
        .find(|m| m.name == name)?;
    assert_eq!(m.read_only, Some(true), "{name} is mounted read-only");
    assert!(
        m.sub_path.is_none(),
        "{name}: a subPath mount never sees Secret updates"
    );
    Some(m.mount_path.clone())
}

fn lines(conf: &str) -> Vec<&str> {
    conf.lines().filter(|l| !l.starts_with('#')).collect()
}

fn template_hash(sts: &StatefulSet) -> String {
    sts.metadata.annotations.as_ref().expect("annotations")[TEMPLATE_HASH_ANNOTATION].clone()
}

#[test]
fn acl_turns_on_acl_enable_and_mounts_the_secret_as_rocketmq_home_conf() {
    let c = validated(ACL);
    let conf = broker_conf::render(&c, 0, 0);
    let l = lines(&conf);
    assert!(l.contains(&"aclEnable=true"), "{conf}");
    assert!(l.contains(&"rocketmqHome=/etc/rocketmq-acl"), "{conf}");
    let r = build(&c);
    let broker = &r.stateful_sets[1];
    let v = volume(broker, "acl").expect("acl volume");
    assert_eq!(
        secret_of(v),
        ("rmq-acl".to_owned(), vec!["plain_acl.yml".to_owned()])
    );
    assert_eq!(v.secret.as_ref().and_then(|s| s.default_mode), Some(0o440));
    // The broker reads {rocketmqHome}/conf/plain_acl.yml.
    assert_eq!(
        mount_path(broker, "acl").as_deref(),
        Some("/etc/rocketmq-acl/conf")
    );
    // Name servers have no ACL.
    assert!(volume(&r.stateful_sets[0], "acl").is_none());
    let ns_conf = &r.config_maps[0].data.as_ref().expect("data")["namesrv.properties"];
    assert!(!ns_conf.contains("acl"), "{ns_conf}");
}

#[test]
fn the_brokers_own_account_comes_from_its_secret_as_env_and_never_enters_the_config_map() {
    let r = build(&validated(ACL));
    let env = container(&r.stateful_sets[1]).env.clone().expect("env");
    let from_secret: Vec<_> = env
        .iter()
        .filter_map(|e| {
            let s = e.value_from.as_ref()?.secret_key_ref.as_ref()?;
            Some((e.name.as_str(), s.name.as_str(), s.key.as_str()))
        })
        .collect();
    assert_eq!(
        from_secret,
        [
            ("ROCKETMQ_INNER_ACCESS_KEY", "rmq-inner", "accessKey"),
            ("ROCKETMQ_INNER_SECRET_KEY", "rmq-inner", "secretKey")
        ]
    );
    let data = serde_json::to_string(&r.config_maps).expect("json");
    assert!(!data.contains("innerClientAuthenticationCredentials"));
    assert!(!data.contains("rmq-inner"));
}

#[test]
fn acl_that_is_not_enabled_renders_nothing() {
    let off = validated("spec: {security: {acl: {enabled: false, secretName: rmq-acl}}}");
    assert_eq!(build(&off), build(&validated("spec: {}")));
}

#[test]
fn a_tls_secret_without_a_declared_ca_serves_tls_but_checks_no_client() {
    let c = validated("spec: {security: {tls: {broker: {secretName: broker-tls}}}}");
    let conf = broker_conf::render(&c, 0, 0);
    let l = lines(&conf);
    for key in [
        "tls.server.mode=permissive",
        "tls.server.certPath=/etc/rocketmq-tls/tls.crt",
        "tls.server.keyPath=/etc/rocketmq-tls/tls.key",
        "tls.server.need.client.auth=none",
        // Plain name servers: the brokers' own connections stay plain.
        "useTLS=false",
    ] {
        assert!(l.contains(&key), "missing {key} in {conf}");
    }
    assert!(!conf.contains("trustCertPath"), "{conf}");
    let broker = &build(&c).stateful_sets[1];
    assert_eq!(
        secret_of(volume(broker, "tls").expect("tls volume")),
        (
            "broker-tls".to_owned(),
            vec!["tls.crt".to_owned(), "tls.key".to_owned()]
        )
    );
    assert_eq!(
        mount_path(broker, "tls").as_deref(),
        Some("/etc/rocketmq-tls")
    );
}

#[test]
fn a_shared_issuer_gives_mutual_tls_between_brokers_and_checked_name_servers() {
    let c = validated(SHARED_ISSUER);
    let r = build(&c);
    let ns = &r.config_maps[0].data.as_ref().expect("data")["namesrv.properties"];
    let l = lines(ns);
    for key in [
        "tls.server.mode=enforcing",
        "tls.server.certPath=/etc/rocketmq-tls/tls.crt",
        "tls.server.keyPath=/etc/rocketmq-tls/tls.key",
        "tls.server.trustCertPath=/etc/rocketmq-tls/ca.crt",
        "tls.server.need.client.auth=none",
    ] {
        assert!(l.contains(&key), "missing {key} in {ns}");
    }
    let slave = broker_conf::render(&c, 0, 1);
    let l = lines(&slave);
    for key in [
        "tls.server.need.client.auth=require",
        "useTLS=true",
        "tls.client.authServer=true",
        "tls.client.trustCertPath=/etc/rocketmq-tls/ca.crt",
        // The master requires a client certificate: slaves present their own.
        "tls.client.certPath=/etc/rocketmq-tls/tls.crt",
        "tls.client.keyPath=/etc/rocketmq-tls/tls.key",
    ] {
        assert!(l.contains(&key), "missing {key} in {slave}");
    }
    // Security keys sit between the operator's keys and the user's config.
    assert!(slave.find("storePathRootDir").expect("owned") < slave.find("useTLS").expect("tls"));
    // Each role mounts the Secret of its own Certificate, with the CA.
    let tls = |s: &StatefulSet| secret_of(volume(s, "tls").expect("tls volume"));
    let keys = ["tls.crt", "tls.key", "ca.crt"].map(str::to_owned).to_vec();
    assert_eq!(
        tls(&r.stateful_sets[0]),
        ("demo-namesrv-tls".to_owned(), keys.clone())
    );
    assert_eq!(
        tls(&r.stateful_sets[1]),
        ("demo-broker-tls".to_owned(), keys)
    );
    assert!(volume(&r.stateful_sets[1], "namesrv-ca").is_none());
}

#[test]
fn brokers_without_slaves_check_name_servers_with_their_ca_alone_never_their_key() {
    let c = validated(
        "spec: {security: {tls: {nameServer: {mode: enforcing, secretName: ns-tls, secretHasCa: true}}}}",
    );
    let conf = broker_conf::render(&c, 0, 0);
    let l = lines(&conf);
    assert!(l.contains(&"useTLS=true"), "{conf}");
    assert!(l.contains(&"tls.client.authServer=true"), "{conf}");
    assert!(
        l.contains(&"tls.client.trustCertPath=/etc/rocketmq-tls-namesrv/ca.crt"),
        "{conf}"
    );
    assert!(!conf.contains("tls.server."), "brokers serve plain: {conf}");
    let broker = &build(&c).stateful_sets[1];
    assert_eq!(
        secret_of(volume(broker, "namesrv-ca").expect("CA volume")),
        ("ns-tls".to_owned(), vec!["ca.crt".to_owned()])
    );
    assert_eq!(
        mount_path(broker, "namesrv-ca").as_deref(),
        Some("/etc/rocketmq-tls-namesrv")
    );
    assert!(volume(broker, "tls").is_none());
}

#[test]
fn probes_never_need_tls_on_enforcing_ports() {
    let r = build(&validated(SHARED_ISSUER));
    for sts in &r.stateful_sets {
        let c = container(sts);
        for probe in [&c.readiness_probe, &c.liveness_probe] {
            let probe = probe.as_ref().expect("probe");
            if c.name == "broker" {
                // The broker's health port is plain HTTP whatever the TLS mode of its remoting
                // ports.
                let get = probe.http_get.as_ref().expect("an HTTP probe");
                assert_eq!(
                    get.port,
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                        "health".into()
                    )
                );
                assert!(get.scheme.is_none(), "plain HTTP");
            } else {
                // A TCP probe connects and closes before sending a byte: no TLS needed, and
                // the server logs it at debug only.
                assert!(probe.tcp_socket.is_some() && probe.http_get.is_none());
            }
        }
    }
}

#[test]
fn certificates_cover_every_pods_stable_name_and_carry_owner_and_issuer() {
    let c = validated(
        "spec: {broker: {groups: 2}, security: {tls: {nameServer: {issuerRef: {name: rmq-ca, kind: ClusterIssuer}}, broker: {issuerRef: {name: rmq-ca, kind: ClusterIssuer}}}}}",
    );
    let r = build(&c);
    assert_eq!(r.certificates.len(), 2);
    let broker = serde_json::to_value(&r.certificates[1]).expect("json");
    assert_eq!(broker["apiVersion"], "cert-manager.io/v1");
    assert_eq!(broker["kind"], "Certificate");
    assert_eq!(broker["metadata"]["name"], "demo-broker-tls");
    assert_eq!(broker["metadata"]["namespace"], "mq");
    assert_eq!(
        broker["metadata"]["ownerReferences"],
        json!([owner_reference(&c)])
    );
    assert_eq!(
        broker["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "rmq-operator"
    );
    assert_eq!(broker["spec"]["secretName"], "demo-broker-tls");
    assert_eq!(
        broker["spec"]["issuerRef"],
        json!({"name": "rmq-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"})
    );
    assert_eq!(broker["spec"]["privateKey"]["encoding"], "PKCS8");
    let dns: Vec<String> =
        serde_json::from_value(broker["spec"]["dnsNames"].clone()).expect("dnsNames");
    for g in 0..2 {
        for o in 0..1 {
            // What brokers advertise (brokerIP1) and slaves and clients connect to.
            let pod = names::broker_pod_dns(&c, g, o);
            let (_, parent) = pod.split_once('.').expect("a pod name under its Service");
            assert!(
                dns.contains(&format!("*.{parent}")),
                "{pod} not covered: {dns:?}"
            );
        }
        assert!(dns.contains(&format!("*.demo-broker-{g}.mq.svc")));
        assert!(dns.contains(&format!("demo-broker-{g}.mq.svc.cluster.local")));
    }
    let ns: Vec<String> = serde_json::from_value(
        serde_json::to_value(&r.certificates[0]).expect("json")["spec"]["dnsNames"].clone(),
    )
    .expect("dnsNames");
    for host in names::namesrv_hosts(&c) {
        let (host, _port) = host.rsplit_once(':').expect("host:port");
        let (_, parent) = host.split_once('.').expect("pod under Service");
        assert!(
            ns.contains(&format!("*.{parent}")),
            "{host} not covered: {ns:?}"
        );
    }
}

#[test]
fn no_certificate_is_made_for_a_secret_source_or_a_disabled_role() {
    let r = build(&validated(
        "spec: {security: {tls: {nameServer: {mode: disabled}, broker: {secretName: mine}}}}",
    ));
    assert!(r.certificates.is_empty());
}

#[test]
fn changing_tls_or_acl_settings_rolls_the_pods_but_a_new_issuer_only_reissues_the_certificate() {
    let plain = build(&validated("spec: {}"));
    let secured = build(&validated(
        SHARED_ISSUER
            .replace("replicasPerGroup: 1", "replicasPerGroup: 0")
            .as_str(),
    ));
    let acl = build(&validated(ACL));
    for (a, b) in [(&plain, &secured), (&plain, &acl)] {
        for (x, y) in a.stateful_sets.iter().zip(&b.stateful_sets).skip(1) {
            assert_ne!(template_hash(x), template_hash(y), "brokers roll");
        }
    }
    assert_ne!(
        template_hash(&plain.stateful_sets[0]),
        template_hash(&secured.stateful_sets[0]),
        "name servers roll when their TLS changes"
    );
    assert_eq!(
        template_hash(&plain.stateful_sets[0]),
        template_hash(&acl.stateful_sets[0]),
        "name servers have no ACL: they stay"
    );
    // Rotation or a new issuer changes what is in the Secret, never its name: no restart.
    let other_issuer = build(&validated(&SHARED_ISSUER.replace("rmq-ca", "rmq-ca-2")));
    let shared = build(&validated(SHARED_ISSUER));
    assert_eq!(shared.stateful_sets, other_issuer.stateful_sets);
    assert_eq!(shared.config_maps, other_issuer.config_maps);
    assert_ne!(shared.certificates, other_issuer.certificates);
}

#[test]
fn certificates_the_spec_dropped_are_unused_unless_a_users_secret_has_their_name() {
    let before = build(&validated(SHARED_ISSUER));
    let after = validated("spec: {broker: {replicasPerGroup: 1}}");
    let desired = certificate::build(&after);
    assert_eq!(
        certificate::unused(&after, &desired, &before.stateful_sets),
        ["demo-namesrv-tls", "demo-broker-tls"]
    );
    assert!(certificate::unused(&after, &desired, &[]).is_empty());
    let still = validated(SHARED_ISSUER);
    assert!(
        certificate::unused(&still, &certificate::build(&still), &before.stateful_sets).is_empty()
    );
    let users_own = validated(
        "spec: {broker: {replicasPerGroup: 1}, security: {tls: {nameServer: {secretName: demo-namesrv-tls}, broker: {secretName: demo-broker-tls}}}}",
    );
    assert!(
        certificate::unused(&users_own, &[], &before.stateful_sets).is_empty(),
        "the Secrets are the user's now"
    );
}

#[test]
fn a_local_runner_renders_the_same_keys_with_its_own_files() {
    let c = validated(
        ACL.replace(
            "{acl:",
            "{tls: {broker: {secretName: t, secretHasCa: true, clientAuth: optional}}, acl:",
        )
        .as_str(),
    );
    let files = SecurityFiles {
        acl_home: "/tmp/rmq/acl".to_owned(),
        tls_dir: "/tmp/rmq/tls".to_owned(),
        namesrv_ca_dir: "/tmp/rmq/ns".to_owned(),
    };
    let placement = broker_conf::Placement::in_cluster(&c, 0, 0);
    let local = broker_conf::render_with_files(&c, 0, 0, &placement, &files);
    assert!(local.contains("\nrocketmqHome=/tmp/rmq/acl\n"), "{local}");
    assert!(
        local.contains("\ntls.server.trustCertPath=/tmp/rmq/tls/ca.crt\n"),
        "{local}"
    );
    assert!(!local.contains("/etc/rocketmq"), "{local}");
    assert_eq!(
        broker_conf::render_at(&c, 0, 0, &placement),
        broker_conf::render(&c, 0, 0)
    );
}

#[test]
fn name_server_properties_without_tls_are_unchanged() {
    let data = config_map::namesrv(&validated(
        "spec: {security: {tls: {broker: {secretName: t}}}}",
    ))
    .data
    .expect("data");
    assert_eq!(
        lines(&data["namesrv.properties"]),
        [
            "listenPort=9876",
            "kvConfigPath=/data/namesrv/kvConfig.json"
        ]
    );
}
