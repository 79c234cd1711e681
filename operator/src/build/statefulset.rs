//! StatefulSets: one for the name servers, one per broker group.
//!
//! A broker group's StatefulSet runs `1 + replicasPerGroup` pods; pod ordinal `o` reads
//! `/etc/rocketmq/<pod>.properties` (brokerId `o`, ordinal 0 the master) from the group's
//! ConfigMap, named after its config hash. Updates use `RollingUpdate` behind a `partition`:
//! [`super::rollout`] holds every pod of a changed group, and the change planner lowers the
//! partition one pod at a time, slaves first ([`crate::controller::roll`]). Name servers roll
//! with `RollingUpdate` alone, one pod at a time, each ready before the next.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, LocalObjectReference, ObjectFieldSelector, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::labels::{self, Component};
use super::pod::{self, CONFIG_HASH_ANNOTATION, TEMPLATE_HASH_ANNOTATION};
use super::{broker_conf, config_map, metadata, names, security};
use crate::crd::{ExternalAccessType, StorageType};
use crate::validate::ValidatedCluster;

/// How long a restarted name server is ready before the next one restarts: longer than the
/// brokers' registration period (`registerNameServerPeriod`, 30 s).
pub const NAMESRV_MIN_READY_SECONDS: i32 = 35;
/// Where ConfigMaps are mounted.
pub const CONFIG_DIR: &str = "/etc/rocketmq";
const CONFIG_VOLUME: &str = "config";
const DATA_VOLUME: &str = "data";
const TMP_VOLUME: &str = "tmp";

/// StatefulSet of the name servers, configured from `config` (their ConfigMap).
pub fn namesrv(cluster: &ValidatedCluster, config: &ConfigMap) -> StatefulSet {
    let spec = &cluster.spec;
    let secured = security::namesrv_pod(cluster);
    let container = Container {
        name: "namesrv".to_owned(),
        image: Some(spec.image.name_server.clone()),
        image_pull_policy: Some(spec.image.pull_policy.as_str().to_owned()),
        command: Some(vec![
            "rmq-namesrv".to_owned(),
            "-c".to_owned(),
            format!("{CONFIG_DIR}/{}", config_map::NAMESRV_CONF_KEY),
        ]),
        ports: Some(with_metrics(
            cluster,
            vec![container_port("namesrv", names::NAMESRV_PORT)],
        )),
        readiness_probe: Some(pod::tcp_probe("namesrv", 2, 5)),
        liveness_probe: Some(pod::tcp_probe("namesrv", 10, 10)),
        resources: spec.name_server.resources.clone(),
        security_context: Some(pod::container_security_context()),
        volume_mounts: Some(
            [
                vec![config_mount(), tmp_mount(), data_mount()],
                secured.mounts,
            ]
            .concat(),
        ),
        ..Container::default()
    };
    let storage = &spec.name_server.storage;
    let (data, claims) = data_storage(
        cluster,
        Component::NameServer,
        storage.type_,
        &storage.size,
        storage.storage_class_name.as_ref(),
    );
    let volumes = [
        vec![
            config_volume(names::namesrv_config(cluster)),
            empty_dir(TMP_VOLUME, None),
        ],
        data.into_iter().collect(),
        secured.volumes,
    ]
    .concat();
    let affinity = spec.name_server.affinity.clone().unwrap_or_else(|| {
        pod::spread_over_nodes(labels::selector(cluster, Component::NameServer))
    });
    stateful_set(
        cluster,
        names::namesrv(cluster),
        Component::NameServer,
        cluster.spec.name_server.replicas,
        pod_spec(cluster, container, volumes, affinity, 30),
        pod::hash_of(&config.data),
        claims,
        None,
    )
}

/// StatefulSet of broker group `group`, configured from its ConfigMap (one file per pod).
pub fn broker_group(cluster: &ValidatedCluster, group: u32) -> StatefulSet {
    let spec = &cluster.spec;
    let broker = &spec.broker;
    let component = Component::BrokerGroup(group);
    let secured = security::broker_pod(cluster);
    let pod_name = EnvVar {
        name: "POD_NAME".to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: "metadata.name".to_owned(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    };
    let outside = broker_outside(cluster);
    let container = Container {
        name: "broker".to_owned(),
        image: Some(spec.image.broker.clone()),
        image_pull_policy: Some(spec.image.pull_policy.as_str().to_owned()),
        // Kubernetes expands $(POD_NAME) from the env var below: each pod reads its own file.
        command: Some(
            [
                vec![
                    "rmq-broker".to_owned(),
                    "-c".to_owned(),
                    format!("{CONFIG_DIR}/$(POD_NAME).properties"),
                ],
                outside.args,
            ]
            .concat(),
        ),
        env: Some([vec![pod_name], outside.env, secured.env].concat()),
        ports: Some(with_metrics(
            cluster,
            [
                outside.broker_port.into_iter().collect(),
                vec![
                    container_port("ha", names::BROKER_HA_PORT),
                    container_port("health", names::BROKER_HEALTH_PORT),
                ],
            ]
            .concat(),
        )),
        // Ready once registered with a name server and, for a slave, replicating close
        // behind its master: what a roll waits for before the next pod.
        readiness_probe: Some(pod::http_probe("/readyz", "health", 5, 5)),
        liveness_probe: Some(pod::http_probe("/livez", "health", 30, 10)),
        resources: broker.resources.clone(),
        security_context: Some(pod::container_security_context()),
        volume_mounts: Some(
            [
                vec![config_mount(), data_mount(), tmp_mount()],
                secured.mounts,
            ]
            .concat(),
        ),
        ..Container::default()
    };
    let mut volumes = [
        vec![
            config_volume(config_map::broker_group_name(cluster, group)),
            empty_dir(TMP_VOLUME, None),
        ],
        secured.volumes,
    ]
    .concat();
    let (volume, claims) = data_storage(
        cluster,
        component,
        broker.storage.type_,
        &broker.storage.size,
        broker.storage.storage_class_name.as_ref(),
    );
    volumes.extend(volume);
    let retention = (broker.storage.type_ == StorageType::Persistent).then(|| {
        StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_scaled: Some(broker.pvc_retention.when_scaled.as_str().to_owned()),
            when_deleted: Some(broker.pvc_retention.when_deleted.as_str().to_owned()),
        }
    });
    let affinity = broker
        .affinity
        .clone()
        .unwrap_or_else(|| pod::spread_over_nodes(labels::selector(cluster, component)));
    let replicas = i32::try_from(cluster.pods_per_group()).unwrap_or(1);
    // Brokers flush and hand over to slaves on SIGTERM: give them time.
    let pod = pod_spec(cluster, container, volumes, affinity, 60);
    stateful_set(
        cluster,
        names::broker_group(cluster, group),
        component,
        replicas,
        pod,
        broker_conf::group_hash(cluster, group),
        claims,
        retention,
    )
}

/// What `spec.broker.externalAccess` changes in a broker container.
struct Outside {
    /// Arguments after `-c <file>`.
    args: Vec<String>,
    /// Variables they expand.
    env: Vec<EnvVar>,
    /// The container port `broker`: absent under NodePort, where each pod of the group listens
    /// on a port of its own (its `listenPort` in its own file) and one template cannot say which.
    broker_port: Option<ContainerPort>,
}

fn broker_outside(cluster: &ValidatedCluster) -> Outside {
    let broker = Some(container_port("broker", names::BROKER_PORT));
    match cluster.spec.broker.external_access.type_ {
        ExternalAccessType::None => Outside {
            args: Vec::new(),
            env: Vec::new(),
            broker_port: broker,
        },
        // Kubernetes expands $(HOST_IP): the IP of the node the pod was placed on.
        ExternalAccessType::NodePort => Outside {
            args: vec!["--set".to_owned(), "brokerIP1=$(HOST_IP)".to_owned()],
            env: vec![EnvVar {
                name: "HOST_IP".to_owned(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "status.hostIP".to_owned(),
                        ..ObjectFieldSelector::default()
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            }],
            broker_port: None,
        },
        // The file appears in the mounted ConfigMap once the operator has the address.
        ExternalAccessType::LoadBalancer => Outside {
            args: vec![
                "--broker-ip1-file".to_owned(),
                format!("{CONFIG_DIR}/$(POD_NAME){}", names::EXTERNAL_ADDRESS_SUFFIX),
            ],
            env: Vec::new(),
            broker_port: broker,
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn stateful_set(
    cluster: &ValidatedCluster,
    name: String,
    component: Component,
    replicas: i32,
    pod: PodSpec,
    config_hash: String,
    claims: Vec<PersistentVolumeClaim>,
    retention: Option<StatefulSetPersistentVolumeClaimRetentionPolicy>,
) -> StatefulSet {
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels::common(cluster, component)),
            annotations: Some(BTreeMap::from([(
                CONFIG_HASH_ANNOTATION.to_owned(),
                config_hash,
            )])),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    };
    let mut meta = metadata(cluster, name.clone(), component);
    meta.annotations = Some(BTreeMap::from([(
        TEMPLATE_HASH_ANNOTATION.to_owned(),
        pod::hash_of(&template),
    )]));
    StatefulSet {
        metadata: meta,
        spec: Some(StatefulSetSpec {
            service_name: Some(name),
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels::selector(cluster, component)),
                ..LabelSelector::default()
            },
            // Start every pod at once: slaves need not wait for their master to be Ready.
            // Updates still go one pod at a time, highest ordinal first.
            pod_management_policy: Some("Parallel".to_owned()),
            // A restarted name server knows no broker until each registers again (every
            // registerNameServerPeriod, 30 s): the next one restarts only once this one has
            // been ready longer than that, so at most one name server at a time lacks routes.
            min_ready_seconds: (component == Component::NameServer)
                .then_some(NAMESRV_MIN_READY_SECONDS),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: Some(RollingUpdateStatefulSetStrategy {
                    partition: Some(0),
                    ..RollingUpdateStatefulSetStrategy::default()
                }),
            }),
            persistent_volume_claim_retention_policy: retention,
            volume_claim_templates: (!claims.is_empty()).then_some(claims),
            template,
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

fn pod_spec(
    cluster: &ValidatedCluster,
    container: Container,
    volumes: Vec<Volume>,
    affinity: k8s_openapi::api::core::v1::Affinity,
    grace_seconds: i64,
) -> PodSpec {
    let secrets = &cluster.spec.image.pull_secrets;
    PodSpec {
        containers: vec![container],
        volumes: Some(volumes),
        affinity: Some(affinity),
        security_context: Some(pod::pod_security_context()),
        termination_grace_period_seconds: Some(grace_seconds),
        automount_service_account_token: Some(false),
        image_pull_secrets: (!secrets.is_empty()).then(|| {
            secrets
                .iter()
                .map(|s| LocalObjectReference { name: s.clone() })
                .collect()
        }),
        ..PodSpec::default()
    }
}

/// `ports` plus the container port `metrics` when `spec.metrics.enabled`.
fn with_metrics(cluster: &ValidatedCluster, mut ports: Vec<ContainerPort>) -> Vec<ContainerPort> {
    if cluster.spec.metrics.enabled {
        ports.push(container_port(
            names::METRICS_PORT_NAME,
            broker_conf::metrics_port(cluster),
        ));
    }
    ports
}

fn container_port(name: &str, port: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: i32::from(port),
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    }
}

fn config_mount() -> VolumeMount {
    VolumeMount {
        name: CONFIG_VOLUME.to_owned(),
        mount_path: CONFIG_DIR.to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    }
}

fn tmp_mount() -> VolumeMount {
    VolumeMount {
        name: TMP_VOLUME.to_owned(),
        mount_path: "/tmp".to_owned(),
        ..VolumeMount::default()
    }
}

fn config_volume(config_map: String) -> Volume {
    Volume {
        name: CONFIG_VOLUME.to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map,
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The data volume of a pod: an emptyDir limited to `size`, or a claim template of `size`
/// (one PVC per pod).
fn data_storage(
    cluster: &ValidatedCluster,
    component: Component,
    type_: StorageType,
    size: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
    class: Option<&String>,
) -> (Option<Volume>, Vec<PersistentVolumeClaim>) {
    match type_ {
        StorageType::Ephemeral => (Some(empty_dir(DATA_VOLUME, Some(size.clone()))), Vec::new()),
        StorageType::Persistent => (
            None,
            vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(DATA_VOLUME.to_owned()),
                    labels: Some(labels::selector(cluster, component)),
                    ..ObjectMeta::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
                    storage_class_name: class.cloned(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([("storage".to_owned(), size.clone())])),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                ..PersistentVolumeClaim::default()
            }],
        ),
    }
}

fn data_mount() -> VolumeMount {
    VolumeMount {
        name: DATA_VOLUME.to_owned(),
        mount_path: broker_conf::DATA_DIR.to_owned(),
        ..VolumeMount::default()
    }
}

fn empty_dir(
    name: &str,
    size_limit: Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit,
            ..EmptyDirVolumeSource::default()
        }),
        ..Volume::default()
    }
}
