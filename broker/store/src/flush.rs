//! Durability waits: the completion handle an append returns, and the group commit queue.
//!
//! Under SYNC_FLUSH an append registers `(end offset, deadline)` and returns a [`FlushHandle`].
//! The group commit thread takes whatever is pending, fdatasyncs everything written so far (so
//! every append that arrived before the sync is covered by that one sync), and completes every
//! waiter whose end offset is now flushed. Appends never wait on the disk: they only push to the
//! queue. A watcher completes waiters whose deadline (`syncFlushTimeout`) passed with `Timeout`,
//! even while a sync is stuck.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Upper bounds (ms) of the commit log flush latency buckets; one more bucket holds the rest.
pub const FLUSH_LATENCY_BOUNDS_MS: [u64; 8] = [1, 5, 10, 50, 100, 500, 1000, 5000];

/// How long commit log flushes (fdatasync) took: a fixed-bucket histogram written by the flush
/// threads, read by metrics.
#[derive(Debug, Default)]
pub struct FlushLatency {
    counts: [AtomicU64; FLUSH_LATENCY_BOUNDS_MS.len() + 1],
    sum_micros: AtomicU64,
}

/// A read of [`FlushLatency`].
#[derive(Debug, Clone, PartialEq)]
pub struct FlushLatencySnapshot {
    /// `(upper bound in ms, cumulative count)`; the last bound is `None` (+Inf).
    pub buckets: Vec<(Option<u64>, u64)>,
    pub sum_ms: f64,
    pub count: u64,
}

impl FlushLatency {
    pub fn observe(&self, took: Duration) {
        let ms = took.as_millis();
        let slot = FLUSH_LATENCY_BOUNDS_MS
            .iter()
            .position(|bound| ms <= u128::from(*bound))
            .unwrap_or(FLUSH_LATENCY_BOUNDS_MS.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> FlushLatencySnapshot {
        let mut cumulative = 0;
        let buckets = self
            .counts
            .iter()
            .enumerate()
            .map(|(slot, count)| {
                cumulative += count.load(Ordering::Relaxed);
                (FLUSH_LATENCY_BOUNDS_MS.get(slot).copied(), cumulative)
            })
            .collect();
        FlushLatencySnapshot {
            buckets,
            sum_ms: self.sum_micros.load(Ordering::Relaxed) as f64 / 1000.0,
            count: cumulative,
        }
    }
}

/// How a durability wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushStatus {
    /// An fdatasync covered the record's last byte.
    Flushed,
    /// No fdatasync covered it within `syncFlushTimeout` (the record is stored, maybe not durable).
    Timeout,
    /// The fdatasync failed; the store is poisoned.
    Failed,
}

#[derive(Debug, Default)]
struct Slot {
    status: Option<FlushStatus>,
    waker: Option<Waker>,
    /// A thread is blocked in [`FlushHandle::wait`]: only then is the condvar signalled (a
    /// notify is a futex syscall even when nobody waits, and a group commit completes dozens of
    /// handles at once).
    thread_waiting: bool,
}

#[derive(Debug)]
struct Shared {
    slot: Mutex<Slot>,
    cv: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Completes once the append it belongs to is durable (or the wait failed). Await it from async
/// code, or call [`FlushHandle::wait`] from a thread.
#[derive(Debug, Clone)]
pub struct FlushHandle {
    shared: Arc<Shared>,
}

impl FlushHandle {
    fn pending() -> (Self, Completer) {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot::default()),
            cv: Condvar::new(),
        });
        (
            FlushHandle {
                shared: Arc::clone(&shared),
            },
            Completer { shared },
        )
    }

    /// A handle that is already complete.
    pub fn ready(status: FlushStatus) -> Self {
        let (handle, completer) = Self::pending();
        completer.complete(status);
        handle
    }

    /// The status, if complete.
    pub fn status(&self) -> Option<FlushStatus> {
        lock(&self.shared.slot).status
    }

    /// Blocks the calling thread until complete.
    pub fn wait(&self) -> FlushStatus {
        let mut slot = lock(&self.shared.slot);
        loop {
            if let Some(status) = slot.status {
                return status;
            }
            slot.thread_waiting = true;
            slot = self
                .shared
                .cv
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Future for FlushHandle {
    type Output = FlushStatus;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<FlushStatus> {
        let mut slot = lock(&self.shared.slot);
        match slot.status {
            Some(status) => Poll::Ready(status),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The side of a handle that completes it.
#[derive(Debug)]
struct Completer {
    shared: Arc<Shared>,
}

impl Completer {
    fn complete(self, status: FlushStatus) {
        let (waker, thread_waiting) = {
            let mut slot = lock(&self.shared.slot);
            if slot.status.is_some() {
                return;
            }
            slot.status = Some(status);
            (slot.waker.take(), slot.thread_waiting)
        };
        if thread_waiting {
            self.shared.cv.notify_all();
        }
        if let Some(w) = waker {
            w.wake();
        }
    }
}

#[derive(Debug)]
struct Waiter {
    end_offset: u64,
    deadline: Instant,
    completer: Completer,
}

#[derive(Debug, Default)]
struct Queue {
    waiters: Vec<Waiter>,
    stopped: bool,
}

/// The group commit queue shared by appenders, the flush thread and the watcher.
#[derive(Debug)]
pub struct GroupCommit {
    queue: Mutex<Queue>,
    /// Wakes the flush thread when a waiter arrives.
    work: Condvar,
    timeout: Duration,
}

impl GroupCommit {
    pub fn new(timeout: Duration) -> Self {
        GroupCommit {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            timeout,
        }
    }

    /// Registers a wait for `end_offset` to be flushed.
    pub fn submit(&self, end_offset: u64) -> FlushHandle {
        let (handle, completer) = FlushHandle::pending();
        let mut q = lock(&self.queue);
        if q.stopped {
            drop(q);
            completer.complete(FlushStatus::Failed);
            return handle;
        }
        let was_empty = q.waiters.is_empty();
        q.waiters.push(Waiter {
            end_offset,
            deadline: Instant::now() + self.timeout,
            completer,
        });
        drop(q);
        if was_empty {
            self.work.notify_one();
        }
        handle
    }

    /// Blocks the flush thread until there is a waiter (true) or the queue is stopped and empty
    /// (false). Wakes at least every `tick` so the caller can do periodic work.
    pub fn wait_for_work(&self, tick: Duration) -> bool {
        let mut q = lock(&self.queue);
        if q.waiters.is_empty() && !q.stopped {
            q = self
                .work
                .wait_timeout(q, tick)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        !(q.stopped && q.waiters.is_empty())
    }

    pub fn has_waiters(&self) -> bool {
        !lock(&self.queue).waiters.is_empty()
    }

    /// Completes every waiter whose end offset is at or below `flushed`.
    pub fn complete_flushed(&self, flushed: u64) {
        let done: Vec<Waiter> = {
            let mut q = lock(&self.queue);
            let (done, rest) = std::mem::take(&mut q.waiters)
                .into_iter()
                .partition(|w| w.end_offset <= flushed);
            q.waiters = rest;
            done
        };
        for w in done {
            w.completer.complete(FlushStatus::Flushed);
        }
    }

    /// Completes every waiter with `status` (a failed sync, or shutdown).
    pub fn complete_all(&self, status: FlushStatus) {
        let all = std::mem::take(&mut lock(&self.queue).waiters);
        for w in all {
            w.completer.complete(status);
        }
    }

    /// Completes waiters whose deadline passed with `Timeout`; returns the next deadline.
    pub fn expire(&self, now: Instant) -> Option<Instant> {
        let (expired, next) = {
            let mut q = lock(&self.queue);
            let (expired, rest): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut q.waiters)
                .into_iter()
                .partition(|w| w.deadline <= now);
            q.waiters = rest;
            let next = q.waiters.iter().map(|w| w.deadline).min();
            (expired, next)
        };
        for w in expired {
            w.completer.complete(FlushStatus::Timeout);
        }
        next
    }

    /// Stops accepting waiters; the flush thread drains what is left and exits.
    pub fn stop(&self) {
        lock(&self.queue).stopped = true;
        self.work.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_latency_counts_each_flush_in_its_bucket_and_reads_cumulatively() {
        let latency = FlushLatency::default();
        for ms in [0, 3, 3, 700, 9000] {
            latency.observe(Duration::from_millis(ms));
        }
        let read = latency.snapshot();
        assert_eq!(read.count, 5);
        assert_eq!(read.buckets[0], (Some(1), 1));
        assert_eq!(read.buckets[1], (Some(5), 3));
        assert_eq!(read.buckets[6], (Some(1000), 4));
        assert_eq!(read.buckets.last(), Some(&(None, 5)));
        assert!((read.sum_ms - 9706.0).abs() < 0.001, "{}", read.sum_ms);
    }

    #[test]
    fn a_flush_completes_exactly_the_waiters_it_covers() {
        let gc = GroupCommit::new(Duration::from_secs(5));
        let a = gc.submit(100);
        let b = gc.submit(200);
        gc.complete_flushed(150);
        assert_eq!(a.status(), Some(FlushStatus::Flushed));
        assert_eq!(b.status(), None);
        gc.complete_flushed(200);
        assert_eq!(b.wait(), FlushStatus::Flushed);
    }

    #[test]
    fn a_waiter_past_its_deadline_times_out() {
        let gc = GroupCommit::new(Duration::from_millis(10));
        let a = gc.submit(100);
        let next = gc.expire(Instant::now());
        assert!(next.is_some(), "not yet expired");
        assert_eq!(a.status(), None);
        assert_eq!(gc.expire(Instant::now() + Duration::from_millis(20)), None);
        assert_eq!(a.status(), Some(FlushStatus::Timeout));
        gc.complete_flushed(1000);
        assert_eq!(a.status(), Some(FlushStatus::Timeout), "first outcome wins");
    }

    #[test]
    fn a_stopped_queue_fails_new_waiters() {
        let gc = GroupCommit::new(Duration::from_secs(5));
        gc.stop();
        assert_eq!(gc.submit(1).status(), Some(FlushStatus::Failed));
        assert!(!gc.wait_for_work(Duration::from_millis(1)));
    }

    #[test]
    fn the_handle_is_a_future_woken_on_completion() {
        struct Flag(std::sync::atomic::AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let gc = GroupCommit::new(Duration::from_secs(5));
        let mut handle = gc.submit(10);
        let flag = Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
        let waker = Waker::from(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut handle).poll(&mut cx).is_pending());
        gc.complete_flushed(10);
        assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(
            Pin::new(&mut handle).poll(&mut cx),
            Poll::Ready(FlushStatus::Flushed)
        );
    }
}
