//! Checks of `externalAccess`: the CEL rules again (for API servers that skip them), and what
//! depends on the number of pods: every broker's node ports must fit in the node-port range,
//! apart from the name servers' and from the metrics port.

use crate::crd::external::{NODE_PORT_MAX, NODE_PORT_MIN, last_broker_node_port};
use crate::crd::{ExternalAccessSpec, ExternalAccessType, RocketClusterSpec};

/// Appends every problem of both `externalAccess` fields through `problem(field, message)`.
pub(super) fn check(spec: &RocketClusterSpec, problem: &mut impl FnMut(&str, String)) {
    let namesrv = &spec.name_server.external_access;
    let broker = &spec.broker.external_access;
    let namesrv_ok = check_role("spec.nameServer.externalAccess", namesrv, problem);
    let broker_ok = check_role("spec.broker.externalAccess", broker, problem);
    if broker.type_ == ExternalAccessType::NodePort && broker.node_port_base.is_none() {
        problem(
            "spec.broker.externalAccess.nodePortBase",
            "type NodePort needs nodePortBase: each broker listens on a node port of its own, \
             counted from it"
                .to_owned(),
        );
    }
    let brokers = broker_ports(spec).filter(|_| broker_ok);
    if let Some((base, last)) = brokers {
        if last > i64::from(NODE_PORT_MAX) {
            let pods = pods(spec);
            let highest_base = i64::from(NODE_PORT_MAX) - (last - i64::from(base));
            problem(
                "spec.broker.externalAccess.nodePortBase",
                format!(
                    "{pods} brokers need the node ports {base} to {last}, past {NODE_PORT_MAX}: \
                     set nodePortBase to at most {highest_base}, or run fewer pods"
                ),
            );
        }
        if spec.metrics.enabled && (i64::from(base)..=last).contains(&i64::from(spec.metrics.port))
        {
            problem(
                "spec.metrics.port",
                format!(
                    "{} is among the brokers' node ports ({base} to {last}), which they listen \
                     on: pick a port outside them, e.g. 5557",
                    spec.metrics.port
                ),
            );
        }
    }
    let namesrvs = namesrv
        .node_port_base
        .filter(|_| namesrv_ok && namesrv.type_ == ExternalAccessType::NodePort)
        .map(|base| {
            (
                base,
                i64::from(base) + i64::from(spec.name_server.replicas.max(1)) - 1,
            )
        });
    if let Some((base, last)) = namesrvs {
        if last > i64::from(NODE_PORT_MAX) {
            problem(
                "spec.nameServer.externalAccess.nodePortBase",
                format!(
                    "{} name servers need the node ports {base} to {last}, past {NODE_PORT_MAX}: \
                     lower nodePortBase",
                    spec.name_server.replicas
                ),
            );
        }
        if let Some((broker_base, broker_last)) = brokers
            && i64::from(base) <= broker_last
            && i64::from(broker_base) <= last
        {
            problem(
                "spec.nameServer.externalAccess.nodePortBase",
                format!(
                    "the name servers' node ports {base} to {last} overlap the brokers' \
                     ({broker_base} to {broker_last}): move one nodePortBase"
                ),
            );
        }
    }
}

/// The CEL rules of one role; false when its `nodePortBase` is unusable.
fn check_role(
    path: &str,
    access: &ExternalAccessSpec,
    problem: &mut impl FnMut(&str, String),
) -> bool {
    let Some(base) = access.node_port_base else {
        return true;
    };
    let mut ok = true;
    if access.type_ != ExternalAccessType::NodePort {
        problem(
            &format!("{path}.nodePortBase"),
            "nodePortBase only applies to type NodePort: remove it or set type: NodePort"
                .to_owned(),
        );
        ok = false;
    }
    if !(NODE_PORT_MIN..=NODE_PORT_MAX).contains(&base) {
        problem(
            &format!("{path}.nodePortBase"),
            format!(
                "{base} is outside the node-port range: use {NODE_PORT_MIN} to {NODE_PORT_MAX}"
            ),
        );
        ok = false;
    }
    ok
}

/// Broker pods of the cluster.
fn pods(spec: &RocketClusterSpec) -> u32 {
    let groups = u32::try_from(spec.broker.groups.max(1)).unwrap_or(1);
    let per_group = 1 + u32::try_from(spec.broker.replicas_per_group.max(0)).unwrap_or(0);
    groups * per_group
}

/// First and last node port of the brokers, under NodePort with a base.
fn broker_ports(spec: &RocketClusterSpec) -> Option<(i32, i64)> {
    let access = &spec.broker.external_access;
    let base = access
        .node_port_base
        .filter(|_| access.type_ == ExternalAccessType::NodePort)?;
    Some((base, last_broker_node_port(base, pods(spec))))
}

#[cfg(test)]
mod tests {
    use crate::crd::RocketCluster;
    use crate::validate::{Environment, Problem, validate};

    /// The problems of a cluster with `spec`, as `(field, message)`.
    fn problems(spec: &str) -> Vec<Problem> {
        let yaml = format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo, namespace: mq, uid: u-1}}\nspec: {spec}"
        );
        let cluster: RocketCluster = serde_yaml::from_str(&yaml).expect("fixture parses");
        validate(&cluster, &Environment::default())
            .err()
            .map(|e| e.problems)
            .unwrap_or_default()
    }

    #[test]
    fn node_ports_that_fit_every_pod_and_apart_from_the_name_servers_are_accepted() {
        assert_eq!(
            problems(
                "{nameServer: {replicas: 3, externalAccess: {type: NodePort, nodePortBase: 30000}}, \
                 broker: {groups: 64, replicasPerGroup: 8, externalAccess: {type: NodePort, nodePortBase: 31616}}}"
            ),
            []
        );
        assert_eq!(
            problems(
                "{nameServer: {externalAccess: {type: LoadBalancer}}, broker: {externalAccess: {type: LoadBalancer}}}"
            ),
            []
        );
    }

    #[test]
    fn brokers_behind_node_ports_need_a_base() {
        let found = problems("{broker: {externalAccess: {type: NodePort}}}");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "spec.broker.externalAccess.nodePortBase");
        assert!(found[0].message.contains("needs nodePortBase"), "{found:?}");
        assert_eq!(
            problems("{nameServer: {externalAccess: {type: NodePort}}}"),
            [],
            "name servers leave their node ports to Kubernetes"
        );
    }

    #[test]
    fn a_base_without_node_ports_or_outside_the_range_is_refused() {
        let found = problems(
            "{nameServer: {externalAccess: {type: LoadBalancer, nodePortBase: 30000}}, \
             broker: {externalAccess: {type: NodePort, nodePortBase: 8080}}}",
        );
        let fields: Vec<_> = found.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.nameServer.externalAccess.nodePortBase",
                "spec.broker.externalAccess.nodePortBase"
            ]
        );
        assert!(found[0].message.contains("only applies to type NodePort"));
        assert!(found[1].message.contains("use 30000 to 32767"), "{found:?}");
    }

    #[test]
    fn more_brokers_than_the_node_ports_left_says_the_highest_base_that_fits() {
        let found = problems(
            "{broker: {groups: 64, replicasPerGroup: 8, externalAccess: {type: NodePort, nodePortBase: 32000}}}",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "576 brokers need the node ports 32000 to 33151, past 32767: set nodePortBase to at \
             most 31616, or run fewer pods"
        );
        let namesrvs = problems(
            "{nameServer: {replicas: 3, externalAccess: {type: NodePort, nodePortBase: 32766}}}",
        );
        assert!(
            namesrvs[0].message.contains("32766 to 32768"),
            "{namesrvs:?}"
        );
    }

    #[test]
    fn name_server_node_ports_among_the_brokers_or_a_metrics_port_there_are_refused() {
        let found = problems(
            "{nameServer: {externalAccess: {type: NodePort, nodePortBase: 30003}}, \
             metrics: {enabled: true, port: 30001}, \
             broker: {replicasPerGroup: 1, externalAccess: {type: NodePort, nodePortBase: 30000}}}",
        );
        let fields: Vec<_> = found.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.metrics.port",
                "spec.nameServer.externalAccess.nodePortBase"
            ]
        );
        assert!(
            found[1]
                .message
                .contains("overlap the brokers' (30000 to 30003)"),
            "{found:?}"
        );
        assert_eq!(
            problems(
                "{nameServer: {externalAccess: {type: NodePort, nodePortBase: 30004}}, \
                 broker: {replicasPerGroup: 1, externalAccess: {type: NodePort, nodePortBase: 30000}}}"
            ),
            [],
            "right after the brokers' ports"
        );
    }
}
