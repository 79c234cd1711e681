//! What the metrics add to one request on the hot paths: a send (request latency, topic in
//! counters, message size) and a pull (request latency, topic out and group counters), each
//! from two threads at once as the broker's two runtime workers would.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rmq_broker::metrics::Metrics;

fn send_path(metrics: &Metrics) {
    let started = Instant::now();
    metrics.messages_in(black_box("BenchTopic"), 1, 128);
    metrics.request(310, 0, started.elapsed());
}

fn pull_path(metrics: &Metrics) {
    let started = Instant::now();
    metrics.messages_out(black_box("BenchTopic"), 1, 128);
    metrics.group_out(black_box("BenchTopic"), black_box("bench-e2e"), 1, 128);
    metrics.request(11, 0, started.elapsed());
}

/// `iters` calls of `path`, half on this thread and half on another at the same time.
fn two_threads(metrics: &Arc<Metrics>, iters: u64, path: fn(&Metrics)) -> Duration {
    let other = {
        let metrics = metrics.clone();
        std::thread::spawn(move || {
            for _ in 0..iters / 2 {
                path(&metrics);
            }
        })
    };
    let started = Instant::now();
    for _ in 0..iters - iters / 2 {
        path(metrics);
    }
    let _ = other.join();
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let metrics = Arc::new(Metrics::new(1000));
    c.bench_function("metrics/send path, one thread", |b| {
        b.iter(|| send_path(&metrics))
    });
    c.bench_function("metrics/pull path, one thread", |b| {
        b.iter(|| pull_path(&metrics))
    });
    c.bench_function("metrics/send path, two threads", |b| {
        b.iter_custom(|iters| two_threads(&metrics, iters, send_path))
    });
    c.bench_function("metrics/pull path, two threads", |b| {
        b.iter_custom(|iters| two_threads(&metrics, iters, pull_path))
    });
    c.bench_function("metrics/Instant::now twice (the timing alone)", |b| {
        b.iter(|| black_box(Instant::now().elapsed()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
