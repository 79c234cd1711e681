//! One scrape: the counters of the request paths and what the broker's state says now
//! (connections, topics and groups, consumer lag, store, replication, suspended pulls).

use std::sync::atomic::Ordering;

use rmq_remoting::prometheus::{Kind, Text};

use super::{Metrics, TopicCounters};
use crate::state::Broker;

/// The whole `/metrics` text of `broker`.
pub fn scrape(broker: &Broker, metrics: &Metrics) -> String {
    let cluster = broker.config.cluster_name.as_str();
    let node = broker.config.broker_name.as_str();
    let base = [
        ("cluster", cluster),
        ("node_type", "broker"),
        ("node_id", node),
    ];
    let mut text = Text::default();
    traffic(&mut text, &base, metrics);
    requests(&mut text, &base, metrics);
    gauges(&mut text, &base, broker);
    flush_latency(&mut text, &base, broker);
    lag(&mut text, &base, broker);
    text.finish()
}

type Labels<'a> = [(&'a str, &'a str); 3];

/// A per-topic counter family: name, help, and how to read it.
type Family = (&'static str, &'static str, fn(&TopicCounters) -> u64);

fn with<'a>(base: &Labels<'a>, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut labels = base.to_vec();
    labels.extend_from_slice(more);
    labels
}

fn traffic(text: &mut Text, base: &Labels<'_>, metrics: &Metrics) {
    let topics = metrics.topics();
    let families: [Family; 4] = [
        (
            "rocketmq_messages_in_total",
            "Messages stored by sends, by topic.",
            |c| c.messages_in.get(),
        ),
        (
            "rocketmq_messages_out_total",
            "Messages handed to consumers, by topic.",
            |c| c.messages_out.get(),
        ),
        (
            "rocketmq_throughput_in_total",
            "Bytes stored by sends, by topic.",
            |c| c.bytes_in.get(),
        ),
        (
            "rocketmq_throughput_out_total",
            "Bytes handed to consumers, by topic.",
            |c| c.bytes_out.get(),
        ),
    ];
    for (name, help, read) in families {
        text.family(name, Kind::Counter, help);
        for (topic, counters) in &topics {
            text.sample(
                name,
                &with(base, &[("topic", topic)]),
                read(counters) as f64,
            );
        }
    }
    let (buckets, sum, count) = metrics.message_size.snapshot();
    text.family(
        "rocketmq_message_size",
        Kind::Histogram,
        "Size of stored messages (bytes).",
    );
    text.histogram("rocketmq_message_size", base, &buckets, sum, count);
    for (name, help, value) in [
        (
            "rocketmq_send_to_dlq_messages_total",
            "Messages moved to a dead-letter queue.",
            &metrics.sent_to_dlq,
        ),
        (
            "rocketmq_commit_messages_total",
            "Transactional messages committed.",
            &metrics.commits,
        ),
        (
            "rocketmq_rollback_messages_total",
            "Transactional messages rolled back.",
            &metrics.rollbacks,
        ),
    ] {
        text.family(name, Kind::Counter, help);
        text.sample(name, base, value.load(Ordering::Relaxed) as f64);
    }
}

fn requests(text: &mut Text, base: &Labels<'_>, metrics: &Metrics) {
    metrics.requests.write(text, base);
}

fn gauges(text: &mut Text, base: &Labels<'_>, broker: &Broker) {
    let store = &broker.store;
    let (producers, consumers) = broker.clients().counts();
    let max = store.commit_log_max_offset();
    let now = broker.clock.now_ms();
    let mut gauge = |name: &str, help: &str, value: f64| {
        text.family(name, Kind::Gauge, help);
        text.sample(name, base, value);
    };
    gauge(
        "rocketmq_producer_connections",
        "Producer connections.",
        producers as f64,
    );
    gauge(
        "rocketmq_consumer_connections",
        "Consumer connections.",
        consumers as f64,
    );
    gauge(
        "rocketmq_topic_number",
        "Topics on this broker.",
        broker.topics.snapshot().topic_config_table.len() as f64,
    );
    gauge(
        "rocketmq_consumer_group_number",
        "Subscription groups on this broker.",
        broker.groups.snapshot().subscription_group_table.len() as f64,
    );
    gauge(
        "rocketmq_broker_permission",
        "brokerPermission (6: read and write).",
        f64::from(broker.permission()),
    );
    gauge(
        "rocketmq_storage_size",
        "Bytes of commit log held.",
        max.saturating_sub(store.commit_log_min_offset()) as f64,
    );
    gauge(
        "rocketmq_storage_flush_behind_bytes",
        "Bytes appended but not yet flushed.",
        max.saturating_sub(store.commit_log_flushed_offset()) as f64,
    );
    gauge(
        "rocketmq_storage_dispatch_behind_bytes",
        "Bytes appended but not yet in consume queues.",
        max.saturating_sub(store.dispatched_offset()) as f64,
    );
    gauge(
        "rocketmq_storage_message_reserve_time",
        "Age of the oldest stored message (ms).",
        store
            .earliest_store_time()
            .map_or(0.0, |t| (now - t).max(0) as f64),
    );
    if let Some((total, free)) = store.disk_capacity() {
        gauge(
            "rocketmq_storage_disk_used_ratio",
            "Share of the store's filesystem in use.",
            if total == 0 {
                0.0
            } else {
                1.0 - free as f64 / total as f64
            },
        );
    }
    // The store stamps appends with the wall clock, not the broker's clock.
    let lock_ms = store.page_cache_lock_ms(rmq_store::commit_log::now_ms());
    gauge(
        "rocketmq_storage_page_cache_lock_time",
        "How long the append in progress has held the commit log (ms); 0 when none runs.",
        lock_ms as f64,
    );
    gauge(
        "rocketmq_storage_page_cache_busy",
        "1 while an append has held the commit log past osPageCacheBusyTimeOutMills (Apache's 1000 ms).",
        f64::from(u8::from(lock_ms > PAGE_CACHE_BUSY_MS)),
    );
    gauge(
        "rocketmq_pull_suspended_requests",
        "Pulls held by long polling now.",
        broker.waiters.len() as f64,
    );
    for (key, value) in broker.replication.runtime_info(store) {
        let name = match key {
            "haConnectionCount" => "rocketmq_ha_connected_slaves",
            "haReplicationLagBytes" => "rocketmq_ha_slave_lag_bytes",
            "haReplicationLagMillis" => "rocketmq_ha_slave_lag_latency",
            "haSyncWaiting" => "rocketmq_ha_sync_waiting_requests",
            _ => continue,
        };
        if let Ok(value) = value.parse::<f64>() {
            gauge(name, "Replication (master side).", value);
        }
    }
}

/// Apache's default `osPageCacheBusyTimeOutMills`.
const PAGE_CACHE_BUSY_MS: i64 = 1000;

fn flush_latency(text: &mut Text, base: &Labels<'_>, broker: &Broker) {
    let name = "rocketmq_storage_flush_latency";
    text.family(
        name,
        Kind::Histogram,
        "Time a commit log flush (fdatasync) took (ms).",
    );
    let read = broker.store.flush_latency();
    let buckets: Vec<(f64, u64)> = read
        .buckets
        .iter()
        .map(|(bound, n)| (bound.map_or(f64::INFINITY, |b| b as f64), *n))
        .collect();
    text.histogram(name, base, &buckets, read.sum_ms, read.count);
}

/// Most group/topic lag series written per scrape.
const MAX_LAG_SERIES: usize = 2000;

fn lag(text: &mut Text, base: &Labels<'_>, broker: &Broker) {
    let store = &broker.store;
    let now = broker.clock.now_ms();
    let table = broker.offsets.snapshot().offset_table;
    let mut rows = Vec::new();
    for (key, queues) in table.iter().take(MAX_LAG_SERIES) {
        let Some((topic, group)) = key.split_once('@') else {
            continue;
        };
        let mut messages = 0i64;
        let mut oldest = None::<i64>;
        for (&queue_id, &committed) in queues {
            let end = store.max_offset_in_queue(topic, queue_id) as i64;
            let behind = (end - committed.max(0)).max(0);
            messages += behind;
            if behind > 0
                && let Some(t) = store.store_time(topic, queue_id, committed.max(0) as u64)
            {
                oldest = Some(oldest.map_or(t, |o| o.min(t)));
            }
        }
        let latency = oldest.map_or(0, |t| (now - t).max(0));
        rows.push((topic, group, messages, latency));
    }
    let families: [(&str, &str, bool); 2] = [
        (
            "rocketmq_consumer_lag_messages",
            "Messages a group has not consumed, by topic.",
            true,
        ),
        (
            "rocketmq_consumer_lag_latency",
            "How long the oldest unconsumed message of a group has waited (ms).",
            false,
        ),
    ];
    for (name, help, count) in families {
        text.family(name, Kind::Gauge, help);
        for (topic, group, messages, latency) in &rows {
            let value = if count { *messages } else { *latency };
            text.sample(
                name,
                &with(base, &[("topic", topic), ("consumer_group", group)]),
                value as f64,
            );
        }
    }
}
