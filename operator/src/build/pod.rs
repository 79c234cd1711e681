//! What name server and broker pods share: non-root security, probes, default spreading, hashes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, HTTPGetAction, PodAffinityTerm, PodAntiAffinity, PodSecurityContext,
    Probe, SeccompProfile, SecurityContext, TCPSocketAction, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Pod template annotation holding the hash of the rendered config: a config change changes the
/// template, so the StatefulSet rolls its pods.
pub const CONFIG_HASH_ANNOTATION: &str = "rocketmq.rs/config-hash";
/// StatefulSet annotation holding the hash of the whole desired pod template; the rollout gate
/// compares it with the live object to know a group is about to roll.
pub const TEMPLATE_HASH_ANNOTATION: &str = "rocketmq.rs/template-hash";
/// UID and GID the images run as (the `rocketmq` user of `images/broker/Dockerfile`).
pub const RUN_AS: i64 = 10001;

/// Pod-level security: non-root, fixed IDs, the runtime's default seccomp profile.
pub fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        fs_group: Some(RUN_AS),
        fs_group_change_policy: Some("OnRootMismatch".to_owned()),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// Container-level security: read-only root filesystem (the binaries write only to mounted
/// volumes), no privilege escalation, no capabilities.
pub fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    }
}

/// Preferred anti-affinity between pods matching `selector`: spread over nodes when possible,
/// still schedulable on a single node.
pub fn spread_over_nodes(selector: BTreeMap<String, String>) -> Affinity {
    Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        label_selector: Some(LabelSelector {
                            match_labels: Some(selector),
                            ..LabelSelector::default()
                        }),
                        topology_key: "kubernetes.io/hostname".to_owned(),
                        ..PodAffinityTerm::default()
                    },
                },
            ]),
            ..PodAntiAffinity::default()
        }),
        ..Affinity::default()
    }
}

/// A TCP probe on the named container port.
pub fn tcp_probe(port: &str, initial_delay_seconds: i32, period_seconds: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.to_owned()),
            ..TCPSocketAction::default()
        }),
        initial_delay_seconds: Some(initial_delay_seconds),
        period_seconds: Some(period_seconds),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

/// A probe asking `GET path` on the named container port (the broker's `/readyz`, `/livez`).
pub fn http_probe(
    path: &str,
    port: &str,
    initial_delay_seconds: i32,
    period_seconds: i32,
) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String(port.to_owned()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay_seconds),
        period_seconds: Some(period_seconds),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

/// Hex SHA-256 of `value`'s JSON (maps are ordered, so the hash is stable).
pub fn hash_of<T: Serialize>(value: &T) -> String {
    // Serializing k8s-openapi types and string maps to JSON cannot fail (no non-string keys).
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
