//! Volume changes a StatefulSet cannot take in place: `volumeClaimTemplates` are immutable, so
//! a grown `storage.size` (or a volume the operator adds to an existing StatefulSet) is applied
//! as Strimzi does: every existing claim is expanded to the new size (the StorageClass must
//! allow volume expansion), then the StatefulSet is deleted with its pods orphaned and created
//! again by the next apply; the new StatefulSet adopts the running pods, whose template did not
//! change, so none restarts.
//!
//! Only sizes may grow: CEL transition rules refuse a shrink, a new `storageClassName` or
//! another storage type before the change is stored.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// One claim to expand.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimResize {
    /// `<template>-<statefulset>-<ordinal>`.
    pub claim: String,
    pub size: Quantity,
}

/// A StatefulSet to recreate, with the claims to expand first.
#[derive(Clone, Debug, PartialEq)]
pub struct Recreate {
    pub stateful_set: String,
    pub claims: Vec<ClaimResize>,
}

/// What a claim template is for this decision: name, class, access modes, size in bytes.
type Shape = (
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<u128>,
);

fn shape(claim: &PersistentVolumeClaim) -> Shape {
    let spec = claim.spec.as_ref();
    (
        claim.metadata.name.clone(),
        spec.and_then(|s| s.storage_class_name.clone()),
        spec.and_then(|s| s.access_modes.clone()),
        size(claim).and_then(|q| bytes(&q.0)),
    )
}

/// A quantity in bytes (rounded up), as Kubernetes reads it: binary suffixes `Ki`..`Ei`,
/// decimal `k`..`E`, a decimal exponent (`1e9`), fractions (`0.5Gi`). The API server stores
/// quantities in canonical form (`0.5Gi` comes back as `512Mi`), so sizes are compared as
/// numbers, never as text.
pub fn bytes(quantity: &str) -> Option<u128> {
    let q = quantity.trim();
    let (number, multiplier): (&str, u128) = [
        ("Ki", 1u128 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ]
    .iter()
    .find_map(|(suffix, m)| q.strip_suffix(suffix).map(|n| (n, *m)))
    .unwrap_or((q, 1));
    let (mantissa, exponent) = match number.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<u32>().ok()?),
        None => (number, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let digits: u128 = format!("{whole}{fraction}").parse().ok()?;
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let numerator = digits
        .checked_mul(multiplier)?
        .checked_mul(10u128.checked_pow(exponent)?)?;
    Some(numerator.div_ceil(scale))
}

fn size(claim: &PersistentVolumeClaim) -> Option<Quantity> {
    claim
        .spec
        .as_ref()?
        .resources
        .as_ref()?
        .requests
        .as_ref()?
        .get("storage")
        .cloned()
}

fn templates(sts: &StatefulSet) -> &[PersistentVolumeClaim] {
    sts.spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_deref())
        .unwrap_or_default()
}

/// The StatefulSets of `desired` whose claim templates differ from the live one's, each with
/// the claims of the live pods whose template's size changed.
pub fn recreations(desired: &[StatefulSet], live: &[StatefulSet]) -> Vec<Recreate> {
    let mut out = Vec::new();
    for want in desired {
        let Some(have) = live.iter().find(|l| l.metadata.name == want.metadata.name) else {
            continue;
        };
        let (wanted, had) = (templates(want), templates(have));
        let same =
            wanted.len() == had.len() && wanted.iter().zip(had).all(|(w, h)| shape(w) == shape(h));
        if same {
            continue;
        }
        let name = want.metadata.name.clone().unwrap_or_default();
        let replicas = have.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let mut claims = Vec::new();
        for template in wanted {
            let Some(old) = had
                .iter()
                .find(|h| h.metadata.name == template.metadata.name)
            else {
                continue;
            };
            let (Some(new_size), Some(template_name)) = (size(template), &template.metadata.name)
            else {
                continue;
            };
            if size(old).and_then(|q| bytes(&q.0)) == bytes(&new_size.0) {
                continue;
            }
            for ordinal in 0..replicas.max(0) {
                claims.push(ClaimResize {
                    claim: format!("{template_name}-{name}-{ordinal}"),
                    size: new_size.clone(),
                });
            }
        }
        out.push(Recreate {
            stateful_set: name,
            claims,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::StatefulSetSpec;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn sts(name: &str, replicas: i32, sizes: &[(&str, &str)]) -> StatefulSet {
        let claims = sizes
            .iter()
            .map(|(claim, size)| PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some((*claim).to_owned()),
                    ..ObjectMeta::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some([("storage".to_owned(), Quantity((*size).into()))].into()),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                ..PersistentVolumeClaim::default()
            })
            .collect();
        StatefulSet {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..ObjectMeta::default()
            },
            spec: Some(StatefulSetSpec {
                replicas: Some(replicas),
                volume_claim_templates: Some(claims),
                ..StatefulSetSpec::default()
            }),
            ..StatefulSet::default()
        }
    }

    #[test]
    fn a_grown_size_expands_the_claim_of_every_live_pod_and_recreates_only_that_statefulset() {
        let desired = [
            sts("g0", 2, &[("data", "100Gi")]),
            sts("g1", 2, &[("data", "50Gi")]),
        ];
        let live = [
            sts("g0", 2, &[("data", "50Gi")]),
            sts("g1", 2, &[("data", "50Gi")]),
        ];
        let got = recreations(&desired, &live);
        assert_eq!(
            got,
            [Recreate {
                stateful_set: "g0".into(),
                claims: vec![
                    ClaimResize {
                        claim: "data-g0-0".into(),
                        size: Quantity("100Gi".into())
                    },
                    ClaimResize {
                        claim: "data-g0-1".into(),
                        size: Quantity("100Gi".into())
                    },
                ]
            }]
        );
    }

    #[test]
    fn an_added_volume_recreates_without_expanding_anything_and_a_new_statefulset_is_no_change() {
        let desired = [
            sts("ns", 2, &[("kv", "1Gi")]),
            sts("new", 1, &[("data", "1Gi")]),
        ];
        let live = [sts("ns", 2, &[])];
        assert_eq!(
            recreations(&desired, &live),
            [Recreate {
                stateful_set: "ns".into(),
                claims: vec![]
            }]
        );
    }

    #[test]
    fn sizes_are_compared_as_kubernetes_reads_them() {
        assert_eq!(bytes("512Mi"), bytes("0.5Gi"));
        assert_eq!(bytes("1G"), bytes("1000M"));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("1.5k"), Some(1500));
        assert_eq!(bytes("50Gi"), Some(50 << 30));
        assert_eq!(bytes("Gi"), None);
        assert_eq!(bytes("-1Gi"), None);
        let desired = [sts("g0", 1, &[("data", "0.5Gi")])];
        let live = [sts("g0", 1, &[("data", "512Mi")])];
        assert!(recreations(&desired, &live).is_empty());
    }

    #[test]
    fn fields_the_api_server_adds_to_a_live_template_are_no_change() {
        let desired = [sts("g0", 1, &[("data", "50Gi")])];
        let mut live = desired.clone();
        let spec = live[0]
            .spec
            .as_mut()
            .unwrap()
            .volume_claim_templates
            .as_mut()
            .unwrap();
        let claim = spec[0].spec.as_mut().unwrap();
        claim.volume_mode = Some("Filesystem".into());
        spec[0].metadata.labels = Some([("x".to_owned(), "y".to_owned())].into());
        assert!(recreations(&desired, &live).is_empty());
    }
}
