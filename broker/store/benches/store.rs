//! Store hot paths: append (ASYNC and SYNC_FLUSH with concurrent appenders), consume-queue range
//! reads, and index lookups. `cargo bench -p rmq-store --bench store`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rmq_store::{FlushDiskType, GetRequest, MessageStore, PutMessage, StoreConfig};

fn config(root: &std::path::Path, flush: FlushDiskType) -> StoreConfig {
    let mut c = StoreConfig::new(root);
    c.flush_disk_type = flush;
    c.commit_log_file_size = 256 * 1024 * 1024;
    c.max_hash_slot_num = 100_000;
    c.max_index_num = 400_000;
    c
}

fn msg(body: &[u8]) -> PutMessage<'_> {
    PutMessage {
        properties: b"TAGS\x01TagA\x02",
        ..PutMessage::new("BenchTopic", 0, body, "127.0.0.1:9".parse().unwrap())
    }
}

fn append_async(c: &mut Criterion) {
    let mut group = c.benchmark_group("append_async_one_thread");
    for size in [128usize, 1024] {
        let dir = tempfile::tempdir().unwrap();
        let store = MessageStore::open(config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
        let body = vec![b'x'; size];
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| store.put_message(&msg(&body)).unwrap())
        });
    }
    group.finish();
}

fn append_sync(c: &mut Criterion) {
    let mut group = c.benchmark_group("append_sync_flush_concurrent");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for appenders in [1usize, 16, 64] {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(MessageStore::open(config(dir.path(), FlushDiskType::SyncFlush)).unwrap());
        group.throughput(Throughput::Elements(appenders as u64));
        group.bench_function(BenchmarkId::from_parameter(appenders), |b| {
            // One iteration = every appender appends one 128 B record and waits for its flush.
            b.iter_custom(|iters| {
                let start = Instant::now();
                let threads: Vec<_> = (0..appenders)
                    .map(|_| {
                        let store = Arc::clone(&store);
                        std::thread::spawn(move || {
                            let body = [b'x'; 128];
                            for _ in 0..iters {
                                store.put_message(&msg(&body)).unwrap().wait_durable();
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().unwrap();
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let body = [b'x'; 128];
    for i in 0..100_000u32 {
        let keys = format!("KEYS\u{1}k{i}\u{2}");
        let mut m = msg(&body);
        m.properties = keys.as_bytes();
        store.put_message(&m).unwrap();
    }
    assert!(store.wait_dispatched(Duration::from_secs(60)));
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(32));
    let mut offset = 0u64;
    group.bench_function("consume_queue_range_32", |b| {
        b.iter(|| {
            let r = store.get_message(&GetRequest {
                topic: "BenchTopic",
                queue_id: 0,
                offset,
                max_count: 32,
                max_bytes: 1 << 20,
                filter: None,
            });
            offset = if r.next_begin_offset >= 99_968 {
                0
            } else {
                r.next_begin_offset
            };
            r
        })
    });
    group.throughput(Throughput::Elements(1));
    let mut i = 0u32;
    group.bench_function("index_lookup", |b| {
        b.iter(|| {
            i = (i + 7919) % 100_000;
            store.query_by_key("BenchTopic", &format!("k{i}"), 1, 0, i64::MAX)
        })
    });
    group.finish();
}

criterion_group!(benches, append_async, append_sync, reads);
criterion_main!(benches);
