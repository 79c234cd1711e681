//! Test helper for the crash test: appends messages under SYNC_FLUSH from several threads and
//! prints `ACK <seq> <offset>` for each one whose flush completed, until killed or done.
//!
//! Usage: `store-crash-writer <root-dir> <first-seq> <count> <threads>`

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rmq_store::{FlushDiskType, FlushStatus, MessageStore, PutMessage, StoreConfig};

/// The body of message `seq`: deterministic so the test can check it byte for byte.
fn body(seq: u64) -> Vec<u8> {
    let unit = format!("msg-{seq}-");
    unit.as_bytes()
        .iter()
        .copied()
        .cycle()
        .take(64 + (seq % 200) as usize)
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 5,
        "usage: store-crash-writer <root> <first-seq> <count> <threads>"
    );
    let first: u64 = args[2].parse()?;
    let count: u64 = args[3].parse()?;
    let threads: usize = args[4].parse()?;
    let mut config = StoreConfig::new(&args[1]);
    config.flush_disk_type = FlushDiskType::SyncFlush;
    config.commit_log_file_size = 64 * 1024;
    config.consume_queue_file_size = 100 * 20;
    config.max_index_num = 10_000;
    config.max_hash_slot_num = 1_000;
    let store = Arc::new(MessageStore::open(config)?);
    let next = Arc::new(AtomicU64::new(first));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (store, next, out) = (Arc::clone(&store), Arc::clone(&next), Arc::clone(&out));
            std::thread::spawn(move || -> anyhow::Result<()> {
                loop {
                    let seq = next.fetch_add(1, Ordering::SeqCst);
                    if seq >= first + count {
                        return Ok(());
                    }
                    let body = body(seq);
                    let keys = format!("KEYS\u{1}k{seq}\u{2}");
                    let put = store.put_message(&PutMessage {
                        properties: keys.as_bytes(),
                        ..PutMessage::new("CrashTopic", 0, &body, "127.0.0.1:1".parse()?)
                    })?;
                    if put.wait_durable() == FlushStatus::Flushed {
                        let mut out = out.lock().map_err(|_| anyhow::anyhow!("stdout lock"))?;
                        writeln!(out, "ACK {seq} {}", put.appended.record_offsets[0])?;
                        out.flush()?;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
    }
    Ok(())
}
