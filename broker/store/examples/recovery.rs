//! Crash-recovery benchmark: fills a store as fast as it takes batches, SIGKILLs itself, and then
//! times how long the next open takes.
//!
//! ```text
//! cargo run --release -p rmq-store --example recovery -- fill <root> <bytes> [cq-flush-ms]
//! cargo run --release -p rmq-store --example recovery -- open <root>
//! ```
//!
//! `fill` appends batches of 32 messages (bodies alternating 128 B and 1 KiB, each with `TAGS`,
//! `KEYS` and `UNIQ_KEY` as a broker stores them, over 16 queues) with the default configuration
//! (1 GiB commit log files, ASYNC_FLUSH) until the commit log holds `bytes`, then sends itself
//! SIGKILL: no destructor runs, the abort marker stays, the checkpoint is whatever the flush
//! thread last wrote. A `cq-flush-ms` larger than the fill time keeps the checkpoint at its value
//! from the open, so recovery must start at the first file (the worst case). `open` opens the
//! store, prints the recovery report and the time `MessageStore::open` took, and shuts down.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use rmq_store::{BatchItem, MessageStore, PutBatch, StoreConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("fill") if args.len() >= 4 => {
            let cq_flush = args.get(4).map(|s| s.parse()).transpose()?;
            fill(&args[2], args[3].parse()?, cq_flush)
        }
        Some("open") if args.len() == 3 => open(&args[2]),
        _ => anyhow::bail!("usage: recovery fill <root> <bytes> [cq-flush-ms] | open <root>"),
    }
}

fn fill(root: &str, target: u64, cq_flush_ms: Option<u64>) -> anyhow::Result<()> {
    let mut config = StoreConfig::new(root);
    if let Some(ms) = cq_flush_ms {
        config.flush_interval_consume_queue = Duration::from_millis(ms);
    }
    let store = MessageStore::open(config)?;
    let small = vec![b's'; 128];
    let large = vec![b'l'; 1024];
    let born_host = "127.0.0.1:1".parse()?;
    let started = Instant::now();
    let mut seq = 0u64;
    let mut props: Vec<Vec<u8>> = Vec::with_capacity(32);
    loop {
        props.clear();
        for i in 0..32u64 {
            let n = seq + i;
            props.push(
                format!(
                    "TAGS\u{1}tag{}\u{2}KEYS\u{1}key-{n}\u{2}UNIQ_KEY\u{1}7F000001{n:024X}\u{2}",
                    n % 8
                )
                .into_bytes(),
            );
        }
        let items: Vec<BatchItem<'_>> = props
            .iter()
            .enumerate()
            .map(|(i, p)| BatchItem {
                flag: 0,
                body: if i % 2 == 0 { &small } else { &large },
                properties: p,
            })
            .collect();
        store.put_batch(&PutBatch {
            topic: "RecoveryBench",
            queue_id: (seq / 32 % 16) as i32,
            sys_flag: 0,
            born_timestamp: 0,
            born_host,
            reconsume_times: 0,
            items: &items,
        })?;
        seq += 32;
        if store.commit_log_max_offset() >= target {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "filled {} bytes, {seq} messages in {secs:.2} s ({:.0} MiB/s); dispatched to {}; SIGKILL",
        store.commit_log_max_offset(),
        store.commit_log_max_offset() as f64 / secs / (1 << 20) as f64,
        store.dispatched_offset(),
    );
    // SAFETY: plain syscall; the process ends here without running any destructor, as `kill -9`.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    Ok(())
}

fn open(root: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let (store, report) = MessageStore::open_with_report(StoreConfig::new(root))?;
    let took = started.elapsed();
    println!(
        "open took {:.1} ms: {report:?} (scanned {} bytes)",
        took.as_secs_f64() * 1000.0,
        report.end_offset - report.scan_start
    );
    store.shutdown();
    Ok(())
}
