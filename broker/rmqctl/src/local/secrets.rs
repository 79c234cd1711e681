//! The `kind: Secret` documents of a manifest: what a local run has instead of the API server's
//! Secrets, for the names `spec.security` gives.
//!
//! A document is read as the API server reads a v1 Secret: `data` values are Base64 (line
//! breaks in them are ignored, as Go's decoder ignores them), `stringData` values are text and
//! win over a `data` value of the same key. A Secret without `metadata.namespace` is in
//! [`DEFAULT_NAMESPACE`], as a RocketCluster without one is; a cluster only sees Secrets of its
//! own namespace, as in Kubernetes.
//!
//! Values never reach `Debug` output or error messages: only key names do.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_yaml::Value;

use crate::local::manifest::{DEFAULT_NAMESPACE, ManifestError};

/// One Secret of the manifest.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub namespace: String,
    data: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A Secret that `spec.security` names cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{field} names Secret {name}, and the manifest holds no `kind: Secret` named so in \
         namespace {namespace}{}; a local run takes its Secrets from the manifest",
        elsewhere_suffix(.elsewhere)
    )]
    NotInManifest {
        /// The spec field that names it, such as `spec.security.acl.secretName`.
        field: &'static str,
        name: String,
        namespace: String,
        /// Namespaces where the manifest does hold a Secret of that name.
        elsewhere: Vec<String>,
    },
    #[error("Secret {name} ({field}) has no key {key}{}", keys_suffix(.keys))]
    MissingKey {
        field: &'static str,
        name: String,
        key: &'static str,
        /// The keys it has.
        keys: Vec<String>,
    },
    #[error("key {key} of Secret {name} ({field}) is not UTF-8 text")]
    NotText {
        field: &'static str,
        name: String,
        key: &'static str,
        #[source]
        source: std::str::Utf8Error,
    },
    #[error("key {key} of Secret {name} ({field}) is empty")]
    Empty {
        field: &'static str,
        name: String,
        key: &'static str,
    },
}

/// Every Secret of a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    list: Vec<Secret>,
}

impl Secrets {
    /// Adds `secret`; a second Secret with the same namespace and name is refused.
    pub fn insert(&mut self, secret: Secret) -> Result<(), ManifestError> {
        if self
            .list
            .iter()
            .any(|s| s.name == secret.name && s.namespace == secret.namespace)
        {
            return Err(ManifestError::DuplicateSecret {
                name: secret.name,
                namespace: secret.namespace,
            });
        }
        self.list.push(secret);
        Ok(())
    }

    /// The Secret `name` of `namespace`, which `field` names.
    pub fn find(
        &self,
        namespace: &str,
        name: &str,
        field: &'static str,
    ) -> Result<&Secret, SecretError> {
        self.list
            .iter()
            .find(|s| s.name == name && s.namespace == namespace)
            .ok_or_else(|| SecretError::NotInManifest {
                field,
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                elsewhere: self
                    .list
                    .iter()
                    .filter(|s| s.name == name)
                    .map(|s| s.namespace.clone())
                    .collect(),
            })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl Secret {
    /// The bytes of `key`, which `field`'s use of this Secret needs.
    pub fn bytes(&self, key: &'static str, field: &'static str) -> Result<&[u8], SecretError> {
        self.data
            .get(key)
            .map(Vec::as_slice)
            .ok_or_else(|| SecretError::MissingKey {
                field,
                name: self.name.clone(),
                key,
                keys: self.data.keys().cloned().collect(),
            })
    }

    /// The text of `key`: UTF-8, not empty.
    pub fn text(&self, key: &'static str, field: &'static str) -> Result<&str, SecretError> {
        let bytes = self.bytes(key, field)?;
        let text = std::str::from_utf8(bytes).map_err(|source| SecretError::NotText {
            field,
            name: self.name.clone(),
            key,
            source,
        })?;
        if text.is_empty() {
            return Err(SecretError::Empty {
                field,
                name: self.name.clone(),
                key,
            });
        }
        Ok(text)
    }
}

/// The fields of a v1 Secret a local run reads; others (`type`, labels, ...) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    data: BTreeMap<String, Option<String>>,
    #[serde(default)]
    string_data: BTreeMap<String, Option<String>>,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Whether a document of the manifest is a Secret.
pub fn is_secret(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Reads document `index` of `text` (a `kind: Secret`).
pub fn parse(text: &str, index: usize) -> Result<Secret, ManifestError> {
    let which = |name: &Option<String>| match name {
        Some(name) => format!("Secret {name}"),
        None => format!("Secret of document {}", index + 1),
    };
    // Deserialized from the text rather than from a `Value`, so an error carries the line.
    let document = serde_yaml::Deserializer::from_str(text)
        .nth(index)
        .map(Document::deserialize)
        .ok_or(ManifestError::NoRocketCluster { found: Vec::new() })?
        .map_err(|source| ManifestError::SecretShape {
            which: which(&None),
            source,
        })?;
    let name = document.metadata.name.clone().filter(|n| !n.is_empty());
    if document.api_version.as_deref() != Some("v1") {
        return Err(ManifestError::SecretApiVersion {
            which: which(&name),
            found: document.api_version.unwrap_or_else(|| "(none)".to_owned()),
        });
    }
    let Some(name) = name else {
        return Err(ManifestError::SecretNoName { index: index + 1 });
    };
    let mut data = BTreeMap::new();
    for (key, value) in document.data {
        // Go's Base64 decoder, which the API server uses, skips line breaks: a value folded
        // over several lines is valid there.
        let compact: String = value
            .unwrap_or_default()
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|source| ManifestError::SecretNotBase64 {
                which: format!("Secret {name}"),
                key: key.clone(),
                source,
            })?;
        data.insert(key, bytes);
    }
    for (key, value) in document.string_data {
        data.insert(key, value.unwrap_or_default().into_bytes());
    }
    Ok(Secret {
        namespace: document
            .metadata
            .namespace
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
        name,
        data,
    })
}

fn elsewhere_suffix(namespaces: &[String]) -> String {
    if namespaces.is_empty() {
        String::new()
    } else {
        format!(" (it holds one in namespace {})", namespaces.join(", "))
    }
}

fn keys_suffix(keys: &[String]) -> String {
    if keys.is_empty() {
        "; it has no keys".to_owned()
    } else {
        format!("; it has {}", keys.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(yaml: &str) -> Result<Secret, ManifestError> {
        parse(yaml, 0)
    }

    #[test]
    fn string_data_and_base64_data_are_both_read_and_string_data_wins() {
        let s = secret(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: inner, namespace: mq}\n\
             data:\n  accessKey: cm9ja2V0bXEy\n  secretKey: b2xkLXNlY3JldA==\n\
             stringData:\n  secretKey: new-secret\n",
        )
        .unwrap();
        assert_eq!((s.name.as_str(), s.namespace.as_str()), ("inner", "mq"));
        assert_eq!(s.text("accessKey", "f").unwrap(), "rocketmq2");
        assert_eq!(s.text("secretKey", "f").unwrap(), "new-secret");
    }

    #[test]
    fn base64_folded_over_lines_is_read_as_the_api_server_reads_it() {
        let s = secret(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ndata:\n  tls.crt: |\n    \
             LS0tLS1C\n    RUdJTg==\n",
        )
        .unwrap();
        assert_eq!(s.bytes("tls.crt", "f").unwrap(), b"-----BEGIN");
        assert_eq!(s.namespace, DEFAULT_NAMESPACE);
    }

    #[test]
    fn bad_base64_a_missing_name_and_another_api_version_are_refused_naming_the_secret() {
        let error = secret("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '!!'}\n")
            .unwrap_err();
        assert!(
            matches!(&error, ManifestError::SecretNotBase64 { which, key, .. } if which == "Secret s" && key == "k"),
            "{error:?}"
        );
        assert!(matches!(
            secret("apiVersion: v1\nkind: Secret\nstringData: {k: v}\n"),
            Err(ManifestError::SecretNoName { index: 1 })
        ));
        assert!(matches!(
            secret("apiVersion: v2\nkind: Secret\nmetadata: {name: s}\n"),
            Err(ManifestError::SecretApiVersion { found, .. }) if found == "v2"
        ));
    }

    #[test]
    fn a_missing_key_is_named_with_the_keys_the_secret_has_and_never_a_value() {
        let s = secret("apiVersion: v1\nkind: Secret\nmetadata: {name: acl}\nstringData: {wrong.yml: hunter2-secret}\n").unwrap();
        let error = s
            .bytes("plain_acl.yml", "spec.security.acl.secretName")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Secret acl (spec.security.acl.secretName) has no key plain_acl.yml; it has wrong.yml"
        );
        assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
        let empty = secret(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: e}\nstringData: {accessKey: ''}\n",
        )
        .unwrap();
        assert!(matches!(
            empty.text("accessKey", "f"),
            Err(SecretError::Empty { .. })
        ));
    }

    #[test]
    fn a_secret_of_another_namespace_is_not_found_but_mentioned() {
        let mut secrets = Secrets::default();
        secrets
            .insert(
                secret("apiVersion: v1\nkind: Secret\nmetadata: {name: acl, namespace: mq}\n")
                    .unwrap(),
            )
            .unwrap();
        let error = secrets
            .find("default", "acl", "spec.security.acl.secretName")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "spec.security.acl.secretName names Secret acl, and the manifest holds no `kind: \
             Secret` named so in namespace default (it holds one in namespace mq); a local run \
             takes its Secrets from the manifest"
        );
        assert!(secrets.find("mq", "acl", "f").is_ok());
        let again =
            secret("apiVersion: v1\nkind: Secret\nmetadata: {name: acl, namespace: mq}\n").unwrap();
        assert!(matches!(
            secrets.insert(again),
            Err(ManifestError::DuplicateSecret { .. })
        ));
    }
}
