//! Reading a `RocketCluster` manifest with the operator's own types and validation.
//!
//! A manifest applied with `kubectl` gets its namespace from the context (`default` unless
//! set) and its uid from the API server; a local run has neither, so [`for_local_run`] fills
//! in `default` and [`LOCAL_UID`] before [`rmq_operator::validate::validate`] sees it. Every
//! other check is the operator's, with the operator's messages.
//!
//! Fields the CRD types do not know would be pruned by the API server (and refused by
//! `kubectl apply`'s strict field validation); here they are listed by [`parse`] so that a typo
//! such as `flushDiskTyp` does not silently run a default.
//!
//! `kind: Secret` documents beside the cluster are collected ([`crate::local::secrets`]): a local
//! run has no API server to hold the Secrets that `spec.security` names.

use std::io;
use std::path::{Path, PathBuf};

use rmq_operator::crd::RocketCluster;
use rmq_operator::validate::{Environment, InvalidSpec, ValidatedCluster, validate};
use serde::Deserialize as _;
use serde_yaml::Value;

use crate::local::secrets::{self, Secrets};

/// `metadata.uid` of a cluster that never went through an API server.
pub const LOCAL_UID: &str = "rmqctl-local";
/// Namespace of a manifest that names none, as `kubectl` would use.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The manifest does not hold exactly one readable `RocketCluster`.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("it is not YAML")]
    Yaml(#[source] serde_yaml::Error),
    #[error("it holds no RocketCluster (kind: RocketCluster, apiVersion: rocketmq.rs/v1alpha1){}", found_suffix(.found))]
    NoRocketCluster {
        /// `kind`s of the documents it does hold.
        found: Vec<String>,
    },
    #[error("it holds {count} RocketClusters; a local run takes one")]
    SeveralRocketClusters { count: usize },
    #[error("its RocketCluster has apiVersion {found:?}; this rmqctl reads rocketmq.rs/v1alpha1")]
    ApiVersion { found: String },
    /// The document does not fit the CRD's types (an unknown enum value, a string for a
    /// number, ...): the API server would refuse it the same way.
    #[error("its RocketCluster does not match the CRD")]
    Spec(#[source] serde_yaml::Error),
    #[error("its {which} does not match a v1 Secret")]
    SecretShape {
        which: String,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("its {which} has apiVersion {found:?}; a Secret is v1")]
    SecretApiVersion { which: String, found: String },
    #[error("its Secret in document {index} has no metadata.name")]
    SecretNoName {
        /// 1-based, as an editor counts documents.
        index: usize,
    },
    #[error("its {which} has a value of key {key} in data that is not Base64")]
    SecretNotBase64 {
        which: String,
        key: String,
        #[source]
        source: base64::DecodeError,
    },
    #[error("it holds two Secrets {name} in namespace {namespace}")]
    DuplicateSecret { name: String, namespace: String },
}

/// The manifest file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the manifest {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot use the manifest {}", .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: ManifestError,
    },
}

/// Reads and parses the manifest at `path`; returns its text too.
pub fn load(path: &Path) -> Result<(String, Parsed), LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parsed = parse(&text).map_err(|source| LoadError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((text, parsed))
}

/// A parsed manifest: the resource, the fields the CRD does not know, and the Secrets beside it.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub cluster: RocketCluster,
    /// Dotted paths of fields that were ignored, such as `spec.broker.flushDiskTyp`.
    pub unknown_fields: Vec<String>,
    /// The `kind: Secret` documents, where `spec.security` finds the Secrets it names.
    pub secrets: Secrets,
}

/// Parses the one `RocketCluster` among the YAML documents of `text`, and every `Secret`.
pub fn parse(text: &str) -> Result<Parsed, ManifestError> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        documents.push(Value::deserialize(document).map_err(ManifestError::Yaml)?);
    }
    let is_cluster = |doc: &Value| doc.get("kind").and_then(Value::as_str) == Some("RocketCluster");
    let indexes: Vec<usize> = (0..documents.len())
        .filter(|&i| is_cluster(&documents[i]))
        .collect();
    let index = match indexes.as_slice() {
        [index] => *index,
        [] => {
            return Err(ManifestError::NoRocketCluster {
                found: documents
                    .iter()
                    .filter(|doc| !doc.is_null())
                    .map(|doc| {
                        doc.get("kind")
                            .and_then(Value::as_str)
                            .unwrap_or("a document without kind")
                            .to_owned()
                    })
                    .collect(),
            });
        }
        several => {
            return Err(ManifestError::SeveralRocketClusters {
                count: several.len(),
            });
        }
    };
    let input = &documents[index];
    let api_version = input.get("apiVersion").and_then(Value::as_str);
    if api_version != Some("rocketmq.rs/v1alpha1") {
        return Err(ManifestError::ApiVersion {
            found: api_version.unwrap_or("(none)").to_owned(),
        });
    }
    // Deserialized again from the text rather than from `input`, so that an error carries the
    // line and column of the offending field.
    let cluster = serde_yaml::Deserializer::from_str(text)
        .nth(index)
        .map(RocketCluster::deserialize)
        .ok_or(ManifestError::NoRocketCluster { found: Vec::new() })?
        .map_err(ManifestError::Spec)?;
    let known = serde_yaml::to_value(&cluster).map_err(ManifestError::Spec)?;
    let mut unknown_fields = Vec::new();
    dropped_fields(input, &known, "", &mut unknown_fields);
    unknown_fields.retain(|path| path != "status" && !path.starts_with("status."));
    let mut secrets = Secrets::default();
    for (index, _) in documents
        .iter()
        .enumerate()
        .filter(|(_, doc)| secrets::is_secret(doc))
    {
        secrets.insert(secrets::parse(text, index)?)?;
    }
    Ok(Parsed {
        cluster,
        unknown_fields,
        secrets,
    })
}

/// The cluster with what an API server would have added: a namespace and a uid.
pub fn for_local_run(mut cluster: RocketCluster) -> RocketCluster {
    let meta = &mut cluster.metadata;
    if meta.namespace.as_deref().is_none_or(str::is_empty) {
        meta.namespace = Some(DEFAULT_NAMESPACE.to_owned());
    }
    if meta.uid.as_deref().is_none_or(str::is_empty) {
        meta.uid = Some(LOCAL_UID.to_owned());
    }
    cluster
}

/// The operator's validation of a local run of `cluster`.
pub fn validate_local(cluster: RocketCluster) -> Result<ValidatedCluster, InvalidSpec> {
    validate(&for_local_run(cluster), &Environment::default())
}

/// `metadata.name`, if the document has one (`rmqctl down -f` needs nothing else).
pub fn cluster_name(cluster: &RocketCluster) -> Option<&str> {
    cluster
        .metadata
        .name
        .as_deref()
        .filter(|name| !name.is_empty())
}

/// Appends to `out` the paths of mappings keys in `input` that did not survive the round trip
/// through the CRD types (`known`). Empty values are skipped: the types drop those on output.
fn dropped_fields(input: &Value, known: &Value, path: &str, out: &mut Vec<String>) {
    let (Value::Mapping(input), Value::Mapping(known)) = (input, known) else {
        return;
    };
    for (key, value) in input {
        let Some(name) = key.as_str() else { continue };
        let here = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        match known.get(key) {
            Some(kept) => dropped_fields(value, kept, &here, out),
            None if is_empty(value) => {}
            None => out.push(here),
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Mapping(map) => map.is_empty(),
        Value::Sequence(seq) => seq.is_empty(),
        _ => false,
    }
}

fn found_suffix(found: &[String]) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!("; it holds {}", found.join(", "))
    }
}

/// Fields of the spec a local run has nothing to do with: outside access.
pub fn kubernetes_only(cluster: &ValidatedCluster) -> Vec<&'static str> {
    use rmq_operator::crd::ExternalAccessType;
    let spec = &cluster.spec;
    [
        (
            "spec.nameServer.externalAccess",
            spec.name_server.external_access.type_,
        ),
        (
            "spec.broker.externalAccess",
            spec.broker.external_access.type_,
        ),
    ]
    .into_iter()
    .filter(|(_, kind)| *kind != ExternalAccessType::None)
    .map(|(field, _)| field)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata:\n  name: demo\n";

    #[test]
    fn the_minimal_example_validates_with_a_default_namespace_and_a_local_uid() {
        let text = include_str!("../../../../deploy/examples/minimal.yaml");
        let parsed = parse(text).unwrap();
        assert!(
            parsed.unknown_fields.is_empty(),
            "{:?}",
            parsed.unknown_fields
        );
        let cluster = validate_local(parsed.cluster).unwrap();
        assert_eq!(cluster.name, "demo");
        assert_eq!(cluster.namespace, DEFAULT_NAMESPACE);
        assert_eq!(cluster.uid, LOCAL_UID);
        assert_eq!(
            (
                cluster.name_servers(),
                cluster.groups(),
                cluster.pods_per_group()
            ),
            (2, 1, 1)
        );
    }

    #[test]
    fn every_example_manifest_parses_without_unknown_fields_and_validates() {
        for text in [
            include_str!("../../../../deploy/examples/multi-group.yaml"),
            include_str!("../../../../deploy/examples/no-message-loss.yaml"),
        ] {
            let parsed = parse(text).unwrap();
            assert!(
                parsed.unknown_fields.is_empty(),
                "{:?}",
                parsed.unknown_fields
            );
            validate_local(parsed.cluster).unwrap();
        }
    }

    #[test]
    fn the_local_secure_example_brings_its_secrets_and_the_cluster_example_needs_them() {
        let text = include_str!("../../../../deploy/examples/local/secure.yaml");
        let parsed = parse(text).unwrap();
        assert!(
            parsed.unknown_fields.is_empty(),
            "{:?}",
            parsed.unknown_fields
        );
        let cluster = validate_local(parsed.cluster).unwrap();
        let security = crate::local::security::resolve(&cluster, &parsed.secrets).unwrap();
        assert_eq!(
            security.inner().map(|c| c.access_key.as_str()),
            Some("rocketmq-inner")
        );
        assert!(security.needs_local_ca());
        // The Kubernetes example has the same spec and no Secrets: a local run names the first
        // one missing.
        let bare = parse(include_str!("../../../../deploy/examples/secure.yaml")).unwrap();
        assert!(bare.secrets.is_empty());
        let error =
            crate::local::security::resolve(&validate_local(bare.cluster).unwrap(), &bare.secrets)
                .unwrap_err();
        assert!(
            error.to_string().contains("names Secret vault-acl"),
            "{error}"
        );
    }

    #[test]
    fn secrets_beside_the_cluster_are_collected_and_a_manifest_of_secrets_only_is_refused() {
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: mq}\nstringData: {k: v}\n";
        let text = format!("{secret}---\n{HEAD}spec: {{}}\n");
        let parsed = parse(&text).unwrap();
        let found = parsed.secrets.find("mq", "s", "f").unwrap();
        assert_eq!(found.text("k", "f").unwrap(), "v");
        let error = parse(secret).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it holds no RocketCluster (kind: RocketCluster, apiVersion: rocketmq.rs/v1alpha1); \
             it holds Secret"
        );
        let bad = format!(
            "{HEAD}spec: {{}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata: {{k: 'not base64!'}}\n"
        );
        assert!(matches!(
            parse(&bad),
            Err(ManifestError::SecretNotBase64 { .. })
        ));
    }

    #[test]
    fn a_namespace_and_uid_in_the_manifest_are_kept() {
        let text = "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {name: d, namespace: mq, uid: u-1}\nspec: {}\n";
        let cluster = validate_local(parse(text).unwrap().cluster).unwrap();
        assert_eq!(
            (cluster.namespace.as_str(), cluster.uid.as_str()),
            ("mq", "u-1")
        );
    }

    #[test]
    fn an_unknown_flush_mode_is_refused_with_its_value_the_allowed_ones_and_the_line() {
        let text = format!("{HEAD}spec:\n  broker:\n    flushDiskType: SOMETIMES\n");
        let error = parse(&text).unwrap_err();
        assert!(matches!(error, ManifestError::Spec(_)));
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(cause.contains("SOMETIMES"), "{cause}");
        assert!(cause.contains("SYNC_FLUSH"), "{cause}");
        assert!(cause.contains("line 7"), "{cause}");
    }

    #[test]
    fn sync_master_without_slaves_fails_the_operators_validation() {
        let text = format!("{HEAD}spec:\n  broker: {{brokerRole: SYNC_MASTER}}\n");
        let error = validate_local(parse(&text).unwrap().cluster).unwrap_err();
        assert_eq!(error.problems[0].field, "spec.broker.replicasPerGroup");
        assert!(
            error
                .to_string()
                .contains("set spec.broker.replicasPerGroup to at least 1")
        );
    }

    #[test]
    fn misspelled_fields_are_listed_but_empty_and_status_fields_are_not() {
        let text = format!(
            "{HEAD}  labels: {{a: b}}\nspec:\n  broker:\n    flushDiskTyp: SYNC_FLUSH\n    config: {{}}\n    affinity: {{}}\n  nameServr: {{replicas: 1}}\n  extra: null\nstatus: {{brokerGroups: 1}}\n"
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(
            parsed.unknown_fields,
            ["spec.broker.flushDiskTyp", "spec.nameServr"]
        );
    }

    #[test]
    fn the_rocketcluster_is_found_among_other_documents() {
        let text = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: mq}}\n---\n{HEAD}spec: {{}}\n"
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(cluster_name(&parsed.cluster), Some("demo"));
    }

    #[test]
    fn a_manifest_without_exactly_one_rocketcluster_is_refused_saying_what_it_holds() {
        let error = parse("apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "it holds no RocketCluster (kind: RocketCluster, apiVersion: rocketmq.rs/v1alpha1); \
             it holds ConfigMap"
        );
        let two = format!("{HEAD}spec: {{}}\n---\n{HEAD}spec: {{}}\n");
        assert!(matches!(
            parse(&two),
            Err(ManifestError::SeveralRocketClusters { count: 2 })
        ));
        let other_version = HEAD.replace("v1alpha1", "v1beta9");
        assert!(matches!(
            parse(&other_version),
            Err(ManifestError::ApiVersion { found }) if found == "rocketmq.rs/v1beta9"
        ));
        assert!(matches!(parse("a: [b"), Err(ManifestError::Yaml(_))));
    }

    #[test]
    fn outside_access_is_named_as_something_a_local_run_ignores() {
        let text = |spec: &str| {
            format!(
                "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo}}\nspec: {spec}\n"
            )
        };
        let local = validate_local(parse(&text("{}")).unwrap().cluster).unwrap();
        assert!(kubernetes_only(&local).is_empty());
        let outside = validate_local(
            parse(&text(
                "{broker: {externalAccess: {type: LoadBalancer}}, nameServer: {externalAccess: {type: LoadBalancer}}}",
            ))
            .unwrap()
            .cluster,
        )
        .unwrap();
        assert_eq!(
            kubernetes_only(&outside),
            [
                "spec.nameServer.externalAccess",
                "spec.broker.externalAccess"
            ]
        );
    }
}
