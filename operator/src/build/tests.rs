//! Tests of the builders: golden child objects from YAML fixtures, and the properties every
//! child must have.

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};

use super::pod::{CONFIG_HASH_ANNOTATION, TEMPLATE_HASH_ANNOTATION};
use super::rollout::{self, RolloutPlan};
use super::*;
use crate::crd::RocketCluster;
use crate::validate::{Environment, validate};

/// A validated cluster `demo` in namespace `mq` with the given `spec:` YAML.
pub(crate) fn validated(spec_yaml: &str) -> ValidatedCluster {
    let yaml = format!(
        "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo, namespace: mq, uid: uid-demo, generation: 1}}\n{spec_yaml}"
    );
    let cluster: RocketCluster = serde_yaml::from_str(&yaml).expect("fixture parses");
    validate(&cluster, &Environment::default()).expect("fixture is valid")
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/build")
}

/// All objects of `resources` as one multi-document YAML, in apply order.
pub(crate) fn to_yaml(resources: &ClusterResources) -> String {
    let mut docs = Vec::new();
    let mut push = |kind: &str, api: &str, v: serde_json::Value| {
        let mut v = v;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("apiVersion".into(), api.into());
            obj.insert("kind".into(), kind.into());
        }
        docs.push(serde_yaml::to_string(&v).expect("yaml"));
    };
    for s in &resources.services {
        push("Service", "v1", serde_json::to_value(s).expect("json"));
    }
    for c in &resources.config_maps {
        push("ConfigMap", "v1", serde_json::to_value(c).expect("json"));
    }
    for c in &resources.certificates {
        push(
            "Certificate",
            "cert-manager.io/v1",
            serde_json::to_value(c).expect("json"),
        );
    }
    for p in &resources.pdbs {
        push(
            "PodDisruptionBudget",
            "policy/v1",
            serde_json::to_value(p).expect("json"),
        );
    }
    for s in &resources.stateful_sets {
        push(
            "StatefulSet",
            "apps/v1",
            serde_json::to_value(s).expect("json"),
        );
    }
    docs.join("---\n")
}

/// Builds `<case>.yaml` and compares with `<case>.expected.yaml`; `UPDATE_GOLDEN=1` rewrites it.
fn golden(case: &str) {
    let dir = fixtures();
    let input = std::fs::read_to_string(dir.join(format!("{case}.yaml"))).expect("fixture");
    let cluster: RocketCluster = serde_yaml::from_str(&input).expect("fixture parses");
    let cluster = validate(&cluster, &Environment::default()).expect("fixture is valid");
    let actual = to_yaml(&build(&cluster));
    let expected_path = dir.join(format!("{case}.expected.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &actual).expect("write golden");
    }
    let expected = std::fs::read_to_string(&expected_path).expect("golden file exists");
    assert!(
        expected == actual,
        "{case}: built objects differ from {}; rerun with UPDATE_GOLDEN=1 and review the diff",
        expected_path.display()
    );
}

#[test]
fn minimal_cluster_builds_the_golden_objects() {
    golden("minimal");
}

#[test]
fn sync_master_cluster_builds_the_golden_objects() {
    golden("sync-master");
}

#[test]
fn multi_group_cluster_with_overrides_builds_the_golden_objects() {
    golden("multi-group");
}

#[test]
fn cluster_with_acl_and_tls_builds_the_golden_objects() {
    golden("secure");
}

#[test]
fn cluster_behind_node_ports_builds_the_golden_objects() {
    golden("node-port");
}

#[test]
fn cluster_behind_load_balancers_builds_the_golden_objects() {
    golden("load-balancer");
}

#[test]
fn objects_are_built_in_apply_order_with_one_of_each_per_group() {
    let r = build(&validated("spec: {broker: {groups: 2}}"));
    let names = |v: Vec<Option<String>>| v.into_iter().flatten().collect::<Vec<_>>();
    assert_eq!(
        names(r.services.iter().map(|s| s.metadata.name.clone()).collect()),
        ["demo-namesrv", "demo-broker-0", "demo-broker-1"]
    );
    let configs = names(
        r.config_maps
            .iter()
            .map(|s| s.metadata.name.clone())
            .collect(),
    );
    assert_eq!(configs[..2], ["demo-namesrv-config", "demo-discovery"]);
    // A group's ConfigMap is named after its config: demo-broker-<g>-config-<10 hex digits>.
    for (g, name) in configs[2..].iter().enumerate() {
        let hash = name
            .strip_prefix(&format!("demo-broker-{g}-config-"))
            .unwrap_or_default();
        assert!(
            hash.len() == 10 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{name}"
        );
    }
    assert_eq!(configs.len(), 4);
    assert_eq!(
        names(r.pdbs.iter().map(|s| s.metadata.name.clone()).collect()),
        ["demo-namesrv", "demo-broker-0", "demo-broker-1"]
    );
    assert_eq!(
        names(
            r.stateful_sets
                .iter()
                .map(|s| s.metadata.name.clone())
                .collect()
        ),
        ["demo-namesrv", "demo-broker-0", "demo-broker-1"]
    );
}

#[test]
fn every_child_has_the_controller_owner_reference_and_common_labels() {
    let c = validated(
        "spec: {broker: {groups: 2, replicasPerGroup: 1}, security: {tls: {nameServer: {issuerRef: {name: ca}}, broker: {issuerRef: {name: ca}}}}}",
    );
    let r = build(&c);
    assert_eq!(r.certificates.len(), 2);
    let metas = r
        .services
        .iter()
        .map(|o| &o.metadata)
        .chain(r.config_maps.iter().map(|o| &o.metadata))
        .chain(r.certificates.iter().map(|o| &o.metadata))
        .chain(r.pdbs.iter().map(|o| &o.metadata))
        .chain(r.stateful_sets.iter().map(|o| &o.metadata));
    for meta in metas {
        assert_eq!(meta.owner_references, Some(vec![owner_reference(&c)]));
        let labels = meta.labels.as_ref().expect("labels");
        assert_eq!(
            labels.get(labels::INSTANCE).map(String::as_str),
            Some("demo")
        );
        assert_eq!(
            labels.get(labels::MANAGED_BY).map(String::as_str),
            Some("rmq-operator")
        );
        assert_eq!(meta.namespace.as_deref(), Some("mq"));
    }
}

#[test]
fn group_config_map_has_one_broker_conf_per_pod_keyed_by_pod_name() {
    let c = validated("spec: {broker: {replicasPerGroup: 2}}");
    let cm = config_map::broker_group(&c, 0, &external::Observed::default());
    let data = cm.data.expect("data");
    let keys: Vec<_> = data.keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "demo-broker-0-0.properties",
            "demo-broker-0-1.properties",
            "demo-broker-0-2.properties"
        ]
    );
    assert!(data["demo-broker-0-2.properties"].contains("\nbrokerId=2\nbrokerRole=SLAVE\n"));
}

#[test]
fn a_config_change_changes_the_pod_template_hash_of_that_group_only() {
    let before = build(&validated("spec: {broker: {groups: 2}}"));
    let after = build(&validated(
        "spec: {broker: {groups: 2, config: {deleteWhen: '03'}}}",
    ));
    let hash = |s: &StatefulSet| {
        s.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(CONFIG_HASH_ANNOTATION))
            .cloned()
            .expect("config hash")
    };
    // Name servers do not read broker config: their pods must not restart.
    assert_eq!(
        hash(&before.stateful_sets[0]),
        hash(&after.stateful_sets[0])
    );
    assert_ne!(
        hash(&before.stateful_sets[1]),
        hash(&after.stateful_sets[1])
    );
    assert_ne!(
        hash(&before.stateful_sets[2]),
        hash(&after.stateful_sets[2])
    );
}

#[test]
fn a_slave_or_a_name_server_more_changes_no_broker_pod_template_but_the_group_s_files_change() {
    let before = build(&validated(
        "spec: {broker: {groups: 2, replicasPerGroup: 1}, nameServer: {replicas: 2}}",
    ));
    let after = build(&validated(
        "spec: {broker: {groups: 2, replicasPerGroup: 2}, nameServer: {replicas: 3}}",
    ));
    for g in 1..=2 {
        let (b, a) = (&before.stateful_sets[g], &after.stateful_sets[g]);
        assert_eq!(
            b.spec.as_ref().map(|s| &s.template),
            a.spec.as_ref().map(|s| &s.template),
            "{:?}",
            a.metadata.name
        );
        assert_eq!(a.spec.as_ref().and_then(|s| s.replicas), Some(3));
    }
    // The files carry the new list for pods that start later, and the new slave's file.
    let files = after.config_maps[2].data.as_ref().expect("data");
    assert!(files["demo-broker-0-0.properties"].contains("demo-namesrv-2."));
    assert!(files.contains_key("demo-broker-0-2.properties"));
}

#[test]
fn building_twice_gives_identical_objects() {
    let c = validated("spec: {broker: {groups: 3, replicasPerGroup: 1, config: {a: b}}}");
    assert_eq!(build(&c), build(&c));
}

#[test]
fn disabled_pod_disruption_budget_builds_no_budgets() {
    let r = build(&validated(
        "spec: {broker: {podDisruptionBudget: {enabled: false}}}",
    ));
    assert!(r.pdbs.is_empty());
}

#[test]
fn pods_run_as_non_root_with_read_only_root_filesystem() {
    let r = build(&validated("spec: {}"));
    for sts in &r.stateful_sets {
        let pod = sts
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .expect("pod");
        assert_eq!(
            pod.security_context
                .as_ref()
                .and_then(|s| s.run_as_non_root),
            Some(true)
        );
        for c in &pod.containers {
            let sc = c.security_context.as_ref().expect("container security");
            assert_eq!(sc.read_only_root_filesystem, Some(true));
            assert_eq!(sc.allow_privilege_escalation, Some(false));
        }
    }
}

#[test]
fn affinity_override_replaces_the_default_group_spreading() {
    let default = build(&validated("spec: {}"));
    let pod = |r: &ClusterResources| {
        r.stateful_sets[1]
            .spec
            .clone()
            .and_then(|s| s.template.spec)
            .expect("pod")
    };
    let aff = pod(&default).affinity.expect("default affinity");
    let term = &aff
        .pod_anti_affinity
        .expect("anti")
        .preferred_during_scheduling_ignored_during_execution
        .expect("preferred")[0];
    assert_eq!(
        term.pod_affinity_term.topology_key,
        "kubernetes.io/hostname"
    );
    let sel = term
        .pod_affinity_term
        .label_selector
        .as_ref()
        .and_then(|s| s.match_labels.clone())
        .expect("selector");
    assert_eq!(sel.get(labels::BROKER_GROUP).map(String::as_str), Some("0"));

    let custom = build(&validated(
        "spec: {broker: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: In, values: [ssd]}]}]}}}}}",
    ));
    let aff = pod(&custom).affinity.expect("custom affinity");
    assert!(aff.pod_anti_affinity.is_none());
    assert!(aff.node_affinity.is_some());
}

#[test]
fn ephemeral_storage_uses_an_empty_dir_and_no_claim_templates() {
    let r = build(&validated(
        "spec: {broker: {storage: {type: Ephemeral, size: 1Gi}}}",
    ));
    let spec = r.stateful_sets[1].spec.as_ref().expect("spec");
    assert!(spec.volume_claim_templates.is_none());
    assert!(spec.persistent_volume_claim_retention_policy.is_none());
    let vols = spec
        .template
        .spec
        .as_ref()
        .and_then(|p| p.volumes.clone())
        .expect("volumes");
    let data = vols.iter().find(|v| v.name == "data").expect("data volume");
    assert_eq!(
        data.empty_dir
            .as_ref()
            .and_then(|e| e.size_limit.clone())
            .map(|q| q.0),
        Some("1Gi".to_owned())
    );
}

// ---- rollout gate ----

/// A live copy of `sts` as the API server would return it: same template hash (unless
/// `template_hash` is given) and a status.
fn live(sts: &StatefulSet, settled: bool, template_hash: Option<&str>) -> StatefulSet {
    let mut l = sts.clone();
    if let Some(h) = template_hash {
        l.metadata
            .annotations
            .get_or_insert_default()
            .insert(TEMPLATE_HASH_ANNOTATION.into(), h.into());
    }
    let replicas = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    l.metadata.generation = Some(2);
    l.status = Some(StatefulSetStatus {
        observed_generation: Some(2),
        replicas,
        ready_replicas: Some(if settled { replicas } else { replicas - 1 }),
        updated_replicas: Some(replicas),
        current_revision: Some("r1".into()),
        update_revision: Some("r1".into()),
        ..StatefulSetStatus::default()
    });
    l
}

#[test]
fn config_change_on_all_groups_holds_every_pod_until_the_planner_lowers_a_partition() {
    let before = build(&validated(
        "spec: {broker: {groups: 3, replicasPerGroup: 1}}",
    ));
    let live_sets: Vec<_> = before
        .stateful_sets
        .iter()
        .map(|s| live(s, true, None))
        .collect();
    let mut after = build(&validated(
        "spec: {broker: {groups: 3, replicasPerGroup: 1, config: {x: y}}}",
    ));
    let plan = rollout::gate(&mut after, &live_sets);
    assert_eq!(
        plan,
        RolloutPlan {
            rolling: Some(0),
            held: vec![1, 2],
            changed: vec![0, 1, 2],
            created: vec![]
        }
    );
    for sts in &after.stateful_sets[1..] {
        assert_eq!(rollout::partition(sts), Some(2), "{:?}", sts.metadata.name);
    }
}

#[test]
fn a_group_mid_roll_keeps_the_partition_the_planner_set() {
    let desired = build(&validated(
        "spec: {broker: {groups: 2, replicasPerGroup: 1}}",
    ));
    // Group 0 finished rolling; group 1 has the new template and its slave's turn came.
    let mut rolling = live(&desired.stateful_sets[2], false, None);
    if let Some(ru) = rolling
        .spec
        .as_mut()
        .and_then(|s| s.update_strategy.as_mut())
        .and_then(|u| u.rolling_update.as_mut())
    {
        ru.partition = Some(1);
    }
    let live_sets = vec![
        live(&desired.stateful_sets[0], true, None),
        live(&desired.stateful_sets[1], true, None),
        rolling,
    ];
    let mut next = desired.clone();
    let plan = rollout::gate(&mut next, &live_sets);
    assert_eq!(plan.rolling, Some(1));
    assert!(plan.held.is_empty() && plan.changed.is_empty());
    assert_eq!(rollout::partition(&next.stateful_sets[1]), Some(0));
    assert_eq!(rollout::partition(&next.stateful_sets[2]), Some(1));
}

#[test]
fn settled_groups_with_unchanged_templates_are_left_alone() {
    let mut desired = build(&validated("spec: {broker: {groups: 2}}"));
    let live_sets: Vec<_> = desired
        .stateful_sets
        .iter()
        .map(|s| live(s, true, None))
        .collect();
    let plan = rollout::gate(&mut desired, &live_sets);
    assert_eq!(plan, RolloutPlan::default());
}

#[test]
fn new_groups_are_created_without_waiting_for_a_roll() {
    let old = build(&validated("spec: {broker: {groups: 1}}"));
    let live_sets = vec![
        live(&old.stateful_sets[0], true, None),
        live(&old.stateful_sets[1], false, Some("old")),
    ];
    let mut desired = build(&validated("spec: {broker: {groups: 3}}"));
    let plan = rollout::gate(&mut desired, &live_sets);
    assert_eq!(plan.rolling, Some(0));
    assert_eq!(plan.created, vec![1, 2]);
    assert_eq!(rollout::partition(&desired.stateful_sets[2]), Some(0));
    assert_eq!(rollout::partition(&desired.stateful_sets[3]), Some(0));
}

#[test]
fn name_servers_keep_their_kv_file_on_a_volume_a_claim_each_when_persistent() {
    let ephemeral = build(&validated("spec: {}"));
    let namesrv = &ephemeral.stateful_sets[0];
    let pod = namesrv
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod");
    let data = pod
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "data")
        .expect("data volume");
    assert!(data.empty_dir.is_some());
    let mounts = pod.containers[0].volume_mounts.iter().flatten();
    assert!(
        mounts
            .clone()
            .any(|m| m.name == "data" && m.mount_path == "/data")
    );
    let conf = &ephemeral.config_maps[0].data.as_ref().expect("data")["namesrv.properties"];
    assert!(
        conf.contains("\nkvConfigPath=/data/namesrv/kvConfig.json\n"),
        "{conf}"
    );

    let persistent = build(&validated(
        "spec: {nameServer: {storage: {type: Persistent, size: 2Gi, storageClassName: fast}}}",
    ));
    let spec = persistent.stateful_sets[0].spec.as_ref().expect("spec");
    let claims = spec.volume_claim_templates.as_ref().expect("claims");
    assert_eq!(claims[0].metadata.name.as_deref(), Some("data"));
    let claim = claims[0].spec.as_ref().expect("claim spec");
    assert_eq!(claim.storage_class_name.as_deref(), Some("fast"));
    let pod = spec.template.spec.as_ref().expect("pod");
    assert!(!pod.volumes.iter().flatten().any(|v| v.name == "data"));
}

#[test]
fn a_name_server_roll_waits_longer_than_the_brokers_registration_period_between_pods() {
    let r = build(&validated("spec: {broker: {groups: 2}}"));
    let min_ready = |s: &StatefulSet| s.spec.as_ref().and_then(|s| s.min_ready_seconds);
    assert_eq!(
        min_ready(&r.stateful_sets[0]),
        Some(statefulset::NAMESRV_MIN_READY_SECONDS)
    );
    const { assert!(statefulset::NAMESRV_MIN_READY_SECONDS > 30) };
    // Broker pods are waited on by the change planner (ready, caught up) instead.
    assert_eq!(min_ready(&r.stateful_sets[1]), None);
    assert_eq!(min_ready(&r.stateful_sets[2]), None);
}
