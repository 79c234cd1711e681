//! A watchdog for targets that start threads: libFuzzer's `-timeout` alarm is ignored when the
//! signal lands on a thread other than the fuzzing one, so a hung input could stall a run
//! forever. [`arm`] starts the clock for one input; a background thread aborts the process when
//! an input runs longer than `RMQ_FUZZ_HANG_SECS` (default 10) seconds, and libFuzzer saves the
//! input as a crash artifact (the abort message names it a hang).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Milliseconds since `EPOCH` when the current input started; 0 between inputs.
static STARTED: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// Starts the clock for one input; the clock stops when the guard drops.
pub fn arm() -> Guard {
    static THREAD: OnceLock<()> = OnceLock::new();
    THREAD.get_or_init(|| {
        let limit = std::env::var("RMQ_FUZZ_HANG_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10u64)
            * 1000;
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let started = STARTED.load(Ordering::Acquire);
                if started != 0 && now_ms().saturating_sub(started) > limit {
                    eprintln!(
                        "==watchdog== input hung for more than {} s; aborting",
                        limit / 1000
                    );
                    std::process::abort();
                }
            }
        });
    });
    STARTED.store(now_ms(), Ordering::Release);
    Guard
}

pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        STARTED.store(0, Ordering::Release);
    }
}
