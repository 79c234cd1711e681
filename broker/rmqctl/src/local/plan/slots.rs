//! Which port slot each broker of a local cluster takes: `listenPort = base +
//! BROKER_PORT_OFFSET + BROKER_PORT_STEP * slot`. A fresh cluster fills the slots in group
//! order; on a running one (`rmqctl apply`) every running broker keeps its own and the brokers
//! a change adds take the lowest free ones, so no running process moves.

use std::collections::{BTreeMap, BTreeSet};

use rmq_operator::build::names;
use rmq_operator::validate::ValidatedCluster;

/// First broker `listenPort` minus the base port (9876 + 1035 = 10911).
pub const BROKER_PORT_OFFSET: u16 = 1035;
/// Ports between consecutive brokers' `listenPort`s.
pub const BROKER_PORT_STEP: u16 = 10;

/// The slot of every broker of `cluster` (its `listenPort` is `base + BROKER_PORT_OFFSET +
/// BROKER_PORT_STEP * slot`): a kept broker's own, others the lowest free ones in group order.
pub fn broker_slots(
    cluster: &ValidatedCluster,
    base: u16,
    kept: &BTreeMap<String, u16>,
) -> BTreeMap<String, u32> {
    let first = u32::from(base) + u32::from(BROKER_PORT_OFFSET);
    let slot_of = |port: u16| {
        let offset = u32::from(port).checked_sub(first)?;
        (offset % u32::from(BROKER_PORT_STEP) == 0).then(|| offset / u32::from(BROKER_PORT_STEP))
    };
    let pods: Vec<String> = (0..cluster.groups())
        .flat_map(|g| (0..cluster.pods_per_group()).map(move |o| (g, o)))
        .map(|(g, o)| names::broker_pod(cluster, g, o))
        .collect();
    let mut slots = BTreeMap::new();
    let mut taken: BTreeSet<u32> = BTreeSet::new();
    for pod in &pods {
        if let Some(slot) = kept.get(pod).copied().and_then(slot_of) {
            slots.insert(pod.clone(), slot);
            taken.insert(slot);
        }
    }
    let mut next = 0;
    for pod in &pods {
        if slots.contains_key(pod) {
            continue;
        }
        while taken.contains(&next) {
            next += 1;
        }
        slots.insert(pod.clone(), next);
        taken.insert(next);
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::manifest::{parse, validate_local};

    fn cluster(spec: &str) -> ValidatedCluster {
        let text = format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo}}\nspec: {spec}\n"
        );
        validate_local(parse(&text).unwrap().cluster).unwrap()
    }

    fn port(slot: u16) -> u16 {
        9876 + BROKER_PORT_OFFSET + BROKER_PORT_STEP * slot
    }

    #[test]
    fn running_brokers_keep_their_slots_and_new_ones_take_the_lowest_free_in_group_order() {
        let fresh = cluster("{broker: {groups: 2, replicasPerGroup: 1}}");
        let slots = broker_slots(&fresh, 9876, &BTreeMap::new());
        let order: Vec<u32> = [
            "demo-broker-0-0",
            "demo-broker-0-1",
            "demo-broker-1-0",
            "demo-broker-1-1",
        ]
        .iter()
        .map(|p| slots[*p])
        .collect();
        assert_eq!(order, [0, 1, 2, 3]);

        // The same brokers running, one slave more per group: nobody moves.
        let running: BTreeMap<String, u16> = [
            ("demo-broker-0-0", 0),
            ("demo-broker-0-1", 1),
            ("demo-broker-1-0", 2),
            ("demo-broker-1-1", 3),
        ]
        .into_iter()
        .map(|(p, s)| (p.to_owned(), port(s)))
        .collect();
        let more = cluster("{broker: {groups: 2, replicasPerGroup: 2}}");
        let slots = broker_slots(&more, 9876, &running);
        assert_eq!(slots["demo-broker-1-0"], 2);
        assert_eq!(slots["demo-broker-0-2"], 4);
        assert_eq!(slots["demo-broker-1-2"], 5);

        // A port off the grid is not a slot: that broker takes a free one.
        let odd: BTreeMap<String, u16> = [("demo-broker-0-0".to_owned(), port(1) + 1)].into();
        let slots = broker_slots(&fresh, 9876, &odd);
        assert_eq!(slots["demo-broker-0-0"], 0);
    }
}
