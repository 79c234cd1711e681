//! Prometheus exposition shared by the broker and the name server: sharded counters and
//! fixed-bucket histograms the request paths bump without contention ([`Counter`],
//! [`Histogram`]), the text format ([`text`]) and a minimal `/metrics` HTTP endpoint ([`http`]).

pub mod http;
pub mod text;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rmq_protocol::conf::Value;

pub use text::{Kind, Text};

/// Where metrics go (`metricsExporterType`, Apache 5's key), for broker and name server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    /// Not exported (Apache's default).
    Disable,
    /// Served for Prometheus on `metricsPromExporterHost:metricsPromExporterPort` at `/metrics`.
    Prom,
}

impl Value for Exporter {
    const EXPECTED: &'static str = "DISABLE or PROM (OTLP_GRPC and LOG are not supported)";
    fn parse_value(text: &str) -> Option<Exporter> {
        match text {
            "DISABLE" => Some(Exporter::Disable),
            "PROM" => Some(Exporter::Prom),
            _ => None,
        }
    }
    fn write_value(&self) -> String {
        match self {
            Exporter::Disable => "DISABLE",
            Exporter::Prom => "PROM",
        }
        .to_owned()
    }
}

/// `metricsPromExporterHost`: an IP address, or empty (Apache's default) for the server's own
/// bind address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExporterHost(pub Option<IpAddr>);

impl ExporterHost {
    /// The endpoint's address on `port`, `fallback` (the server's bind address) when empty.
    pub fn addr(self, fallback: IpAddr, port: u16) -> SocketAddr {
        SocketAddr::new(self.0.unwrap_or(fallback), port)
    }
}

impl Value for ExporterHost {
    const EXPECTED: &'static str = "an IP address, or empty for the server's bind address";
    fn parse_value(text: &str) -> Option<ExporterHost> {
        let text = text.trim();
        if text.is_empty() {
            return Some(ExporterHost(None));
        }
        text.parse().ok().map(|ip| ExporterHost(Some(ip)))
    }
    fn write_value(&self) -> String {
        self.0.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

/// Counter shards: each thread adds to its own (cache-line apart), so the request paths of two
/// cores never write the same line; a scrape sums them.
const SHARDS: usize = 8;

#[derive(Debug, Default)]
#[repr(align(64))]
struct Shard(AtomicU64);

/// A monotonic count, sharded by thread.
#[derive(Debug, Default)]
pub struct Counter {
    shards: [Shard; SHARDS],
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

impl Counter {
    pub fn add(&self, n: u64) {
        self.shards[shard_index()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// A histogram with fixed bucket bounds; counts are cumulative only when written.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One count per bound, plus one for values above the last.
    counts: Box<[Counter]>,
    /// Sum of observed values, in thousandths of the unit.
    sum_milli: Counter,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| Counter::default()).collect(),
            sum_milli: Counter::default(),
        }
    }

    pub fn observe(&self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[slot].add(1);
        self.sum_milli.add((value * 1000.0) as u64);
    }

    /// `(upper bound, cumulative count)` per bucket, `+Inf` last; the sum; the count.
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, f64, u64) {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (slot, count) in self.counts.iter().enumerate() {
            cumulative += count.get();
            let bound = self.bounds.get(slot).copied().unwrap_or(f64::INFINITY);
            buckets.push((bound, cumulative));
        }
        let sum = self.sum_milli.get() as f64 / 1000.0;
        (buckets, sum, cumulative)
    }
}

/// Bounds of the request latency histogram, in milliseconds (Apache's `rocketmq_rpc_latency`
/// buckets: 1, 3, 5, 10, 100, 1000, 3000 ms and beyond).
pub const LATENCY_BUCKETS_MS: [f64; 7] = [1.0, 3.0, 5.0, 10.0, 100.0, 1000.0, 3000.0];

/// `rocketmq_rpc_latency`: one histogram per request and response code pair answered.
#[derive(Debug, Default)]
pub struct RequestSeries {
    series: RwLock<BTreeMap<(i32, i32), Arc<Histogram>>>,
}

impl RequestSeries {
    /// The histogram of one pair, created on first use.
    pub fn histogram(&self, request_code: i32, response_code: i32) -> Arc<Histogram> {
        let key = (request_code, response_code);
        let found = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        found.unwrap_or_else(|| {
            self.series
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_insert_with(|| Arc::new(Histogram::new(&LATENCY_BUCKETS_MS)))
                .clone()
        })
    }

    /// One answered request.
    pub fn observe(&self, request_code: i32, response_code: i32, took: Duration) {
        self.histogram(request_code, response_code)
            .observe(took.as_secs_f64() * 1000.0);
    }

    /// Every pair's histogram, by request then response code.
    pub fn all(&self) -> Vec<((i32, i32), Arc<Histogram>)> {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(key, h)| (*key, h.clone()))
            .collect()
    }

    /// The family with one series per pair, each with `labels` first.
    pub fn write(&self, text: &mut Text, labels: &[(&str, &str)]) {
        let name = "rocketmq_rpc_latency";
        text.family(
            name,
            Kind::Histogram,
            "Time to answer a request (ms), by request and response code.",
        );
        for ((request_code, response_code), histogram) in self.all() {
            let (request, response) = (request_code.to_string(), response_code.to_string());
            let mut with = labels.to_vec();
            with.extend([
                ("protocol_type", "remoting"),
                ("request_code", request.as_str()),
                ("response_code", response.as_str()),
            ]);
            let (buckets, sum, count) = histogram.snapshot();
            text.histogram(name, &with, &buckets, sum, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_exporter_binds_the_host_when_given_and_the_server_address_otherwise() {
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let empty = ExporterHost::parse_value("").unwrap();
        assert_eq!(empty.addr(any, 5557), "0.0.0.0:5557".parse().unwrap());
        assert_eq!(empty.write_value(), "");
        let given = ExporterHost::parse_value(" 127.0.0.1 ").unwrap();
        assert_eq!(given.addr(any, 1), "127.0.0.1:1".parse().unwrap());
        assert_eq!(given.write_value(), "127.0.0.1");
        assert_eq!(ExporterHost::parse_value("metrics.local"), None);
        assert_eq!(Exporter::parse_value("PROM"), Some(Exporter::Prom));
        assert_eq!(Exporter::parse_value("OTLP_GRPC"), None);
    }

    #[test]
    fn each_request_and_response_code_pair_is_one_series_written_with_its_codes() {
        let series = RequestSeries::default();
        series.observe(10, 0, Duration::from_millis(2));
        series.observe(10, 0, Duration::from_millis(4));
        series.observe(10, 1, Duration::from_millis(4));
        let all = series.all();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].1.snapshot().2, 2);
        let mut text = Text::default();
        series.write(&mut text, &[("node_id", "n")]);
        let text = text.finish();
        assert!(
            text.contains("rocketmq_rpc_latency_count{node_id=\"n\",protocol_type=\"remoting\",request_code=\"10\",response_code=\"1\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn counts_added_from_several_threads_sum_on_read() {
        let counter = Arc::new(Counter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counter.add(2);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.get(), 8000);
    }

    #[test]
    fn a_histogram_counts_each_value_in_its_bucket_and_reads_cumulatively() {
        let h = Histogram::new(&[1.0, 3.0, 5.0, 10.0, 100.0, 1000.0, 3000.0]);
        for value in [0.5, 2.0, 2.5, 50.0, 9_999.0] {
            h.observe(value);
        }
        let (buckets, sum, count) = h.snapshot();
        assert_eq!(count, 5);
        assert_eq!(buckets[0], (1.0, 1));
        assert_eq!(buckets[1], (3.0, 3));
        assert_eq!(buckets[4], (100.0, 4));
        assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, 5));
        assert!((sum - 10_054.0).abs() < 0.01);
    }
}
