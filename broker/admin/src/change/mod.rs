//! What a driver of cluster changes (`rmqctl apply`, the operator) observes through the admin
//! API, beyond single requests.
//!
//! | module | what |
//! |---|---|
//! | [`metadata`] | pure: which topics and subscription groups a new group lacks, and the request that creates one |
//! | [`drain`] | messages a removed group still holds for its consumers |
//!
//! [`tables`] reads what [`metadata::missing`] compares: a broker's topic table, its system
//! topics and its subscription groups.

pub mod drain;
pub mod metadata;

use self::metadata::Tables;
use crate::client::Admin;

/// A broker's topic and subscription-group tables and its system topics.
pub async fn tables(admin: &Admin, addr: Option<String>) -> Option<Tables> {
    let addr = addr?;
    Some(Tables {
        topics: admin.all_topic_configs(&addr).await.ok()?,
        system_topics: admin.system_topics(&addr).await.ok()?.topic_list,
        groups: admin.all_subscription_groups(&addr).await.ok()?,
    })
}
