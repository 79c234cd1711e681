#![allow(clippy::unwrap_used)]
//! The operator's admin calls (drains, topic syncs, name-server lists, rolls) against real
//! processes with `spec.security` on: `rmqctl up` of `deploy/examples/local/secure.yaml` (ACL on
//! every broker, TLS enforcing on every port, a local CA standing for `issuerRef`), with the
//! operator's admin account named. The operator's own code decides from the spec how to reach
//! the cluster (`access::plan`), reads the material from Secret objects holding the files the
//! local CA made, and makes its calls over TLS, checked and signed: writes of a group, taking
//! them off and giving them back, runtime figures, messages left, the name-server list.
//!
//! Needs the real `rmq-namesrv` and `rmq-broker` next to `rmqctl` (`cargo build -p rmq-namesrv
//! -p rmq-broker`) and the openssl CLI (`scripts/install-clients.sh`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use rmq_operator::controller::access::{self, Access, Account};
use rmq_operator::controller::admin::{ClusterAdmin, Remoting};
use rmq_operator::plan::Writes;
use rmq_remoting::ClientConfig;

#[path = "local_support/mod.rs"]
mod local_support;
use local_support::{Down, Leftovers, free_base_port, rmqctl, text, up_detached};
use rmqctl::local::manifest;
use rmqctl::local::plan::{BROKER_PORT_OFFSET, BROKER_PORT_STEP};

const TIMEOUT: Duration = Duration::from_secs(5);

/// The secure example with the brokers' own admin account also named as the operator's.
fn manifest(dir: &Path) -> PathBuf {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/examples/local/secure.yaml");
    let text = std::fs::read_to_string(example).unwrap();
    let named = text.replace(
        "      innerCredentialsSecret: vault-inner\n",
        "      innerCredentialsSecret: vault-inner\n      adminCredentialsSecret: vault-inner\n",
    );
    assert_ne!(named, text, "the example names its inner account");
    let path = dir.join("secure-admin.yaml");
    std::fs::write(&path, named).unwrap();
    path
}

/// A Secret `name` holding `files` of `dir` under the same keys.
fn secret_of_files(name: &str, dir: &Path, files: &[&str]) -> Secret {
    let data: BTreeMap<String, ByteString> = files
        .iter()
        .map(|f| {
            (
                (*f).to_owned(),
                ByteString(std::fs::read(dir.join(f)).unwrap()),
            )
        })
        .collect();
    Secret {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        data: Some(data),
        ..Secret::default()
    }
}

#[test]
fn the_operators_admin_calls_reach_a_secured_cluster_over_checked_tls_signed_by_its_account() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let _leftovers = Leftovers(state.clone());
    let path = manifest(tmp.path());
    let base = free_base_port(2);
    let up = up_detached(&path, &state, base);
    assert!(
        up.status.success(),
        "{}\n{}",
        text(&up.stderr),
        text(&up.stdout)
    );
    let _down = Down(state.clone());

    // What the operator decides from the spec: TLS to both roles, checked against their CA
    // (issuerRef), signed by the admin account.
    let (_, parsed) = manifest::load(&path).unwrap();
    let cluster = manifest::validate_local(parsed.cluster).unwrap();
    let plan = access::plan(&cluster);
    assert_eq!(plan.account, Account::Secret("vault-inner".into()));
    let (Some(namesrv_tls), Some(broker_tls)) = (plan.namesrv.clone(), plan.broker.clone()) else {
        panic!("both roles serve TLS: {plan:?}");
    };
    assert!(
        namesrv_tls.verify_server && broker_tls.verify_server,
        "{plan:?}"
    );

    // The Secrets the operator would read, holding what the local CA made.
    let tls = state.join("tls");
    let files = ["tls.crt", "tls.key", "ca.crt"];
    let namesrv_secret = secret_of_files(&namesrv_tls.secret, &tls.join("namesrv"), &files);
    let broker_secret = secret_of_files(&broker_tls.secret, &tls.join("broker"), &files);
    let account: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "vault-inner"},
        "stringData": {"accessKey": "rocketmq-inner", "secretKey": "local-inner-secret"},
    }))
    .unwrap();
    let credentials = access::credentials(&account, "vault-inner").unwrap();
    let config = |tls| ClientConfig {
        connect_timeout: TIMEOUT,
        credentials: Some(credentials.clone()),
        tls: Some(tls),
        ..ClientConfig::default()
    };
    let reached = Access {
        namesrv: config(access::client_tls(&namesrv_secret, &namesrv_tls).unwrap()),
        broker: config(access::client_tls(&broker_secret, &broker_tls).unwrap()),
    };
    let unsigned = Access {
        namesrv: ClientConfig {
            credentials: None,
            ..reached.namesrv.clone()
        },
        broker: ClientConfig {
            credentials: None,
            ..reached.broker.clone()
        },
    };

    let namesrvs = vec![format!("127.0.0.1:{base}")];
    let master = format!("127.0.0.1:{}", base + BROKER_PORT_OFFSET);
    let slave = format!("127.0.0.1:{}", base + BROKER_PORT_OFFSET + BROKER_PORT_STEP);
    let group = "vault-broker-0";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let admin = Remoting::new(reached, TIMEOUT);
        assert_eq!(
            admin.writes(&namesrvs, group).await,
            Writes { on: 1, of: 1 }
        );
        let figures = admin
            .runtime(&master)
            .await
            .expect("the master answers, signed");
        assert!(figures.max_offset.is_some(), "{figures:?}");
        assert!(admin.runtime(&slave).await.is_some());
        assert_eq!(admin.messages_left(&master).await, Some(0));
        assert_eq!(
            admin.namesrvs_of(&master).await.as_deref(),
            Some(namesrvs[0].as_str())
        );
        admin.tell_namesrvs(&master, &namesrvs[0]).await.unwrap();
        assert_eq!(admin.missing_metadata(&master, &master).await, Some(0));

        admin.hold_writes(&namesrvs, group).await.unwrap();
        assert_eq!(
            admin.writes(&namesrvs, group).await,
            Writes { on: 0, of: 1 }
        );
        admin.release_writes(&namesrvs, group).await.unwrap();
        assert_eq!(
            admin.writes(&namesrvs, group).await,
            Writes { on: 1, of: 1 }
        );

        // Without the account the brokers answer nothing the operator could act on.
        let refused = Remoting::new(unsigned, TIMEOUT);
        assert_eq!(refused.runtime(&master).await, None);
        assert_eq!(refused.messages_left(&master).await, None);
        assert!(refused.tell_namesrvs(&master, &namesrvs[0]).await.is_err());
    });

    let down = rmqctl(&["down", "--dir", state.to_str().unwrap()]);
    assert!(down.status.success(), "{}", text(&down.stderr));
}
