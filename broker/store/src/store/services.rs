//! The store's threads: dispatch, commit log flush (group commit or periodic), flush deadlines,
//! consume queue and checkpoint flush, and retention.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rmq_protocol::message::record::{self, RecordHead, RecordView};
use tracing::{error, info, warn};

use super::Inner;
use crate::config::FlushDiskType;
use crate::consume_queue::ConsumeQueue;
use crate::dispatch::{Arrival, DispatchRequest};
use crate::error::{DestroyQueuesError, DispatchError, FileError, OpenStoreError};
use crate::flush::FlushStatus;
use crate::retention;

const PAGE: u64 = 4096;

pub(super) fn start(inner: &Arc<Inner>) -> Result<Vec<JoinHandle<()>>, OpenStoreError> {
    let mut threads = Vec::new();
    let spawn = |name: &'static str, f: fn(&Inner)| {
        let inner = Arc::clone(inner);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || f(&inner))
            .map_err(|source| OpenStoreError::Thread { name, source })
    };
    threads.push(spawn("rmq-reput", dispatch_loop)?);
    match inner.config.flush_disk_type {
        FlushDiskType::SyncFlush => {
            threads.push(spawn("rmq-group-commit", group_commit_loop)?);
            threads.push(spawn("rmq-flush-watch", flush_watch_loop)?);
        }
        FlushDiskType::AsyncFlush => threads.push(spawn("rmq-flush", async_flush_loop)?),
    }
    threads.push(spawn("rmq-cq-flush", cq_flush_loop)?);
    threads.push(spawn("rmq-clean", clean_loop)?);
    Ok(threads)
}

fn stopping(inner: &Inner) -> bool {
    inner.shutdown.load(Ordering::Acquire)
}

/// Sleeps up to `d`, returning early (true) when the store shuts down.
fn nap(inner: &Inner, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while Instant::now() < deadline {
        if stopping(inner) {
            return true;
        }
        std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(20)));
    }
    stopping(inner)
}

/// Builds consume queue and index entries for one record. `notify` tells the arrival listener.
pub(super) fn dispatch_one(
    inner: &Inner,
    req: &DispatchRequest<'_>,
    notify: bool,
) -> Result<(), DispatchError> {
    let cq_err = |source| DispatchError::ConsumeQueue {
        topic: req.topic.to_owned(),
        queue_id: req.queue_id,
        source,
    };
    if req.goes_to_consume_queue() {
        let q: Arc<ConsumeQueue> = inner
            .queue_or_create(req.topic, req.queue_id)
            .map_err(cq_err)?;
        q.put(req.queue_offset as u64, req.cq_entry())
            .map_err(cq_err)?;
        if q.short_of_room_ahead() && !inner.queue_room_low.swap(true, Ordering::AcqRel) {
            error!(
                topic = req.topic,
                queue_id = req.queue_id,
                "no disk space for the next consume queue page: sends are refused until space is freed"
            );
        }
        inner
            .checkpoint
            .set_logics_msg_timestamp(req.store_timestamp);
        if notify
            && let Some(listener) = inner
                .arrival
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
        {
            listener(&Arrival {
                topic: req.topic,
                queue_id: req.queue_id,
                max_offset: req.queue_offset as u64 + 1,
                tags_code: req.tags_code,
                store_timestamp: req.store_timestamp,
                properties: req.properties,
            });
        }
    }
    if req.goes_to_index()
        && let Some(index) = &inner.index
    {
        index.build_index(req).map_err(DispatchError::Index)?;
    }
    Ok(())
}

/// Dispatches what is written and not yet dispatched; returns whether anything was.
fn dispatch_available(inner: &Inner) -> bool {
    let mut progressed = false;
    loop {
        let from = inner.reput_offset.load(Ordering::Acquire);
        if from >= inner.commit_log.max_offset() {
            return progressed;
        }
        let Some(file) = inner.commit_log.files().find(from) else {
            return progressed;
        };
        let pos = (from - file.start()) as usize;
        let Some(head) = file.read(pos, record::BLANK_HEADER_LEN) else {
            if file.is_full() {
                inner.reput_offset.store(file.end(), Ordering::Release);
                continue;
            }
            return progressed;
        };
        let next = match record::peek_head(head) {
            Ok(Some(RecordHead::Blank { .. })) => file.end(),
            Ok(Some(RecordHead::Message { total_size })) => {
                let Some(raw) = file.read(pos, total_size) else {
                    return progressed;
                };
                match RecordView::decode(raw) {
                    Ok(view) => {
                        let req = DispatchRequest::from_record(&view)
                            .with_delay_levels(&inner.config.delay_levels);
                        match dispatch_one(inner, &req, true) {
                            Ok(()) => {
                                if inner.dispatch_out_of_space.swap(false, Ordering::AcqRel) {
                                    info!(
                                        offset = from,
                                        "disk space found; dispatch resumed and sends are taken again"
                                    );
                                }
                            }
                            // The record is safe in the commit log; its entries are built once
                            // there is room. Until then sends are refused (DiskFull), and this
                            // loop comes back every few milliseconds.
                            Err(e) if e.is_out_of_space() => {
                                if !inner.dispatch_out_of_space.swap(true, Ordering::AcqRel) {
                                    error!(offset = from, error = %e, cause = ?std::error::Error::source(&e), "no disk space for consume queue or index entries: dispatch waits and sends are refused until space is freed");
                                }
                                return progressed;
                            }
                            Err(e) => {
                                inner.poison("building consume queue or index", &e);
                                return progressed;
                            }
                        }
                        from + total_size as u64
                    }
                    Err(e) => {
                        error!(offset = from, error = %e, "undecodable record in the commit log; dispatch skips to the next file");
                        file.end()
                    }
                }
            }
            Ok(None) => return progressed,
            Err(e) => {
                error!(offset = from, error = %e, "bad record head in the commit log; dispatch skips to the next file");
                file.end()
            }
        };
        inner.reput_offset.store(next, Ordering::SeqCst);
        progressed = true;
        // A notify is a syscall even with nobody waiting; waiters announce themselves first
        // (SeqCst on both sides: a waiter that registers after this load sees the new offset).
        if inner.dispatch_waiters.load(Ordering::SeqCst) > 0 {
            let (lock, cv) = &inner.dispatched;
            drop(lock.lock().unwrap_or_else(PoisonError::into_inner));
            cv.notify_all();
        }
    }
}

/// How long the dispatch thread naps between looks while messages are flowing, and how many
/// empty naps it takes before it parks until an append rings.
const DISPATCH_NAP: Duration = Duration::from_micros(200);
const DISPATCH_NAPS_BEFORE_PARK: u32 = 5;
/// How often dispatch retries while the disk has no room for its entries.
const OUT_OF_SPACE_RETRY: Duration = Duration::from_millis(100);

fn dispatch_loop(inner: &Inner) {
    let mut empty_naps = 0;
    loop {
        if dispatch_available(inner) {
            empty_naps = 0;
            continue;
        }
        if stopping(inner) {
            return;
        }
        if inner.dispatch_out_of_space.load(Ordering::Acquire) {
            // Waiting for disk space: try again soon, without spinning.
            std::thread::sleep(OUT_OF_SPACE_RETRY);
            continue;
        }
        if empty_naps < DISPATCH_NAPS_BEFORE_PARK {
            // Under load a message arrives every few microseconds. Napping briefly (the bell is
            // not armed, so appenders do not ring) lets one wake-up dispatch a whole batch
            // instead of costing every append a futex wake and a context switch. Consumers see
            // new messages at most one nap later.
            std::thread::sleep(DISPATCH_NAP);
            empty_naps += 1;
            continue;
        }
        let bell = &inner.doorbell;
        let guard = bell.lock.lock().unwrap_or_else(PoisonError::into_inner);
        bell.parked.store(true, Ordering::Release);
        // Re-check after announcing the park, so an append in between is not missed.
        if inner.reput_offset.load(Ordering::Acquire) >= inner.commit_log.max_offset()
            && !stopping(inner)
        {
            let _ = bell.cv.wait_timeout(guard, Duration::from_millis(10));
        }
        bell.parked.store(false, Ordering::Release);
    }
}

fn flush_commit_log(inner: &Inner) -> Result<u64, FileError> {
    // The timestamp is read before the flush, so every record it belongs to is covered.
    let ts = inner.commit_log.last_store_timestamp();
    let started = Instant::now();
    let flushed = inner.commit_log.flush()?;
    inner.flush_latency.observe(started.elapsed());
    if ts > 0 {
        inner.checkpoint.set_physic_msg_timestamp(ts);
    }
    Ok(flushed)
}

fn group_commit_loop(inner: &Inner) {
    let gc = &inner.group_commit;
    while gc.wait_for_work(Duration::from_millis(10)) {
        if !gc.has_waiters() {
            continue;
        }
        // One fdatasync covers every append made before it: all waiters at or below the flushed
        // offset complete together (group commit).
        match flush_commit_log(inner) {
            Ok(flushed) => gc.complete_flushed(flushed),
            Err(e) => {
                inner.poison("commit log fdatasync", &e);
                gc.complete_all(FlushStatus::Failed);
            }
        }
    }
}

fn flush_watch_loop(inner: &Inner) {
    while !stopping(inner) {
        let next = inner.group_commit.expire(Instant::now());
        let wait = next.map_or(Duration::from_millis(50), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(50))
        });
        std::thread::sleep(wait.max(Duration::from_millis(1)));
    }
}

fn async_flush_loop(inner: &Inner) {
    let cfg = &inner.config;
    let mut last_thorough = Instant::now();
    loop {
        let stop = nap(inner, cfg.flush_interval_commit_log);
        let least = cfg.flush_commit_log_least_pages as u64 * PAGE;
        let thorough = last_thorough.elapsed() >= cfg.flush_commit_log_thorough_interval;
        let dirty = inner.commit_log.files().unflushed_bytes();
        if dirty > 0 && (stop || thorough || dirty >= least) {
            if let Err(e) = flush_commit_log(inner) {
                inner.poison("commit log fdatasync", &e);
            }
            last_thorough = Instant::now();
        }
        if stop {
            return;
        }
    }
}

/// Flushes consume queues and index, then the checkpoint that vouches for them.
fn flush_logics(inner: &Inner) -> Result<(), DispatchError> {
    let queues: Vec<Arc<ConsumeQueue>> = inner
        .queues
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .all();
    for q in queues {
        q.flush().map_err(DispatchError::Flush)?;
    }
    if let Some(index) = &inner.index {
        let ts = index.flush().map_err(DispatchError::Index)?;
        if ts > 0 {
            inner.checkpoint.set_index_msg_timestamp(ts);
        }
    }
    // IMPORTANT: the checkpoint is written after the data it vouches for is on disk.
    inner.checkpoint.flush().map_err(DispatchError::Flush)
}

fn cq_flush_loop(inner: &Inner) {
    loop {
        let stop = nap(inner, inner.config.flush_interval_consume_queue);
        if let Err(e) = flush_logics(inner) {
            inner.poison("consume queue flush", &e);
        }
        if stop {
            return;
        }
    }
}

/// Flushes everything (open and shutdown).
pub(super) fn flush_all(inner: &Inner) -> Result<(), OpenStoreError> {
    for f in inner.commit_log.files().files().iter().rev().take(2) {
        // Force: files opened by recovery claim to be flushed, their pages may not be.
        f.force_sync()?;
    }
    flush_commit_log(inner)?;
    flush_logics(inner)?;
    Ok(())
}

/// Free space at which consume queues that ran short of room may take entries again: a page
/// for each of 256 queues.
const QUEUE_ROOM_TO_RESUME: u64 = 1 << 20;

/// `statvfs(2)` of the filesystem holding `dir`.
fn statvfs(dir: &Path) -> Option<libc::statvfs> {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: `statvfs` is a plain C struct of integers, for which all-zero bytes are a valid
    // value; the call below overwrites it.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid NUL-terminated path and a properly sized out-parameter.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st)
}

/// Bytes of the filesystem holding `dir` that this process may still write.
fn disk_available_bytes(dir: &Path) -> Option<u64> {
    let st = statvfs(dir)?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Size of the filesystem holding `dir` and the bytes this process may still write to it.
pub(super) fn disk_capacity(dir: &Path) -> Option<(u64, u64)> {
    let st = statvfs(dir)?;
    Some((
        st.f_blocks.saturating_mul(st.f_frsize),
        st.f_bavail.saturating_mul(st.f_frsize),
    ))
}

/// Share of the filesystem holding `dir` that is used, 0.0..=1.0.
pub(super) fn disk_used_ratio(dir: &Path) -> Option<f64> {
    let st = statvfs(dir)?;
    if st.f_blocks == 0 {
        return None;
    }
    // As `df` computes Use%: used / (used + available to us). Blocks reserved for root count
    // neither as used nor as available, so a filesystem with a large reserve is not reported
    // as nearly full while most of what we may write is still free.
    let used = st.f_blocks.saturating_sub(st.f_bfree) as f64;
    let available = st.f_bavail as f64;
    if used + available <= 0.0 {
        return None;
    }
    Some((used / (used + available)).clamp(0.0, 1.0))
}

fn clean_loop(inner: &Inner) {
    loop {
        if nap(inner, inner.config.clean_resource_interval) {
            return;
        }
        clean_once(inner, false);
    }
}

/// One retention pass.
/// One retention pass; `manual` when an operator asked for it (expired files go whatever the
/// hour).
pub(super) fn clean_once(inner: &Inner, manual: bool) {
    let cfg = &inner.config;
    let ratio = disk_used_ratio(&cfg.commit_log_dir()).unwrap_or(0.0);
    let full = ratio > cfg.disk_space_warning_level_ratio;
    if inner.queue_room_low.load(Ordering::Acquire)
        && disk_available_bytes(&cfg.consume_queue_dir())
            .is_some_and(|free| free >= QUEUE_ROOM_TO_RESUME)
    {
        inner.queue_room_low.store(false, Ordering::Release);
        info!("disk space for consume queues found: sends are taken again");
    }
    if full != inner.disk_full.swap(full, Ordering::AcqRel) {
        if full {
            error!(
                ratio,
                "disk nearly full: the store refuses writes until space is freed"
            );
        } else {
            info!(
                ratio,
                "disk space recovered: the store accepts writes again"
            );
        }
    }
    let now_ms = crate::commit_log::now_ms();
    let files = inner.commit_log.files().files();
    let ages: Vec<Option<i64>> = files
        .iter()
        .map(|f| {
            f.modified()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64)
        })
        .collect();
    let settings = inner
        .retention
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let plan = retention::plan(&retention::Inputs {
        file_modified_ms: &ages,
        now_ms,
        reserved_ms: settings.file_reserved_time_hours as i64 * 3_600_000,
        delete_hours: &settings.delete_when,
        disk_used_ratio: ratio,
        disk_max_used_ratio: f64::from(settings.disk_max_used_space_ratio) / 100.0,
        clean_forcibly_ratio: cfg.disk_space_clean_forcibly_ratio,
        batch_max: cfg.delete_file_batch_max,
        manual,
    });
    if plan.delete == 0 {
        return;
    }
    info!(files = plan.delete, reason = ?plan.reason, "deleting expired commit log files");
    for _ in 0..plan.delete {
        if let Err(e) = inner.commit_log.files().delete_first() {
            warn!(error = %e, "failed to delete a commit log file");
            break;
        }
    }
    delete_expired_queue_files(inner);
    if let Err(e) = inner.tombstones.prune(inner.commit_log.min_offset()) {
        warn!(error = %e, "destroyed topics file not rewritten after retention");
    }
}

/// Deletes consume queue and index files whose entries all point below the commit log's
/// first offset (data already gone); returns how many queue files went.
pub(super) fn delete_expired_queue_files(inner: &Inner) -> usize {
    let min = inner.commit_log.min_offset();
    let queues: Vec<Arc<ConsumeQueue>> = inner
        .queues
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .all();
    let mut deleted = 0;
    for q in queues {
        match q.delete_expired(min) {
            Ok(n) => deleted += n,
            Err(e) => {
                warn!(topic = q.topic(), queue_id = q.queue_id(), error = %e, "failed to delete consume queue files")
            }
        }
    }
    if let Some(index) = &inner.index
        && let Err(e) = index.delete_files_below(min as i64)
    {
        warn!(error = %e, "failed to delete index files");
    }
    deleted
}

/// Takes `topic`'s queues out of the table, then deletes their files and directories (oldest
/// file first, each directory synced) and forgets their next offsets.
/// `dispatched`: the offset below which every record is in its queue (the tombstone's bound).
pub(super) fn destroy_topic_queues(
    inner: &Inner,
    topic: &str,
    dispatched: u64,
) -> Result<usize, DestroyQueuesError> {
    if inner
        .queues
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .topics()
        .iter()
        .all(|t| t != topic)
    {
        return Ok(0);
    }
    // IMPORTANT: the tombstone is on disk before any file goes, so a crash in between never
    // lets recovery rebuild part of the queues from the commit log.
    inner
        .tombstones
        .bury(topic, dispatched)
        .map_err(DestroyQueuesError::Tombstone)?;
    let queues = inner
        .queues
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .remove_topic(topic);
    let mut topic_dir = None;
    for queue in &queues {
        inner
            .commit_log
            .remove_queue_offset(queue.topic(), queue.queue_id());
        let files = queue.files();
        while files.delete_first()?.is_some() {}
        let dir = files.dir().to_path_buf();
        remove_empty_dir(&dir)?;
        topic_dir = dir.parent().map(Path::to_path_buf);
    }
    if let Some(dir) = topic_dir {
        remove_empty_dir(&dir)?;
        if let Some(parent) = dir.parent() {
            crate::mapped_file::sync_dir(parent).map_err(|source| FileError::Sync {
                path: parent.to_path_buf(),
                source,
            })?;
        }
    }
    info!(
        topic,
        queues = queues.len(),
        "consume queues of an unused topic destroyed"
    );
    Ok(queues.len())
}

/// Removes `dir` if it exists and is empty; a directory that still holds anything stays.
fn remove_empty_dir(dir: &Path) -> Result<(), FileError> {
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => {
            warn!(dir = %dir.display(), "directory kept: it holds files that are not consume queue files");
            Ok(())
        }
        Err(source) => Err(FileError::Delete {
            path: dir.to_path_buf(),
            source,
        }),
    }
}
