//! Prometheus metrics of the broker, with Apache RocketMQ 5's metric names so dashboards made
//! for Apache's OpenTelemetry exporter work unchanged.
//!
//! The request paths bump counters held here ([`Metrics`]); everything else (lag, store, HA,
//! connections) is read from the broker's state when `/metrics` is scraped ([`scrape`]).
//! `rmq_remoting::prometheus` writes the text format and serves it (`metricsExporterType=PROM`,
//! `metricsPromExporterHost`, `metricsPromExporterPort`).
//!
//! Label cardinality is bounded: at most `metricsMaxTopics` topics get their own series
//! (later ones count under `topic="_other"`), at most `metricsMaxLagSeries` group/topic lag
//! series are written per scrape, and request series are one per request and response code
//! pair the broker has answered.

pub mod scrape;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

pub use rmq_remoting::prometheus::{Counter, Histogram, RequestSeries};

/// Identifies a [`Metrics`] in the per-thread caches (tests run several brokers in a process).
static NEXT_METRICS_ID: AtomicU64 = AtomicU64::new(1);

/// Per-thread caches, by [`Metrics`] id (almost always one).
type Cache<T> = RefCell<Vec<(u64, T)>>;

/// The entry of metrics `id` in a per-thread cache.
fn cached<T: Default>(cache: &mut Vec<(u64, T)>, id: u64) -> &mut T {
    let at = match cache.iter().position(|(owner, _)| *owner == id) {
        Some(at) => at,
        None => {
            cache.push((id, T::default()));
            cache.len() - 1
        }
    };
    &mut cache[at].1
}

/// Runs `f` on the entry of metrics `id` when this thread has one.
fn peek<T, R>(cache: &[(u64, T)], id: u64, f: impl FnOnce(&T) -> Option<R>) -> Option<R> {
    cache
        .iter()
        .find(|(owner, _)| *owner == id)
        .and_then(|(_, entry)| f(entry))
}

thread_local! {
    /// Per thread, the counters already looked up, so the request paths skip the shared maps'
    /// locks after the first time.
    static TOPIC_CACHE: Cache<HashMap<String, Arc<TopicCounters>>> = RefCell::default();
    static GROUP_CACHE: Cache<HashMap<String, HashMap<String, Arc<GroupCounters>>>> = RefCell::default();
    static REQUEST_CACHE: Cache<HashMap<(i32, i32), Arc<Histogram>>> = RefCell::default();
}

/// The label of topics past the cap.
pub const OTHER_TOPIC: &str = "_other";

/// Bounds of the message size histogram, in bytes (Apache's `rocketmq_message_size`).
pub const SIZE_BUCKETS: [f64; 8] = [
    1024.0,
    4096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
];

/// Counts of one topic.
#[derive(Debug, Default)]
pub struct TopicCounters {
    pub messages_in: Counter,
    pub bytes_in: Counter,
    pub messages_out: Counter,
    pub bytes_out: Counter,
}

/// What one group took from one topic.
#[derive(Debug, Default)]
pub struct GroupCounters {
    pub messages: Counter,
    pub bytes: Counter,
    /// Pulls that returned messages.
    pub pulls: Counter,
}

/// What the request paths count.
#[derive(Debug)]
pub struct Metrics {
    id: u64,
    max_topics: usize,
    topics: RwLock<HashMap<String, Arc<TopicCounters>>>,
    other: Arc<TopicCounters>,
    /// By topic, then group; at most `max_topics` pairs in all.
    groups: RwLock<HashMap<String, HashMap<String, Arc<GroupCounters>>>>,
    group_pairs: AtomicU64,
    pub requests: RequestSeries,
    pub message_size: Histogram,
    pub sent_to_dlq: AtomicU64,
    pub commits: AtomicU64,
    pub rollbacks: AtomicU64,
}

impl Metrics {
    pub fn new(max_topics: usize) -> Metrics {
        Metrics {
            id: NEXT_METRICS_ID.fetch_add(1, Ordering::Relaxed),
            max_topics,
            topics: RwLock::default(),
            other: Arc::default(),
            groups: RwLock::default(),
            group_pairs: AtomicU64::new(0),
            requests: RequestSeries::default(),
            message_size: Histogram::new(&SIZE_BUCKETS),
            sent_to_dlq: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            rollbacks: AtomicU64::new(0),
        }
    }

    /// Runs `f` on the counters of `topic` (past the cap, the shared `_other` ones). After the
    /// first time on a thread, no lock is taken and no reference count touched.
    fn with_topic(&self, topic: &str, f: impl FnOnce(&TopicCounters)) {
        let mut f = Some(f);
        let hit = TOPIC_CACHE.with(|cache| {
            peek(&cache.borrow(), self.id, |topics| {
                topics.get(topic).map(|counters| {
                    if let Some(f) = f.take() {
                        f(counters);
                    }
                })
            })
        });
        if hit.is_some() {
            return;
        }
        let found = self.topic(topic);
        if !Arc::ptr_eq(&found, &self.other) {
            TOPIC_CACHE.with(|cache| {
                cached(&mut cache.borrow_mut(), self.id).insert(topic.to_owned(), found.clone());
            });
        }
        if let Some(f) = f.take() {
            f(&found);
        }
    }

    /// The counters of `topic`; past the cap, the shared `_other` ones.
    pub fn topic(&self, topic: &str) -> Arc<TopicCounters> {
        self.topic_shared(topic)
    }

    fn topic_shared(&self, topic: &str) -> Arc<TopicCounters> {
        if let Some(found) = self
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
        {
            return found.clone();
        }
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = topics.get(topic) {
            return found.clone();
        }
        if topics.len() >= self.max_topics {
            return self.other.clone();
        }
        let counters = Arc::new(TopicCounters::default());
        topics.insert(topic.to_owned(), counters.clone());
        counters
    }

    /// Messages stored for `topic` by a send.
    pub fn messages_in(&self, topic: &str, messages: u64, bytes: u64) {
        self.with_topic(topic, |counters| {
            counters.messages_in.add(messages);
            counters.bytes_in.add(bytes);
        });
        if messages > 0 {
            self.message_size.observe(bytes as f64 / messages as f64);
        }
    }

    /// Messages of `topic` handed to a consumer.
    pub fn messages_out(&self, topic: &str, messages: u64, bytes: u64) {
        self.with_topic(topic, |counters| {
            counters.messages_out.add(messages);
            counters.bytes_out.add(bytes);
        });
    }

    /// Messages of `topic` handed to `group` by one pull. Pairs past the cap are not kept
    /// per group (the topic's counters still count them).
    pub fn group_out(&self, topic: &str, group: &str, messages: u64, bytes: u64) {
        let count = |counters: &GroupCounters| {
            counters.messages.add(messages);
            counters.bytes.add(bytes);
            counters.pulls.add(1);
        };
        let hit = GROUP_CACHE.with(|cache| {
            peek(&cache.borrow(), self.id, |topics| {
                topics
                    .get(topic)
                    .and_then(|groups| groups.get(group))
                    .map(|counters| count(counters))
            })
        });
        if hit.is_some() {
            return;
        }
        let found = self
            .groups
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .and_then(|groups| groups.get(group))
            .cloned();
        let counters = match found {
            Some(counters) => counters,
            None => {
                let mut groups = self.groups.write().unwrap_or_else(PoisonError::into_inner);
                let by_group = groups.entry(topic.to_owned()).or_default();
                match by_group.get(group) {
                    Some(counters) => counters.clone(),
                    None if self.group_pairs.load(Ordering::Relaxed) >= self.max_topics as u64 => {
                        return;
                    }
                    None => {
                        self.group_pairs.fetch_add(1, Ordering::Relaxed);
                        by_group.entry(group.to_owned()).or_default().clone()
                    }
                }
            }
        };
        GROUP_CACHE.with(|cache| {
            cached(&mut cache.borrow_mut(), self.id)
                .entry(topic.to_owned())
                .or_default()
                .insert(group.to_owned(), counters.clone());
        });
        count(&counters);
    }

    /// Every `(topic, group)` pair's counters.
    pub fn groups(&self) -> Vec<(String, String, Arc<GroupCounters>)> {
        let groups = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = groups
            .iter()
            .flat_map(|(topic, by_group)| {
                by_group
                    .iter()
                    .map(move |(group, c)| (topic.clone(), group.clone(), c.clone()))
            })
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        all
    }

    /// One answered request.
    pub fn request(&self, request_code: i32, response_code: i32, took: Duration) {
        let key = (request_code, response_code);
        let millis = took.as_secs_f64() * 1000.0;
        let hit = REQUEST_CACHE.with(|cache| {
            peek(&cache.borrow(), self.id, |series| {
                series.get(&key).map(|histogram| histogram.observe(millis))
            })
        });
        if hit.is_some() {
            return;
        }
        let histogram = self.requests.histogram(request_code, response_code);
        REQUEST_CACHE.with(|cache| {
            cached(&mut cache.borrow_mut(), self.id).insert(key, histogram.clone());
        });
        histogram.observe(millis);
    }

    /// Every topic's counters, `_other` last when anything was counted there.
    pub fn topics(&self) -> Vec<(String, Arc<TopicCounters>)> {
        let mut all: Vec<(String, Arc<TopicCounters>)> = self
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, counters)| (name.clone(), counters.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let other = &self.other;
        if other.messages_in.get() + other.messages_out.get() > 0 {
            all.push((OTHER_TOPIC.to_owned(), other.clone()));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_metrics_in_one_process_keep_their_own_counts() {
        let (a, b) = (Metrics::new(10), Metrics::new(10));
        a.messages_in("T", 1, 1);
        b.messages_in("T", 5, 5);
        a.messages_in("T", 1, 1);
        assert_eq!(a.topic("T").messages_in.get(), 2);
        assert_eq!(b.topic("T").messages_in.get(), 5);
    }

    #[test]
    fn topics_past_the_cap_count_under_other() {
        let metrics = Metrics::new(2);
        metrics.messages_in("a", 1, 10);
        metrics.messages_in("b", 1, 10);
        metrics.messages_in("c", 2, 20);
        metrics.messages_out("d", 1, 5);
        let topics = metrics.topics();
        let names: Vec<&str> = topics.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b", OTHER_TOPIC]);
        let other = &topics[2].1;
        assert_eq!(other.messages_in.get(), 2);
        assert_eq!(other.messages_out.get(), 1);
    }

    #[test]
    fn group_pairs_past_the_cap_are_not_kept() {
        let metrics = Metrics::new(1);
        metrics.group_out("T", "g1", 3, 30);
        metrics.group_out("T", "g1", 1, 10);
        metrics.group_out("T", "g2", 5, 50);
        let groups = metrics.groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].2.messages.get(), 4);
        assert_eq!(groups[0].2.pulls.get(), 2);
    }

    #[test]
    fn each_request_and_response_code_pair_is_one_series() {
        let metrics = Metrics::new(10);
        metrics.request(10, 0, Duration::from_millis(2));
        metrics.request(10, 0, Duration::from_millis(4));
        metrics.request(10, 1, Duration::from_millis(4));
        let series = metrics.requests.all();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].1.snapshot().2, 2);
    }
}
