//! The message store: the commit log, the consume queues and the index behind one API, with the
//! threads that dispatch, flush and clean.
//!
//! What an acknowledgement promises depends on the flush mode: under ASYNC_FLUSH an appended
//! record is in the page cache and will be flushed within `flushIntervalCommitLog`; under
//! SYNC_FLUSH the returned [`FlushHandle`] completes `Flushed` only after an fdatasync covered the
//! record's last byte.

mod open;
mod queue_reader;
mod queue_table;
mod read;
mod replica;
mod services;
pub mod tail;
mod tail_io;

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rmq_protocol::message::properties::{self, keys};
use tracing::{error, info};

use crate::checkpoint::Checkpoint;
use crate::commit_log::{Appended, CommitLog, PutBatch, PutMessage};
use crate::config::{FlushDiskType, StoreConfig};
use crate::consume_queue::ConsumeQueue;
use crate::dispatch::Arrival;
use crate::error::{DestroyQueuesError, FileError, PutError};
use crate::flush::{FlushHandle, FlushLatency, FlushLatencySnapshot, FlushStatus, GroupCommit};
use crate::index::IndexService;
use crate::retention;

pub use open::RecoveryReport;
pub use read::{GetRequest, GetResult, GetStatus};
pub use replica::ReplicaWriter;
pub use tail_io::Quarantined;

/// Called by the dispatch thread for every message that becomes visible in a consume queue.
pub type ArrivalListener = Box<dyn Fn(&Arrival<'_>) + Send + Sync>;

/// The result of a successful append.
#[derive(Debug)]
pub struct PutResult {
    pub appended: Appended,
    /// `None` when the append needs no durability wait (ASYNC_FLUSH, or `WAIT=false`).
    pub flush: Option<FlushHandle>,
}

impl PutResult {
    /// Blocks until durable (or not required); for callers without an async runtime.
    pub fn wait_durable(&self) -> FlushStatus {
        self.flush
            .as_ref()
            .map_or(FlushStatus::Flushed, FlushHandle::wait)
    }
}

use queue_table::QueueTable;

/// Wakes the dispatch thread, without a syscall when it is busy anyway.
#[derive(Debug, Default)]
struct Doorbell {
    parked: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
}

impl Doorbell {
    fn ring(&self) {
        if self.parked.load(Ordering::Acquire) {
            let _g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.cv.notify_all();
        }
    }
}

pub(crate) struct Inner {
    config: StoreConfig,
    commit_log: CommitLog,
    queues: RwLock<QueueTable>,
    index: Option<IndexService>,
    checkpoint: Checkpoint,
    group_commit: GroupCommit,
    /// How long commit log flushes took.
    flush_latency: FlushLatency,
    /// Retention keys as changed at run time (read by each retention pass).
    retention: RwLock<retention::Settings>,
    /// `maxMessageSize`, changeable at run time.
    max_message_size: std::sync::atomic::AtomicUsize,
    /// Topics whose consume queues were destroyed, so recovery does not rebuild them.
    tombstones: crate::tombstones::Tombstones,
    poisoned: AtomicBool,
    shutdown: AtomicBool,
    disk_full: AtomicBool,
    /// Dispatch found no disk space for consume queue or index entries and waits for some.
    dispatch_out_of_space: AtomicBool,
    /// A consume queue could not allocate the page after its last entry; cleared by the
    /// resource check once the disk has room again.
    queue_room_low: AtomicBool,
    /// Commit log offset up to which records are dispatched.
    reput_offset: AtomicU64,
    doorbell: Doorbell,
    /// Signalled when `reput_offset` advances and `dispatch_waiters` is not zero.
    dispatched: (Mutex<()>, Condvar),
    /// Threads in [`MessageStore::wait_dispatched`].
    dispatch_waiters: AtomicU32,
    arrival: RwLock<Option<ArrivalListener>>,
    _lock_file: File,
}

/// How long CLEAN_UNUSED_TOPIC waits for dispatch to catch up before refusing.
const DESTROY_DISPATCH_WAIT: Duration = Duration::from_secs(10);

/// A message store.
pub struct MessageStore {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for MessageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageStore")
            .field("root", &self.inner.config.root_dir)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn poison(&self, what: &str, err: &dyn std::error::Error) {
        if !self.poisoned.swap(true, Ordering::AcqRel) {
            error!(error = %err, cause = ?err.source(), "{what} failed: the store refuses all further writes to protect acknowledged data");
        }
    }

    /// Passes an append's outcome on. A failed write to the commit log poisons the store as a
    /// failed fdatasync does: the page cache may hold part of the bytes, and the next sync could
    /// report an error that belongs to them.
    fn checked(&self, appended: Result<Appended, PutError>) -> Result<Appended, PutError> {
        if let Err(PutError::Write(err)) = &appended {
            self.poison("commit log write", err);
        }
        appended
    }

    fn check_writable(&self) -> Result<(), PutError> {
        if self.shutdown.load(Ordering::Acquire) {
            return Err(PutError::ShutDown);
        }
        if self.poisoned.load(Ordering::Acquire) {
            return Err(PutError::Poisoned);
        }
        if self.disk_full.load(Ordering::Acquire)
            || self.dispatch_out_of_space.load(Ordering::Acquire)
            || self.queue_room_low.load(Ordering::Acquire)
        {
            return Err(PutError::DiskFull {
                used_ratio: services::disk_used_ratio(&self.config.commit_log_dir()).unwrap_or(1.0),
            });
        }
        Ok(())
    }

    fn after_append(&self, appended: Appended, wait: bool) -> PutResult {
        self.doorbell.ring();
        let flush = match self.config.flush_disk_type {
            FlushDiskType::SyncFlush if wait => Some(self.group_commit.submit(appended.end_offset)),
            _ => None,
        };
        PutResult { appended, flush }
    }

    fn queue(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic, queue_id)
            .cloned()
    }

    fn queue_or_create(&self, topic: &str, queue_id: i32) -> Result<Arc<ConsumeQueue>, FileError> {
        if let Some(q) = self.queue(topic, queue_id) {
            return Ok(q);
        }
        let mut table = self.queues.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(q) = table.get(topic, queue_id) {
            return Ok(Arc::clone(q));
        }
        let dir = self
            .config
            .consume_queue_dir()
            .join(topic)
            .join(queue_id.to_string());
        let files =
            crate::file_queue::FileQueue::open_sparse(&dir, self.config.consume_queue_file_size)?;
        let q = Arc::new(ConsumeQueue::new(topic, queue_id, files));
        table.insert(Arc::clone(&q));
        Ok(q)
    }
}

impl MessageStore {
    /// Appends one message. `WAIT=false` in its properties skips the SYNC_FLUSH wait.
    pub fn put_message(&self, msg: &PutMessage<'_>) -> Result<PutResult, PutError> {
        let inner = &self.inner;
        inner.check_writable()?;
        if inner.config.replica {
            return Err(PutError::ReadOnly);
        }
        let max = inner.max_message_size.load(Ordering::Relaxed);
        if msg.body.len() > max {
            return Err(PutError::BodyTooLarge {
                size: msg.body.len(),
                max,
            });
        }
        let wait = properties::find(msg.properties, keys::WAIT) != Some("false");
        let appended = inner.checked(inner.commit_log.append(msg))?;
        Ok(inner.after_append(appended, wait))
    }

    /// Appends a batch to one queue.
    pub fn put_batch(&self, batch: &PutBatch<'_>) -> Result<PutResult, PutError> {
        let inner = &self.inner;
        inner.check_writable()?;
        if inner.config.replica {
            return Err(PutError::ReadOnly);
        }
        let size: usize = batch.items.iter().map(|i| i.body.len()).sum();
        let max = inner.max_message_size.load(Ordering::Relaxed);
        if size > max {
            return Err(PutError::BodyTooLarge { size, max });
        }
        let appended = inner.checked(inner.commit_log.append_batch(batch))?;
        Ok(inner.after_append(appended, true))
    }

    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// Whether an earlier write or fsync failure stopped all writes.
    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::Acquire)
    }

    /// Installs the listener told of every message that becomes visible.
    pub fn set_arrival_listener(&self, listener: ArrivalListener) {
        *self
            .inner
            .arrival
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(listener);
    }

    pub fn commit_log_max_offset(&self) -> u64 {
        self.inner.commit_log.max_offset()
    }
    pub fn commit_log_min_offset(&self) -> u64 {
        self.inner.commit_log.min_offset()
    }
    pub fn commit_log_flushed_offset(&self) -> u64 {
        self.inner.commit_log.flushed_offset()
    }
    /// Changes `maxMessageSize` for the appends that follow.
    pub fn set_max_message_size(&self, max: usize) {
        self.inner.max_message_size.store(max, Ordering::Relaxed);
    }
    /// The retention keys in force.
    pub fn retention(&self) -> retention::Settings {
        self.inner
            .retention
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    /// Changes the retention keys; the next retention pass (within `cleanResourceInterval`)
    /// applies them.
    pub fn set_retention(&self, settings: retention::Settings) {
        *self
            .inner
            .retention
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
    }
    /// How long commit log flushes (fdatasync) took so far.
    pub fn flush_latency(&self) -> FlushLatencySnapshot {
        self.inner.flush_latency.snapshot()
    }
    /// How long the append in progress has held the append lock at `now_ms` (Apache's
    /// `pageCacheLockTimeMills`); 0 when no append runs.
    pub fn page_cache_lock_ms(&self, now_ms: i64) -> i64 {
        self.inner.commit_log.append_lock_held_ms(now_ms)
    }
    /// Size of the filesystem holding the store and the bytes still writable on it; `None`
    /// when `statvfs` fails.
    pub fn disk_capacity(&self) -> Option<(u64, u64)> {
        services::disk_capacity(&self.inner.config.root_dir)
    }
    /// Commit log offset up to which consume queues and index are built.
    pub fn dispatched_offset(&self) -> u64 {
        self.inner.reput_offset.load(Ordering::Acquire)
    }

    /// Waits until everything appended before the call is dispatched, up to `timeout`.
    pub fn wait_dispatched(&self, timeout: Duration) -> bool {
        let target = self.commit_log_max_offset();
        let deadline = std::time::Instant::now() + timeout;
        let (lock, cv) = &self.inner.dispatched;
        let mut g = lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.inner.dispatch_waiters.fetch_add(1, Ordering::SeqCst);
        let mut reached = true;
        // SeqCst, paired with the dispatch thread's store of the offset and load of the waiters.
        while self.inner.reput_offset.load(Ordering::SeqCst) < target {
            let now = std::time::Instant::now();
            if now >= deadline {
                reached = false;
                break;
            }
            self.inner.doorbell.ring();
            g = cv
                .wait_timeout(g, (deadline - now).min(Duration::from_millis(5)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        self.inner.dispatch_waiters.fetch_sub(1, Ordering::SeqCst);
        reached
    }

    /// Runs one retention pass now (it also runs every `cleanResourceInterval`).
    pub fn run_retention_once(&self) {
        services::clean_once(&self.inner, false);
    }

    /// Share in use of the filesystems holding the commit log and the consume queues
    /// (`commitLogDiskRatio`, `consumeQueueDiskRatio`); `None` when `statvfs` fails.
    pub fn disk_used_ratios(&self) -> (Option<f64>, Option<f64>) {
        let config = &self.inner.config;
        (
            services::disk_used_ratio(&config.commit_log_dir()),
            services::disk_used_ratio(&config.consume_queue_dir()),
        )
    }

    /// Deletes the consume queue and index files that only point at commit log data already
    /// deleted (CLEAN_EXPIRED_CONSUMEQUEUE); returns how many queue files went.
    pub fn delete_expired_queue_files(&self) -> usize {
        services::delete_expired_queue_files(&self.inner)
    }

    /// Every topic that has consume queues, sorted.
    pub fn queue_topics(&self) -> Vec<String> {
        self.inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .topics()
    }

    /// Destroys the consume queues of `topic` (CLEAN_UNUSED_TOPIC, for a topic the broker no
    /// longer has): their files and directories go, and the topic's queue offsets start again
    /// at 0. The messages stay in the commit log until retention removes their files. Returns
    /// how many queues went.
    pub fn destroy_topic_queues(&self, topic: &str) -> Result<usize, DestroyQueuesError> {
        // Every record already appended must be in its queue first: a record of the topic
        // dispatched after the queues went would start a queue in the middle.
        if !self.wait_dispatched(DESTROY_DISPATCH_WAIT) {
            return Err(DestroyQueuesError::DispatchBehind {
                dispatched: self.dispatched_offset(),
                appended: self.commit_log_max_offset(),
            });
        }
        services::destroy_topic_queues(&self.inner, topic, self.dispatched_offset())
    }

    /// Deletes the commit log files older than `fileReservedTime` now, whatever the hour
    /// (DELETE_EXPIRED_COMMITLOG), with the consume queue and index files below them. Files
    /// younger than the reserved time stay.
    pub fn delete_expired_now(&self) {
        services::clean_once(&self.inner, true);
    }

    /// Stops the threads, flushes everything and removes the abort marker: the next open is a
    /// normal recovery.
    pub fn shutdown(&self) {
        let inner = &self.inner;
        if inner.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        inner.group_commit.stop();
        inner.doorbell.parked.store(true, Ordering::Release);
        inner.doorbell.ring();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for t in threads {
            let _ = t.join();
        }
        inner.group_commit.complete_all(FlushStatus::Failed);
        let clean = services::flush_all(inner).is_ok()
            && !inner.poisoned.load(Ordering::Acquire)
            && self.dispatched_offset() >= self.commit_log_max_offset();
        if clean {
            // IMPORTANT: the abort marker goes only after everything above is on disk, so that a
            // crash during shutdown still leads to the validating recovery.
            let abort = inner.config.abort_path();
            if std::fs::remove_file(&abort).is_ok() {
                let _ = crate::mapped_file::sync_dir(&inner.config.root_dir);
            }
            info!(root = %inner.config.root_dir.display(), "store shut down cleanly");
        } else {
            error!(root = %inner.config.root_dir.display(), "store shut down with errors; the next start recovers as after a crash");
        }
    }
}

impl Drop for MessageStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}
