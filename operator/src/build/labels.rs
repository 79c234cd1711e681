//! Labels on every child object; selectors are the subset that never changes.

use std::collections::BTreeMap;

use crate::validate::ValidatedCluster;

/// Label naming the application.
pub const NAME: &str = "app.kubernetes.io/name";
/// Label naming the RocketCluster.
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// Label naming the role: `namesrv` or `broker`.
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// Label naming the manager.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Label holding the broker group index.
pub const BROKER_GROUP: &str = "rocketmq.rs/broker-group";
/// Value of [`MANAGED_BY`].
pub const MANAGER: &str = "rmq-operator";

/// Which part of the cluster an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// The name servers.
    NameServer,
    /// Broker group `n`.
    BrokerGroup(u32),
    /// Every broker group at once (the brokers' Certificate).
    Brokers,
    /// Objects of the whole cluster (the discovery ConfigMap).
    Cluster,
}

/// Labels that select the pods of `component` (stable for the life of the object).
pub fn selector(cluster: &ValidatedCluster, component: Component) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (NAME.to_owned(), "rocketmq".to_owned()),
        (INSTANCE.to_owned(), cluster.name.clone()),
    ]);
    match component {
        Component::NameServer => {
            labels.insert(COMPONENT.to_owned(), "namesrv".to_owned());
        }
        Component::BrokerGroup(group) => {
            labels.insert(COMPONENT.to_owned(), "broker".to_owned());
            labels.insert(BROKER_GROUP.to_owned(), group.to_string());
        }
        Component::Brokers => {
            labels.insert(COMPONENT.to_owned(), "broker".to_owned());
        }
        Component::Cluster => {}
    }
    labels
}

/// Labels of every object of `component`: the selector plus `managed-by`.
pub fn common(cluster: &ValidatedCluster, component: Component) -> BTreeMap<String, String> {
    let mut labels = selector(cluster, component);
    labels.insert(MANAGED_BY.to_owned(), MANAGER.to_owned());
    labels
}

/// Label selector (as a query string) of every object this operator made for `cluster_name`.
pub fn owned_by(cluster_name: &str) -> String {
    format!("{INSTANCE}={cluster_name},{MANAGED_BY}={MANAGER}")
}

/// Label selector of all broker pods of a cluster (the scale subresource's selector).
pub fn broker_pods(cluster_name: &str) -> String {
    format!("{NAME}=rocketmq,{INSTANCE}={cluster_name},{COMPONENT}=broker")
}
