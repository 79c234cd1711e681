//! What `rmqctl up` prints once the cluster is up, as pure
//! functions of the plan and its security.

use rmq_operator::build::security::ACL_FILE;
use rmq_operator::crd::{ClientAuth, TlsRole};

use crate::local::plan::Plan;
use crate::local::security::{self, CertSource, Security};
use crate::table::{Align, Table};

/// The summary: name servers, one row per broker, state and log directories, TLS, CA and ACL
/// when on, how to try it (with the flags security needs) and how to stop it. `program` is how
/// `rmqctl` was invoked, for the hints.
pub fn render(plan: &Plan, security: &Security, program: &str, detached: bool) -> String {
    let namesrv = plan.namesrv_addr();
    let mut table = Table::new(&[
        ("Group", Align::Left),
        ("ID", Align::Right),
        ("Role", Align::Left),
        ("Flush", Align::Left),
        ("Addr", Align::Left),
    ]);
    for node in &plan.brokers {
        if let Some(b) = &node.broker {
            table.row(vec![
                b.group.clone(),
                b.id.to_string(),
                b.role.to_owned(),
                b.flush.to_owned(),
                node.addr.clone(),
            ]);
        }
    }
    let dir = quote(&plan.dir.display().to_string());
    let stop = if detached {
        format!("{} down --dir {dir}", quote(program))
    } else {
        format!(
            "Ctrl-C (or SIGTERM to pid {}); brokers stop first",
            std::process::id()
        )
    };
    format!(
        "RocketCluster {cluster} is up: {ns} name server{ns_s}, {brokers} broker{b_s}\n\
         name servers  {namesrv}\n\
         {table}\
         state         {dir}\n\
         logs          {logs}\n\
         {security_lines}\
         try           {program}{flags} clusterList -n {quoted}   ({note}clients: NAMESRV_ADDR={quoted})\n\
         stop          {stop}\n",
        security_lines = security_lines(plan, security),
        flags = client_flags(plan, security),
        note = if security.acl.is_some() {
            "KEY, SECRET: an account of plain_acl.yml; "
        } else {
            ""
        },
        cluster = plan.cluster,
        ns = plan.namesrvs.len(),
        ns_s = plural(plan.namesrvs.len()),
        brokers = plan.brokers.len(),
        b_s = plural(plan.brokers.len()),
        table = table.render(),
        logs = quote(&plan.log_dir().display().to_string()),
        program = quote(program),
        quoted = quote(&namesrv),
    )
}

/// The `tls`, `ca` and `acl` lines, for what is on.
fn security_lines(plan: &Plan, security: &Security) -> String {
    let mut out = String::new();
    if !security.tls.is_empty() {
        let roles: Vec<String> = [TlsRole::NameServer, TlsRole::Broker]
            .into_iter()
            .map(|role| match security.role(role) {
                None => format!("{} plain", security::label(role)),
                Some(tls) => format!(
                    "{} {}{}",
                    security::label(role),
                    tls.mode.as_str(),
                    match tls.client_auth {
                        ClientAuth::None => "",
                        ClientAuth::Optional => " (client certificates optional)",
                        ClientAuth::Require => " (client certificates required)",
                    }
                ),
            })
            .collect();
        out.push_str(&format!("tls           {}\n", roles.join(", ")));
        let mut sources = Vec::new();
        if security.needs_local_ca() {
            sources.push(format!(
                "a local CA that rmqctl up made for issuerRef, kept in {}",
                quote(&security::pki_dir(&plan.dir).display().to_string())
            ));
        }
        for tls in &security.tls {
            if let CertSource::Secret {
                name, ca: Some(_), ..
            } = &tls.source
            {
                let source = format!("ca.crt of Secret {name}");
                if !sources.contains(&source) {
                    sources.push(source);
                }
            }
        }
        if !sources.is_empty() {
            out.push_str(&format!(
                "ca            {} ({})\n",
                quote(&security::ca_bundle(&plan.dir).display().to_string()),
                sources.join("; ")
            ));
        }
    }
    if let (Some(acl), Some(first)) = (&security.acl, plan.brokers.first()) {
        let file = security::acl_home(&plan.dir, &first.name)
            .join("conf")
            .join(ACL_FILE);
        out.push_str(&format!(
            "acl           on, accounts in {} (each broker has its own copy of Secret {}, \
             rewritten at every up)\n",
            quote(&file.display().to_string()),
            acl.secret
        ));
    }
    out
}

/// Global flags a client needs: TLS when every role serves it or a port refuses plain
/// clients, checked with the CA bundle when every role's CA is known; a client certificate
/// when a role requires one; an account with ACL. Each starts with a space.
fn client_flags(plan: &Plan, security: &Security) -> String {
    let mut flags = String::new();
    let every_role = security.tls.len() == 2;
    let enforcing = security
        .tls
        .iter()
        .any(|t| t.mode == rmq_operator::crd::TlsMode::Enforcing);
    if every_role || enforcing {
        if security.tls.iter().all(|t| t.ca_known()) {
            flags.push_str(&format!(
                " --tls-ca {}",
                quote(&security::ca_bundle(&plan.dir).display().to_string())
            ));
        } else {
            flags.push_str(" --tls");
        }
        let requiring: Vec<_> = security
            .tls
            .iter()
            .filter(|t| t.client_auth == ClientAuth::Require)
            .collect();
        if !requiring.is_empty() {
            if requiring.iter().all(|t| t.source == CertSource::LocalCa) {
                let (cert, key) = security::client_pair(&plan.dir);
                flags.push_str(&format!(
                    " --tls-cert {} --tls-key {}",
                    quote(&cert.display().to_string()),
                    quote(&key.display().to_string())
                ));
            } else {
                flags.push_str(" --tls-cert CERT.pem --tls-key CERT-KEY.pem");
            }
        }
    }
    if security.acl.is_some() {
        flags.push_str(" --access-key KEY --secret-key SECRET");
    }
    flags
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `text` as one shell word: unchanged when it needs no quoting, else in single quotes.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '+' | '=')
        });
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::local::manifest::{parse, validate_local};
    use crate::local::plan::plan;
    use crate::local::security::resolve;

    fn plan_of(spec: &str) -> Plan {
        plan_and_security(spec, "").0
    }

    /// The plan and resolved security of a cluster with `spec`, with `extra` documents.
    fn plan_and_security(spec: &str, extra: &str) -> (Plan, Security) {
        let text = format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo}}\nspec: {spec}\n{extra}"
        );
        let parsed = parse(&text).unwrap();
        let cluster = validate_local(parsed.cluster).unwrap();
        let security = resolve(&cluster, &parsed.secrets).unwrap();
        (
            plan(&cluster, Path::new("/state/demo"), 9876).unwrap(),
            security,
        )
    }

    #[test]
    fn the_detached_summary_lists_addresses_brokers_logs_and_the_commands_to_try_and_stop() {
        let summary = render(
            &plan_of("{}"),
            &Security::default(),
            "target/release/rmqctl",
            true,
        );
        assert_eq!(
            summary,
            "\
RocketCluster demo is up: 2 name servers, 1 broker
name servers  127.0.0.1:9876;127.0.0.1:9877
#Group         #ID  #Role         #Flush       #Addr
demo-broker-0    0  ASYNC_MASTER  ASYNC_FLUSH  127.0.0.1:10911
state         /state/demo
logs          /state/demo/logs
try           target/release/rmqctl clusterList -n '127.0.0.1:9876;127.0.0.1:9877'   (clients: NAMESRV_ADDR='127.0.0.1:9876;127.0.0.1:9877')
stop          target/release/rmqctl down --dir /state/demo
"
        );
    }

    #[test]
    fn the_foreground_summary_says_how_to_stop() {
        let summary = render(&plan_of("{}"), &Security::default(), "rmqctl", false);
        assert!(summary.contains("\nstop          Ctrl-C (or SIGTERM to pid "));
    }

    #[test]
    fn with_acl_and_tls_from_issuer_ref_the_summary_names_the_ca_the_acl_file_and_the_flags() {
        let (plan, security) = plan_and_security(
            "{security: {acl: {enabled: true, secretName: acl}, tls: {nameServer: {mode: \
             enforcing, issuerRef: {name: ca}}, broker: {mode: enforcing, issuerRef: {name: ca}, \
             clientAuth: require}}}}",
            "---\napiVersion: v1\nkind: Secret\nmetadata: {name: acl}\nstringData: {plain_acl.yml: 'accounts: []'}\n",
        );
        let summary = render(&plan, &security, "rmqctl", true);
        let lines: Vec<&str> = summary
            .lines()
            .filter(|l| {
                ["tls ", "ca ", "acl ", "try "]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        assert_eq!(
            lines,
            [
                "tls           name servers enforcing, brokers enforcing (client certificates required)",
                "ca            /state/demo/tls/ca.crt (a local CA that rmqctl up made for issuerRef, kept in /state/demo/tls/pki)",
                "acl           on, accounts in /state/demo/broker/demo-broker-0-0/acl/conf/plain_acl.yml (each broker has its own copy of Secret acl, rewritten at every up)",
                "try           rmqctl --tls-ca /state/demo/tls/ca.crt --tls-cert /state/demo/tls/client.crt --tls-key /state/demo/tls/client.key --access-key KEY --secret-key SECRET clusterList -n '127.0.0.1:9876;127.0.0.1:9877'   (KEY, SECRET: an account of plain_acl.yml; clients: NAMESRV_ADDR='127.0.0.1:9876;127.0.0.1:9877')",
            ]
        );
    }

    #[test]
    fn only_permissive_tls_on_one_role_leaves_clients_plain_and_says_so() {
        let (plan, security) = plan_and_security(
            "{security: {tls: {nameServer: {issuerRef: {name: ca}}}}}",
            "",
        );
        let summary = render(&plan, &security, "rmqctl", true);
        assert!(
            summary.contains("\ntls           name servers permissive, brokers plain\n"),
            "{summary}"
        );
        assert!(
            summary.contains("\ntry           rmqctl clusterList -n "),
            "{summary}"
        );
    }

    #[test]
    fn words_with_shell_characters_are_single_quoted() {
        assert_eq!(quote("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(quote("a;b"), "'a;b'");
        assert_eq!(quote("it's here"), r"'it'\''s here'");
        assert_eq!(quote(""), "''");
    }
}
