//! Opening a store: lock, load, recover, start the threads.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, mpsc};
use std::time::Instant;

use rmq_protocol::message::record::{self, RecordHead, RecordView};
use tracing::{info, warn};

use super::tail::{self, TailAction};
use super::tail_io::{Quarantined, quarantine, tail_facts};
use super::{Doorbell, Inner, MessageStore, QueueTable, services};
use crate::checkpoint::Checkpoint;
use crate::commit_log::{CommitLog, ScanEnd, WarmUp};
use crate::config::{FlushDiskType, StoreConfig};
use crate::consume_queue::ConsumeQueue;
use crate::dispatch::DispatchRequest;
use crate::error::{DispatchError, FileError, OpenStoreError};
use crate::file_queue::FileQueue;
use crate::flush::{FlushLatency, GroupCommit};
use crate::index::IndexService;
use crate::tombstones::{self, Tombstones};

/// What recovery found and did; logged, and returned for tests and tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The previous run did not shut down cleanly.
    pub abnormal: bool,
    /// Offset the validating scan started at.
    pub scan_start: u64,
    /// Offset where valid data ends.
    pub end_offset: u64,
    /// The scan stopped at an invalid (torn or corrupt) record rather than at the end of data.
    pub torn_tail: bool,
    /// Why the scan stopped.
    pub stop: String,
    /// Written data that followed an invalid record, set aside under
    /// `recoverCorruptCommitLog=truncate`.
    pub quarantined: Option<Quarantined>,
}

impl MessageStore {
    /// Opens (creating if needed) the store at `config.root_dir` and recovers it.
    pub fn open(config: StoreConfig) -> Result<Self, OpenStoreError> {
        Self::open_with_report(config).map(|(store, _)| store)
    }

    /// Like [`MessageStore::open`], also returning what recovery did.
    pub fn open_with_report(config: StoreConfig) -> Result<(Self, RecoveryReport), OpenStoreError> {
        if config.commit_log_file_size < 4096 {
            return Err(OpenStoreError::Config(format!(
                "mappedFileSizeCommitLog {} is below the 4096-byte minimum",
                config.commit_log_file_size
            )));
        }
        for dir in [config.root_dir.clone(), config.config_dir()] {
            fs::create_dir_all(&dir).map_err(|source| OpenStoreError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        }
        let lock_file = take_lock(&config)?;
        let abnormal = config.abort_path().exists();
        let commit_log = CommitLog::new(
            FileQueue::open(&config.commit_log_dir(), config.commit_log_file_size)?,
            config.store_host,
            match config.flush_disk_type {
                FlushDiskType::SyncFlush => WarmUp::ZeroFill,
                FlushDiskType::AsyncFlush => WarmUp::Prefault,
            },
        );
        let checkpoint = Checkpoint::open(&config.checkpoint_path())?;
        let tombstones =
            Tombstones::load(&config.config_dir()).map_err(OpenStoreError::Tombstones)?;
        let queues = load_queues(&config)?;
        let index = if config.message_index_enable {
            Some(IndexService::open(
                &config.index_dir(),
                config.max_hash_slot_num,
                config.max_index_num,
            )?)
        } else {
            None
        };
        let inner = Inner {
            group_commit: GroupCommit::new(config.sync_flush_timeout),
            flush_latency: FlushLatency::default(),
            retention: RwLock::new(crate::retention::Settings::of(&config)),
            tombstones,
            max_message_size: std::sync::atomic::AtomicUsize::new(config.max_message_size),
            commit_log,
            queues: RwLock::new(queues),
            index,
            checkpoint,
            poisoned: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            disk_full: AtomicBool::new(false),
            dispatch_out_of_space: AtomicBool::new(false),
            queue_room_low: AtomicBool::new(false),
            reput_offset: AtomicU64::new(0),
            doorbell: Doorbell::default(),
            dispatched: (Mutex::new(()), Condvar::new()),
            dispatch_waiters: AtomicU32::new(0),
            arrival: RwLock::new(None),
            _lock_file: lock_file,
            config,
        };
        let report = recover(&inner, abnormal)?;
        inner
            .tombstones
            .prune(inner.commit_log.min_offset())
            .map_err(OpenStoreError::Tombstones)?;
        // IMPORTANT: data recovered from the page cache of a killed process may not be on disk
        // yet; make it durable before anything new is acknowledged on top of it.
        services::flush_all(&inner)?;
        write_abort_marker(&inner.config)?;
        let inner = Arc::new(inner);
        let threads = services::start(&inner)?;
        Ok((
            MessageStore {
                inner,
                threads: Mutex::new(threads),
            },
            report,
        ))
    }
}

fn take_lock(config: &StoreConfig) -> Result<File, OpenStoreError> {
    let path = config.lock_path();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| OpenStoreError::Lock {
            path: path.clone(),
            source,
        })?;
    // SAFETY: plain syscall on a valid descriptor.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(OpenStoreError::Locked { path });
    }
    Ok(file)
}

fn write_abort_marker(config: &StoreConfig) -> Result<(), OpenStoreError> {
    let path = config.abort_path();
    let err = |source| OpenStoreError::AbortMarker {
        path: path.clone(),
        source,
    };
    File::create(&path).map_err(err)?;
    // IMPORTANT: the marker must be durable before any append, or a crash could be mistaken for a
    // clean shutdown and skip the validating recovery.
    crate::mapped_file::sync_dir(&config.root_dir).map_err(err)
}

fn load_queues(config: &StoreConfig) -> Result<QueueTable, FileError> {
    let mut table = QueueTable::default();
    let root = config.consume_queue_dir();
    let Ok(topics) = fs::read_dir(&root) else {
        return Ok(table);
    };
    for topic in topics.flatten() {
        let Some(topic_name) = topic.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Ok(queue_dirs) = fs::read_dir(topic.path()) else {
            continue;
        };
        for q in queue_dirs.flatten() {
            let Some(queue_id) = q.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let files = FileQueue::open_sparse(&q.path(), config.consume_queue_file_size)?;
            let cq = ConsumeQueue::new(&topic_name, queue_id, files);
            cq.recover();
            table.insert(Arc::new(cq));
        }
    }
    Ok(table)
}

/// Where the validating scan starts.
fn scan_start(inner: &Inner, abnormal: bool) -> u64 {
    let files = inner.commit_log.files().files();
    if files.is_empty() {
        return 0;
    }
    if !abnormal {
        // Normal: the third-last file, as Apache does; earlier files were complete and flushed.
        return files[files.len().saturating_sub(3)].start();
    }
    // Abnormal: the newest file whose first record was stored before everything was known to be
    // flushed (checkpoint), so all later data gets validated and re-dispatched.
    let safe = inner.checkpoint.min_timestamp(inner.index.is_some());
    for file in files.iter().rev() {
        let Some(raw) = file.read_raw(0, file.size().min(1 << 16)) else {
            continue;
        };
        let Ok(Some(RecordHead::Message { total_size })) = record::peek_head(raw) else {
            continue;
        };
        let Some(raw) = file.read_raw(0, total_size) else {
            continue;
        };
        if let Ok(view) = RecordView::decode(raw)
            && view.store_timestamp() != 0
            && view.store_timestamp() <= safe
        {
            return file.start();
        }
    }
    files[0].start()
}

fn recover(inner: &Inner, abnormal: bool) -> Result<RecoveryReport, OpenStoreError> {
    if abnormal && let Some(index) = &inner.index {
        // Index items stored after the checkpoint may be torn: drop those files; the scan below
        // starts early enough (checkpoint minimum including the index) to rebuild them.
        let dropped = index.discard_newer_than(inner.checkpoint.index_msg_timestamp())?;
        if dropped > 0 {
            warn!(
                files = dropped,
                "index files newer than the checkpoint discarded"
            );
        }
    }
    let start = scan_start(inner, abnormal);
    let data_end = inner.commit_log.files().last().map_or(0, |f| f.end());
    let started = Instant::now();
    let (end, stop, repaired) = rebuild(inner, start)?;
    let torn_tail = !matches!(stop, ScanEnd::Clean | ScanEnd::EndOfFiles);
    let facts = tail_facts(inner, end, stop.clone());
    let quarantined = match tail::decide(&facts, inner.config.recover_corrupt_commit_log) {
        TailAction::Cut => {
            if torn_tail {
                warn!(offset = end, reason = ?stop, abnormal, "commit log ends with a torn record followed only by zeroes; cutting it");
            }
            None
        }
        TailAction::Refuse(corrupt) => {
            let path = inner
                .commit_log
                .files()
                .find(corrupt.offset)
                .map(|f| f.path().to_path_buf())
                .unwrap_or_else(|| inner.config.commit_log_dir());
            return Err(OpenStoreError::CorruptCommitLog {
                path,
                offset: corrupt.offset,
                bytes_following: corrupt.bytes_following(),
                bytes_at_stake: corrupt.bytes_at_stake(),
                reason: corrupt.reason,
                quarantine: inner.config.quarantine_dir(),
            });
        }
        TailAction::Quarantine(corrupt) => {
            let q = quarantine(inner, &corrupt)?;
            warn!(
                dir = %q.dir.display(),
                offset = q.offset,
                bytes = q.bytes,
                messages_at_least = q.messages_at_least,
                reason = %q.reason,
                "written data after an invalid commit log record was set aside (recoverCorruptCommitLog=truncate); the log is cut at the invalid record"
            );
            Some(q)
        }
    };
    inner.commit_log.truncate(end)?;
    if let Some(last) = inner.commit_log.files().last() {
        // A file another broker wrote (Apache creates them sparse) gets its blocks now, so that
        // appends through the mapping never meet a hole on a full disk (SIGBUS). Without room,
        // appends there stay guarded by the disk-usage check alone.
        if let Err(e) = last.ensure_allocated(last.size()) {
            warn!(error = %e, cause = ?std::error::Error::source(&e), "the commit log's last file could not get all its blocks");
        }
    }
    let queues: Vec<Arc<ConsumeQueue>> = inner
        .queues
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .all();
    let mut offsets = HashMap::new();
    for q in &queues {
        q.truncate_dirty(end)?;
        offsets.insert(
            format!("{}-{}", q.topic(), q.queue_id()),
            q.max_offset() as i64,
        );
    }
    inner.commit_log.set_queue_offsets(offsets);

    if let Some(index) = &inner.index {
        // Records at or past `end` are gone: new records there must be indexed again.
        let w = index.dispatch_watermark();
        if w.is_some_and(|w| w >= end as i64) {
            index.reset_dispatch_watermark(end.checked_sub(1).map(|e| e as i64));
        }
    }
    inner.reput_offset.store(end, Ordering::Release);
    let report = RecoveryReport {
        abnormal,
        scan_start: start,
        end_offset: end,
        torn_tail,
        stop: format!("{stop:?}"),
        quarantined,
    };
    info!(
        ?report,
        data_end,
        repaired_cq_entries = repaired,
        scan_ms = started.elapsed().as_millis() as u64,
        "store recovered"
    );
    Ok(report)
}

/// Validated records per batch handed from the scan to the index builder.
const INDEX_BATCH: usize = 256;
/// Batches the scan may run ahead of the index builder.
const INDEX_BATCHES_AHEAD: usize = 4;

/// Validates the commit log from `start` and re-dispatches every valid record: the consume
/// queues on this thread as the scan goes, the index on a second thread (`rmq-recover-index`),
/// which is handed the offsets of validated records in batches, in log order. The index rebuild
/// cost about as much as validation and consume queues together, so the two halves overlap on
/// two cores. Neither half ever sees a record past the first invalid one. Returns where valid
/// data ends, why, and how many consume queue entries were rewritten.
fn rebuild(inner: &Inner, start: u64) -> Result<(u64, ScanEnd, u64), OpenStoreError> {
    std::thread::scope(|scope| {
        let (to_index, indexer) = match &inner.index {
            Some(index) => {
                let (tx, rx) = mpsc::sync_channel::<Vec<u64>>(INDEX_BATCHES_AHEAD);
                let handle = std::thread::Builder::new()
                    .name("rmq-recover-index".into())
                    .spawn_scoped(scope, move || index_records(inner, index, rx))
                    .map_err(|source| OpenStoreError::Thread {
                        name: "rmq-recover-index",
                        source,
                    })?;
                (Some(tx), Some(handle))
            }
            None => (None, None),
        };
        let tombstones = inner.tombstones.snapshot();
        let mut cq_err: Option<DispatchError> = None;
        let mut repaired = 0u64;
        let mut queue: Option<Arc<ConsumeQueue>> = None;
        let mut batch = Vec::with_capacity(INDEX_BATCH);
        let (end, stop) = inner
            .commit_log
            .scan(start, inner.config.check_crc_on_recover, |s| {
                let req = DispatchRequest::from_record(&s.view)
                    .with_delay_levels(&inner.config.delay_levels);
                // A record of a destroyed queue (CLEAN_UNUSED_TOPIC) rebuilds nothing.
                let buried =
                    !tombstones.is_empty() && tombstones::buried(&tombstones, req.topic, s.offset);
                if cq_err.is_none() && !buried {
                    match recover_cq_entry(inner, &req, &mut queue) {
                        Ok(true) => repaired += 1,
                        Ok(false) => {}
                        Err(e) => cq_err = Some(e),
                    }
                }
                if let Some(tx) = &to_index
                    && req.goes_to_index()
                {
                    batch.push(s.offset);
                    if batch.len() == INDEX_BATCH {
                        // A send fails only when the indexer stopped on an error, which its
                        // join below reports.
                        let _ = tx.send(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(INDEX_BATCH),
                        ));
                    }
                }
            });
        if let Some(tx) = to_index {
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            // Dropping the sender ends the indexer's loop once it has drained the channel.
            drop(tx);
        }
        if let Some(handle) = indexer {
            match handle.join() {
                Ok(result) => result?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        if let Some(e) = cq_err {
            return Err(e.into());
        }
        Ok((end, stop, repaired))
    })
}

/// The consume-queue half of re-dispatching one record (see [`ConsumeQueue::recover_put`]).
/// `cached` keeps the queue of the previous record: records come in runs of one queue (batches),
/// and the table lookup allocated its key for every record.
fn recover_cq_entry(
    inner: &Inner,
    req: &DispatchRequest<'_>,
    cached: &mut Option<Arc<ConsumeQueue>>,
) -> Result<bool, DispatchError> {
    if !req.goes_to_consume_queue() {
        return Ok(false);
    }
    let cq_err = |source| DispatchError::ConsumeQueue {
        topic: req.topic.to_owned(),
        queue_id: req.queue_id,
        source,
    };
    let q = match cached {
        Some(q) if q.queue_id() == req.queue_id && q.topic() == req.topic => Arc::clone(q),
        _ => {
            let q = inner
                .queue_or_create(req.topic, req.queue_id)
                .map_err(cq_err)?;
            *cached = Some(Arc::clone(&q));
            q
        }
    };
    let repaired = q
        .recover_put(req.queue_offset as u64, req.cq_entry())
        .map_err(cq_err)?;
    inner
        .checkpoint
        .set_logics_msg_timestamp(req.store_timestamp);
    Ok(repaired)
}

/// The index half: indexes the records at the offsets received, in order, until the scan drops
/// its sender.
fn index_records(
    inner: &Inner,
    index: &IndexService,
    batches: mpsc::Receiver<Vec<u64>>,
) -> Result<(), DispatchError> {
    let files = inner.commit_log.files().files();
    let mut at = 0;
    for batch in batches {
        for offset in batch {
            while at < files.len() && offset >= files[at].end() {
                at += 1;
            }
            // The scan validated the record at `offset` and nothing writes during recovery, so
            // it reads and decodes as it did there.
            let Some(view) = files.get(at).and_then(|file| {
                let pos = (offset - file.start()) as usize;
                let head = file.read_raw(pos, record::BLANK_HEADER_LEN)?;
                let Ok(Some(RecordHead::Message { total_size })) = record::peek_head(head) else {
                    return None;
                };
                RecordView::decode(file.read_raw(pos, total_size)?).ok()
            }) else {
                continue;
            };
            index
                .build_index(&DispatchRequest::from_record(&view))
                .map_err(DispatchError::Index)?;
        }
    }
    Ok(())
}
