//! The `rmq-prefault` thread: prepares the commit log's pages ahead of its writer, so that a
//! page's first touch (a fault, zeroing, and under SYNC_FLUSH an extent conversion) is not paid
//! inside an append.

use std::sync::{Arc, Mutex, PoisonError};

use super::lock;
use crate::mapped_file::MappedFile;

/// How far ahead of the write position pages are faulted in, and how close the writer may come
/// to the populated end before the next range is requested.
pub(super) const PREFAULT_AHEAD: usize = 8 << 20;
pub(super) const PREFAULT_LOW_WATER: usize = 4 << 20;

/// How the pages ahead of the commit log's writer are prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmUp {
    /// Mapped in without writing ([`MappedFile::prefault`]): the cheapest for ASYNC_FLUSH,
    /// whose background flush does not mind the journal commits of preallocated blocks. Appends
    /// copy through the mapping: a `pwrite` into blocks that are still unwritten extents cost
    /// the broker about 5 µs more per message than the copy.
    Prefault,
    /// Zero filled and written back ([`MappedFile::zero_fill`]), so that group commits under
    /// SYNC_FLUSH write data pages only. Costs a second write of every block. Appends go in
    /// with `pwrite` ([`MappedFile::append_by_write`]), so that thousands of syncs a second do
    /// not write-protect the page under the writer each time.
    ZeroFill,
}

/// A thread (`rmq-prefault`) that prepares commit-log pages ahead of the writer (see
/// [`WarmUp`]). Asked about once per 4 MiB written; stopped on drop.
#[derive(Debug)]
pub(super) struct Prefaulter {
    shared: Arc<PrefaultShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct PrefaultShared {
    request: Mutex<PrefaultRequest>,
    wake: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct PrefaultRequest {
    next: Option<(Arc<MappedFile>, usize, usize)>,
    stop: bool,
}

impl Prefaulter {
    pub(super) fn start(warm_up: WarmUp) -> Prefaulter {
        let shared = Arc::new(PrefaultShared::default());
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("rmq-prefault".into())
            .spawn(move || {
                loop {
                    let job = {
                        let mut request = lock(&worker.request);
                        loop {
                            if request.stop {
                                return;
                            }
                            if let Some(job) = request.next.take() {
                                break job;
                            }
                            request = worker
                                .wake
                                .wait(request)
                                .unwrap_or_else(PoisonError::into_inner);
                        }
                    };
                    let (file, from, to) = job;
                    match warm_up {
                        WarmUp::Prefault => file.prefault(from, to - from),
                        WarmUp::ZeroFill => {
                            if let Err(error) = file.zero_fill(to) {
                                // Appends are unaffected (the blocks are preallocated); only the
                                // group commits over this range will be slower.
                                tracing::warn!(error = %error, cause = ?std::error::Error::source(&error), "zero filling ahead of the commit log writer failed");
                                file.prefault(from, to - from);
                            }
                        }
                    }
                }
            })
            .ok();
        Prefaulter { shared, thread }
    }

    /// Replaces any pending request: only the newest range matters.
    pub(super) fn request(&self, file: &Arc<MappedFile>, from: usize, to: usize) {
        lock(&self.shared.request).next = Some((Arc::clone(file), from, to));
        self.shared.wake.notify_one();
    }
}

impl Drop for Prefaulter {
    fn drop(&mut self) {
        lock(&self.shared.request).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
