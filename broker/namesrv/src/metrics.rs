//! Prometheus metrics of the name server (`metricsExporterType=PROM`): requests answered by
//! request and response code with their latency (`rocketmq_rpc_latency`, as the broker writes
//! it), and what the route table holds when scraped: broker groups and broker addresses per
//! cluster, topics, and brokers dropped for silence.
//!
//! Series are bounded by what the name server serves: one per request/response code pair
//! answered and one per cluster.

use std::collections::BTreeMap;

use rmq_protocol::body::route::ClusterInfo;
use rmq_remoting::prometheus::{Counter, Kind, RequestSeries, Text};

/// What the request path and the expiry scan count.
#[derive(Debug, Default)]
pub struct NamesrvMetrics {
    /// `rocketmq_rpc_latency`, by request and response code.
    pub requests: RequestSeries,
    /// Brokers dropped by the expiry scan.
    pub expired_brokers: Counter,
}

/// What the route table holds at a scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteCounts {
    /// Cluster → (broker groups, broker addresses).
    pub clusters: BTreeMap<String, (usize, usize)>,
    pub topics: usize,
}

impl RouteCounts {
    /// Counts of `info` (the GET_BROKER_CLUSTER_INFO answer) and `topics` topics.
    pub fn of(info: &ClusterInfo, topics: usize) -> RouteCounts {
        let clusters = info
            .cluster_addr_table
            .iter()
            .map(|(cluster, names)| {
                let addrs = names
                    .iter()
                    .filter_map(|name| info.broker_addr_table.get(name))
                    .map(|group| group.broker_addrs.len())
                    .sum();
                (cluster.clone(), (names.len(), addrs))
            })
            .collect();
        RouteCounts { clusters, topics }
    }
}

/// The whole `/metrics` text of the name server listening on `node_id`.
pub fn scrape(node_id: &str, metrics: &NamesrvMetrics, routes: &RouteCounts) -> String {
    let base = [("node_type", "nameserver"), ("node_id", node_id)];
    let mut text = Text::default();
    metrics.requests.write(&mut text, &base);
    for (name, help, read) in [
        (
            "rocketmq_namesrv_broker_groups",
            "Broker groups (broker names) registered, by cluster.",
            (|c: &(usize, usize)| c.0) as fn(&(usize, usize)) -> usize,
        ),
        (
            "rocketmq_namesrv_brokers",
            "Broker addresses (masters and slaves) registered, by cluster.",
            |c: &(usize, usize)| c.1,
        ),
    ] {
        text.family(name, Kind::Gauge, help);
        for (cluster, counts) in &routes.clusters {
            let mut labels = base.to_vec();
            labels.push(("cluster", cluster));
            text.sample(name, &labels, read(counts) as f64);
        }
    }
    text.family(
        "rocketmq_namesrv_topics",
        Kind::Gauge,
        "Topics with a route.",
    );
    text.sample("rocketmq_namesrv_topics", &base, routes.topics as f64);
    text.family(
        "rocketmq_namesrv_expired_brokers_total",
        Kind::Counter,
        "Brokers dropped after staying silent past their timeout.",
    );
    text.sample(
        "rocketmq_namesrv_expired_brokers_total",
        &base,
        metrics.expired_brokers.get() as f64,
    );
    text.finish()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rmq_protocol::body::route::BrokerData;

    use super::*;

    fn group(cluster: &str, name: &str, addrs: usize) -> BrokerData {
        BrokerData {
            broker_addrs: (0..addrs as i64)
                .map(|id| (id, format!("10.0.0.{id}:10911")))
                .collect(),
            broker_name: name.to_owned(),
            cluster: cluster.to_owned(),
            enable_acting_master: None,
            zone_name: None,
        }
    }

    #[test]
    fn route_counts_give_groups_and_addresses_per_cluster() {
        let mut info = ClusterInfo::default();
        for (cluster, name, addrs) in [("c1", "b0", 2), ("c1", "b1", 1), ("c2", "x", 3)] {
            info.broker_addr_table
                .insert(name.to_owned(), group(cluster, name, addrs));
            info.cluster_addr_table
                .entry(cluster.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
        let counts = RouteCounts::of(&info, 7);
        assert_eq!(counts.clusters["c1"], (2, 3));
        assert_eq!(counts.clusters["c2"], (1, 3));
        assert_eq!(counts.topics, 7);
    }

    #[test]
    fn a_scrape_writes_requests_routes_and_expiries() {
        let metrics = NamesrvMetrics::default();
        metrics.requests.observe(105, 0, Duration::from_millis(2));
        metrics.requests.observe(105, 17, Duration::from_millis(0));
        metrics.expired_brokers.add(1);
        let routes = RouteCounts {
            clusters: BTreeMap::from([("c1".to_owned(), (2, 3))]),
            topics: 4,
        };
        let text = scrape("127.0.0.1:9876", &metrics, &routes);
        let base = "node_type=\"nameserver\",node_id=\"127.0.0.1:9876\"";
        for line in [
            format!(
                "rocketmq_rpc_latency_count{{{base},protocol_type=\"remoting\",request_code=\"105\",response_code=\"0\"}} 1"
            ),
            format!(
                "rocketmq_rpc_latency_count{{{base},protocol_type=\"remoting\",request_code=\"105\",response_code=\"17\"}} 1"
            ),
            format!("rocketmq_namesrv_broker_groups{{{base},cluster=\"c1\"}} 2"),
            format!("rocketmq_namesrv_brokers{{{base},cluster=\"c1\"}} 3"),
            format!("rocketmq_namesrv_topics{{{base}}} 4"),
            format!("rocketmq_namesrv_expired_brokers_total{{{base}}} 1"),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
