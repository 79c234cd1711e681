//! Checks of `spec.security`: the CEL rules again (for API servers that skip them), Secret
//! names, and what depends on both roles and on the slaves: the brokers' own connections use one
//! TLS client for the name servers and for a slave's master, so an `enforcing` port is only
//! reachable when every peer they connect to serves TLS.

use crate::crd::{ClientAuth, RocketClusterSpec, TlsMode, TlsRoleSpec};

/// Appends every problem of `spec.security` through `problem(field, message)`.
pub(super) fn check(spec: &RocketClusterSpec, problem: &mut impl FnMut(&str, String)) {
    let security = &spec.security;
    if let Some(acl) = &security.acl {
        if acl.enabled && acl.secret_name.is_none() {
            problem(
                "spec.security.acl.secretName",
                "spec.security.acl.enabled needs secretName: a Secret in the cluster's namespace \
                 with the key plain_acl.yml"
                    .to_owned(),
            );
        }
        for (field, name) in [
            ("secretName", &acl.secret_name),
            ("innerCredentialsSecret", &acl.inner_credentials_secret),
            ("adminCredentialsSecret", &acl.admin_credentials_secret),
        ] {
            secret_name(&format!("spec.security.acl.{field}"), name, problem);
        }
    }
    let Some(tls) = &security.tls else {
        return;
    };
    for (path, role) in [
        ("spec.security.tls.nameServer", &tls.name_server),
        ("spec.security.tls.broker", &tls.broker),
    ] {
        if let Some(role) = role {
            check_role(path, role, problem);
        }
    }

    let slaves = spec.broker.replicas_per_group > 0;
    let client = tls.broker_client(slaves);
    let mode = |r: &Option<TlsRoleSpec>| r.as_ref().map_or(TlsMode::Disabled, |r| r.mode);
    let broker_serves = tls.broker.as_ref().is_some_and(TlsRoleSpec::serves_tls);
    if mode(&tls.name_server) == TlsMode::Enforcing && !client.use_tls {
        problem(
            "spec.security.tls.broker",
            "enforcing name servers take TLS clients only, and a slave reaches its master with the \
             same TLS client as the name servers: configure spec.security.tls.broker too \
             (permissive is enough), or make the name servers permissive"
                .to_owned(),
        );
    }
    if slaves && mode(&tls.broker) == TlsMode::Enforcing && !client.use_tls {
        problem(
            "spec.security.tls.nameServer",
            "slaves reach an enforcing master over TLS with the same client they use for the name \
             servers: configure spec.security.tls.nameServer too (permissive is enough)"
                .to_owned(),
        );
    }
    let ns_requires = tls
        .name_server
        .as_ref()
        .is_some_and(|r| r.serves_tls() && r.client_auth == ClientAuth::Require);
    if ns_requires && client.use_tls && !broker_serves {
        problem(
            "spec.security.tls.broker",
            "name servers with clientAuth require need a certificate from every broker: configure \
             spec.security.tls.broker, whose certificate the brokers then present"
                .to_owned(),
        );
    }
}

fn check_role(path: &str, role: &TlsRoleSpec, problem: &mut impl FnMut(&str, String)) {
    if role.secret_name.is_some() && role.issuer_ref.is_some() {
        problem(
            path,
            "set either secretName or issuerRef, not both".to_owned(),
        );
    }
    if role.mode != TlsMode::Disabled && role.secret_name.is_none() && role.issuer_ref.is_none() {
        problem(
            &format!("{path}.mode"),
            format!(
                "TLS mode {} needs a certificate: set secretName (a kubernetes.io/tls Secret) or \
                 issuerRef (a cert-manager issuer), or set mode: disabled",
                role.mode.as_str()
            ),
        );
    }
    if role.client_auth != ClientAuth::None && !role.ca_known() {
        problem(
            &format!("{path}.clientAuth"),
            format!(
                "clientAuth {} checks client certificates against a CA: use issuerRef, or a \
                 secretName whose Secret holds ca.crt and set secretHasCa: true",
                role.client_auth.as_str()
            ),
        );
    }
    if role.secret_has_ca && role.secret_name.is_none() {
        problem(
            &format!("{path}.secretHasCa"),
            "secretHasCa describes the Secret of secretName: set secretName, or remove \
             secretHasCa (an issuerRef's Secret always holds ca.crt)"
                .to_owned(),
        );
    }
    secret_name(&format!("{path}.secretName"), &role.secret_name, problem);
    if let Some(issuer) = &role.issuer_ref
        && issuer.name.trim().is_empty()
    {
        problem(
            &format!("{path}.issuerRef.name"),
            "name the cert-manager issuer".to_owned(),
        );
    }
}

/// A Secret name is a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253.
fn secret_name(field: &str, name: &Option<String>, problem: &mut impl FnMut(&str, String)) {
    let Some(name) = name else {
        return;
    };
    let edges_ok =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = name.len() <= 253
        && edges_ok(name.chars().next())
        && edges_ok(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'));
    if !valid {
        problem(
            field,
            format!(
                "{name:?} is not a Secret name: lower-case letters, digits, '-' and '.', starting \
                 and ending with a letter or digit"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::crd::RocketCluster;
    use crate::validate::{Environment, validate};

    /// The fields of every problem of a cluster with this `spec:` YAML (empty: valid).
    fn problems(spec: &str) -> Vec<String> {
        let yaml = format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo, namespace: mq, uid: u}}\nspec: {spec}"
        );
        let cluster: RocketCluster = serde_yaml::from_str(&yaml).expect("fixture parses");
        match validate(&cluster, &Environment::default()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.into_iter().map(|p| p.field).collect(),
        }
    }

    #[test]
    fn acl_enabled_without_a_secret_is_rejected_and_with_one_accepted() {
        assert_eq!(
            problems("{security: {acl: {enabled: true}}}"),
            ["spec.security.acl.secretName"]
        );
        assert!(problems("{security: {acl: {enabled: true, secretName: acl}}}").is_empty());
        assert!(problems("{security: {acl: {enabled: false}}}").is_empty());
    }

    #[test]
    fn secret_names_that_kubernetes_would_refuse_are_rejected() {
        assert_eq!(
            problems("{security: {acl: {enabled: true, secretName: Acl_File}}}"),
            ["spec.security.acl.secretName"]
        );
        assert_eq!(
            problems("{security: {tls: {broker: {secretName: -tls}}}}"),
            ["spec.security.tls.broker.secretName"]
        );
    }

    #[test]
    fn a_tls_role_needs_exactly_one_certificate_source_unless_disabled() {
        assert_eq!(
            problems("{security: {tls: {nameServer: {mode: enforcing}}}}"),
            ["spec.security.tls.nameServer.mode"]
        );
        assert_eq!(
            problems("{security: {tls: {broker: {}}}}"),
            ["spec.security.tls.broker.mode"]
        );
        assert_eq!(
            problems("{security: {tls: {broker: {secretName: t, issuerRef: {name: ca}}}}}"),
            ["spec.security.tls.broker"]
        );
        assert!(problems("{security: {tls: {broker: {mode: disabled}}}}").is_empty());
    }

    #[test]
    fn client_auth_needs_a_ca_from_the_issuer_or_a_secret_that_declares_one() {
        assert_eq!(
            problems("{security: {tls: {broker: {secretName: t, clientAuth: require}}}}"),
            ["spec.security.tls.broker.clientAuth"]
        );
        assert!(
            problems(
                "{security: {tls: {broker: {secretName: t, secretHasCa: true, clientAuth: require}}}}"
            )
            .is_empty()
        );
        assert!(
            problems("{security: {tls: {broker: {issuerRef: {name: ca}, clientAuth: optional}}}}")
                .is_empty()
        );
        assert_eq!(
            problems("{security: {tls: {broker: {issuerRef: {name: ca}, secretHasCa: true}}}}"),
            ["spec.security.tls.broker.secretHasCa"]
        );
    }

    #[test]
    fn enforcing_name_servers_with_slaves_need_broker_tls_for_the_shared_client() {
        let spec = "{broker: {replicasPerGroup: 1}, security: {tls: {nameServer: {mode: enforcing, issuerRef: {name: ca}}}}}";
        assert_eq!(problems(spec), ["spec.security.tls.broker"]);
        // Without slaves the brokers' only peers are the name servers.
        assert!(
            problems("{security: {tls: {nameServer: {mode: enforcing, issuerRef: {name: ca}}}}}")
                .is_empty()
        );
        let both = "{broker: {replicasPerGroup: 1}, security: {tls: {nameServer: {mode: enforcing, issuerRef: {name: ca}}, broker: {issuerRef: {name: ca}}}}}";
        assert!(problems(both).is_empty());
    }

    #[test]
    fn an_enforcing_master_needs_name_server_tls_so_its_slaves_can_use_tls() {
        let spec = "{broker: {replicasPerGroup: 1}, security: {tls: {broker: {mode: enforcing, issuerRef: {name: ca}}}}}";
        assert_eq!(problems(spec), ["spec.security.tls.nameServer"]);
        assert!(
            problems("{security: {tls: {broker: {mode: enforcing, issuerRef: {name: ca}}}}}")
                .is_empty(),
            "no slaves: brokers keep plain connections to plain name servers"
        );
    }

    #[test]
    fn name_servers_requiring_client_certificates_need_brokers_with_one() {
        let spec = "{security: {tls: {nameServer: {issuerRef: {name: ca}, clientAuth: require}}}}";
        assert_eq!(problems(spec), ["spec.security.tls.broker"]);
        let with_broker = "{security: {tls: {nameServer: {issuerRef: {name: ca}, clientAuth: require}, broker: {issuerRef: {name: ca}}}}}";
        assert!(problems(with_broker).is_empty());
    }
}
