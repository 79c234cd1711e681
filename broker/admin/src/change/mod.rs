//! What a driver of cluster changes (`rmqctl apply`, the operator) observes through the admin
//! API, beyond single requests.
//!
//! | module | what |
//! |---|---|
//! | [`metadata`] | pure: which topics and subscription groups a new group lacks, and the request that creates one |
//! | [`drain`] | messages a removed group still holds for its consumers |
//!
//! [`tables`] reads what [`metadata::missing`] compares: a broker's topic table, its system
//! topics and its subscription groups; [`sync`] creates what is missing.

pub mod drain;
pub mod metadata;

use self::metadata::{Missing, Tables, create_header};
use crate::client::Admin;
use crate::error::RpcError;

/// A broker's topic and subscription-group tables and its system topics.
pub async fn tables(admin: &Admin, addr: Option<String>) -> Option<Tables> {
    let addr = addr?;
    Some(Tables {
        topics: admin.all_topic_configs(&addr).await.ok()?,
        system_topics: admin.system_topics(&addr).await.ok()?.topic_list,
        groups: admin.all_subscription_groups(&addr).await.ok()?,
    })
}

/// Why [`sync`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot read the topics and subscription groups of {addr}")]
    Unreadable { addr: String },
    #[error("cannot create topic {topic} on {addr}")]
    CreateTopic {
        topic: String,
        addr: String,
        #[source]
        source: Box<RpcError>,
    },
    #[error("cannot create subscription group {group} on {addr}")]
    CreateGroup {
        group: String,
        addr: String,
        #[source]
        source: Box<RpcError>,
    },
}

/// Creates on the master at `target` the topics and subscription groups the master at
/// `source` has and it lacks ([`metadata::missing`]); returns what it created.
pub async fn sync(admin: &Admin, source: &str, target: &str) -> Result<Missing, SyncError> {
    let unreadable = |addr: &str| SyncError::Unreadable {
        addr: addr.to_owned(),
    };
    let from = tables(admin, Some(source.to_owned()))
        .await
        .ok_or_else(|| unreadable(source))?;
    let to = tables(admin, Some(target.to_owned()))
        .await
        .ok_or_else(|| unreadable(target))?;
    let missing = metadata::missing(&from, &to);
    for topic in &missing.topics {
        admin
            .create_topic(target, &create_header(topic))
            .await
            .map_err(|e| SyncError::CreateTopic {
                topic: topic.topic_name.clone(),
                addr: target.to_owned(),
                source: Box::new(e),
            })?;
    }
    for (group, config) in &missing.groups {
        admin
            .update_group(target, config)
            .await
            .map_err(|e| SyncError::CreateGroup {
                group: group.clone(),
                addr: target.to_owned(),
                source: Box::new(e),
            })?;
    }
    Ok(missing)
}
