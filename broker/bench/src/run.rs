//! What produce and consume runs share: the [`Stop`] condition, where output goes
//! ([`Printer`]), and the reporter loop that prints a progress line every interval.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::cli::Limits;
use crate::error::BenchError;
use crate::stats::{Recorder, Report, Window, progress_line, summary_text};

/// When senders stop: at the deadline, once `--count` messages are claimed, or on Ctrl-C.
#[derive(Debug)]
pub struct Stop {
    deadline: Option<Instant>,
    remaining: Option<AtomicU64>,
    halted: AtomicBool,
}

impl Stop {
    /// A stop for a run starting at `start`.
    pub fn new(limits: Limits, start: Instant) -> Stop {
        Stop {
            deadline: limits.duration.map(|d| start + d),
            remaining: limits.count.map(AtomicU64::new),
            halted: AtomicBool::new(false),
        }
    }

    /// Claims up to `want` messages to send; 0 means stop.
    pub fn claim(&self, want: u64) -> u64 {
        if self.is_over() {
            return 0;
        }
        match &self.remaining {
            None => want,
            Some(remaining) => remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    (left > 0).then(|| left - left.min(want))
                })
                .map_or(0, |left| left.min(want)),
        }
    }

    /// Counts `done` messages towards `--count` (the consumer's use); true once the count is
    /// reached.
    pub fn count_done(&self, done: u64) -> bool {
        match &self.remaining {
            None => false,
            Some(remaining) => {
                let before = remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                        Some(left.saturating_sub(done))
                    })
                    .unwrap_or(0);
                before <= done
            }
        }
    }

    /// Whether the deadline passed or the run was halted.
    pub fn is_over(&self) -> bool {
        self.halted.load(Ordering::Relaxed)
            || self
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// The deadline, if the run has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Stops every sender at its next claim.
    pub fn halt(&self) {
        self.halted.store(true, Ordering::Relaxed);
    }
}

/// A fixed send schedule for `--rate`: message `k` of the run may leave at `start + k / rate`.
#[derive(Debug)]
pub struct Pacer {
    start: Instant,
    rate: u64,
    next: AtomicU64,
}

impl Pacer {
    pub fn new(start: Instant, rate: u64) -> Pacer {
        Pacer {
            start,
            rate: rate.max(1),
            next: AtomicU64::new(0),
        }
    }

    /// Takes the next `messages` slots; returns when the first of them is due.
    pub fn slot(&self, messages: u64) -> Instant {
        let k = self.next.fetch_add(messages, Ordering::Relaxed);
        self.start + slot_offset(k, self.rate)
    }
}

/// When message `k` is due at `rate` messages per second.
pub fn slot_offset(k: u64, rate: u64) -> Duration {
    let nanos = u128::from(k) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Where the output goes: text on stdout, or, with `--json`, progress on stderr and one JSON
/// document on stdout at the end.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub json: bool,
}

impl Printer {
    /// A line for the reader while the run goes on.
    pub fn progress(&self, line: &str) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }

    /// The end of the run: the text summary, or the JSON document.
    pub fn finish<D: Serialize>(
        &self,
        title: &str,
        report: &Report,
        document: &D,
    ) -> Result<(), BenchError> {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer_pretty(&mut stdout, document)
                .map_err(|error| BenchError::Output(error.into()))?;
            writeln!(stdout).map_err(BenchError::Output)
        } else {
            write!(stdout, "{}", summary_text(title, report)).map_err(BenchError::Output)
        }
    }
}

/// Prints a progress line every `interval` until `done` completes, then returns everything
/// recorded and the time from `start` to the end.
pub async fn report_until<F: Future>(
    recorder: &Recorder,
    printer: Printer,
    start: Instant,
    interval: Duration,
    done: F,
) -> (Window, Duration) {
    let mut total = Window::new();
    let mut window = Window::new();
    let mut ticker = tokio::time::interval_at(start + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = start;
    tokio::pin!(done);
    loop {
        tokio::select! {
            _ = &mut done => break,
            _ = ticker.tick() => {
                recorder.drain_into(&mut window);
                let now = Instant::now();
                // The real span since the last line, not the nominal interval: a late tick on
                // a busy machine must not inflate the rate.
                printer.progress(&progress_line(now - start, &window.report(now - last)));
                total.merge(&window);
                window.reset();
                last = now;
            }
        }
    }
    let end = Instant::now();
    recorder.drain_into(&mut window);
    total.merge(&window);
    (total, end - start)
}

/// Halts `stop` on Ctrl-C; the returned task is aborted when the run ends.
pub fn halt_on_ctrl_c(stop: std::sync::Arc<Stop>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: finishing the requests in flight");
            stop.halt();
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(duration: Option<Duration>, count: Option<u64>) -> Limits {
        Limits { duration, count }
    }

    #[test]
    fn a_count_is_handed_out_exactly_even_in_batches() {
        let stop = Stop::new(limits(None, Some(70)), Instant::now());
        assert_eq!(stop.claim(32), 32);
        assert_eq!(stop.claim(32), 32);
        assert_eq!(stop.claim(32), 6);
        assert_eq!(stop.claim(32), 0);
        assert_eq!(stop.claim(1), 0);
    }

    #[test]
    fn without_a_count_claims_are_granted_until_halted() {
        let stop = Stop::new(limits(None, None), Instant::now());
        assert_eq!(stop.claim(5), 5);
        stop.halt();
        assert_eq!(stop.claim(5), 0);
        assert!(stop.is_over());
    }

    #[test]
    fn a_passed_deadline_stops_claims() {
        let start = Instant::now() - Duration::from_secs(2);
        let stop = Stop::new(limits(Some(Duration::from_secs(1)), Some(100)), start);
        assert!(stop.is_over());
        assert_eq!(stop.claim(1), 0);
        let stop = Stop::new(limits(Some(Duration::from_secs(60)), None), Instant::now());
        assert_eq!(stop.claim(1), 1);
    }

    #[test]
    fn the_pacer_spaces_slots_evenly_at_the_rate() {
        assert_eq!(slot_offset(0, 20_000), Duration::ZERO);
        assert_eq!(slot_offset(1, 20_000), Duration::from_micros(50));
        assert_eq!(slot_offset(20_000, 20_000), Duration::from_secs(1));
        assert_eq!(slot_offset(3, 3), Duration::from_secs(1));
        let start = Instant::now();
        let pacer = Pacer::new(start, 1000);
        assert_eq!(pacer.slot(32), start);
        assert_eq!(
            pacer.slot(1),
            start + Duration::from_millis(32),
            "a batch takes 32 slots"
        );
        assert_eq!(pacer.slot(1), start + Duration::from_millis(33));
    }

    #[test]
    fn consumed_messages_count_down_to_the_limit() {
        let stop = Stop::new(limits(None, Some(10)), Instant::now());
        assert!(!stop.count_done(4));
        assert!(!stop.count_done(5));
        assert!(stop.count_done(3), "12 consumed reaches 10");
        assert!(stop.count_done(1), "stays reached");
        let unlimited = Stop::new(limits(None, None), Instant::now());
        assert!(!unlimited.count_done(1_000_000));
    }

    #[tokio::test(start_paused = true)]
    async fn the_reporter_prints_per_interval_and_returns_the_whole_run() {
        let recorder = std::sync::Arc::new(Recorder::new(2));
        let start = Instant::now();
        let feeder = recorder.clone();
        let done = async move {
            for step in 0..5u64 {
                feeder.shard(step as usize).record_success(
                    10,
                    1280,
                    Some(Duration::from_micros(100 + step)),
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        };
        let (total, elapsed) = report_until(
            &recorder,
            Printer { json: true },
            start,
            Duration::from_secs(1),
            done,
        )
        .await;
        assert_eq!(total.messages, 50);
        assert_eq!(elapsed, Duration::from_millis(2500));
        let report = total.report(elapsed);
        assert_eq!(report.msgs_per_sec, 20.0);
        assert_eq!(report.latency_us.unwrap().max, 104);
    }
}
