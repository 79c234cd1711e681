//! Counting and reporting, free of I/O: a [`Window`] of counts and a latency histogram, the
//! [`Report`] computed from it (rates, percentiles in µs), and a [`Recorder`] that spreads
//! recording over a few mutex-guarded shards so senders rarely meet on one lock.
//!
//! Counting rules:
//! - `messages`/`bytes`: messages acknowledged with SUCCESS (producer; oneway: handed to the
//!   connection), or consumed (consumer); bytes are body bytes;
//! - `requests`: requests that got SUCCESS (a batch is one request);
//! - `errors`: failed requests, by response code name (`FLUSH_DISK_TIMEOUT`) or transport failure
//!   (`TIMEOUT`, `CONNECTION_CLOSED`, `CONNECT_FAILED`): a bounded set of labels;
//! - latency: one sample per successful request (producer) or per message (consumer), in µs.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use rmq_protocol::code::ResponseCode;
use rmq_remoting::InvokeError;
use serde::Serialize;

/// Largest latency kept exactly: one hour in µs; longer samples are recorded as one hour.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Significant decimal digits of the histogram: values within 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Counts and latencies over some span of time.
#[derive(Debug, Clone)]
pub struct Window {
    pub messages: u64,
    pub bytes: u64,
    pub requests: u64,
    pub errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
    /// The exact largest sample: the histogram only knows its bucket.
    max_latency_us: u64,
}

impl Default for Window {
    fn default() -> Window {
        Window::new()
    }
}

impl Window {
    pub fn new() -> Window {
        // new_with_bounds fails only for bounds that break its rules (low >= 1, high >= 2 * low,
        // digits <= 5); these constants keep them, as every test shows.
        let latency = Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
        Window {
            messages: 0,
            bytes: 0,
            requests: 0,
            errors: BTreeMap::new(),
            latency,
            max_latency_us: 0,
        }
    }

    /// A successful request of `messages` messages of `bytes` body bytes.
    pub fn record_success(&mut self, messages: u64, bytes: u64, latency: Option<Duration>) {
        self.requests += 1;
        self.messages += messages;
        self.bytes += bytes;
        if let Some(latency) = latency {
            self.record_latency_us(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        }
    }

    /// One latency sample.
    pub fn record_latency_us(&mut self, micros: u64) {
        let micros = micros.min(MAX_LATENCY_US);
        self.latency.saturating_record(micros);
        self.max_latency_us = self.max_latency_us.max(micros);
    }

    /// A failed request.
    pub fn record_error(&mut self, label: &str) {
        match self.errors.get_mut(label) {
            Some(count) => *count += 1,
            None => {
                self.errors.insert(label.to_owned(), 1);
            }
        }
    }

    /// Adds `other` into this window.
    pub fn merge(&mut self, other: &Window) {
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.requests += other.requests;
        for (label, count) in &other.errors {
            *self.errors.entry(label.clone()).or_default() += count;
        }
        // Both histograms have the same bounds, so adding cannot fail; if it ever did, the
        // samples would be missing from the percentiles, never wrong.
        let _ = self.latency.add(&other.latency);
        self.max_latency_us = self.max_latency_us.max(other.max_latency_us);
    }

    /// Empties the window, keeping its allocations.
    pub fn reset(&mut self) {
        self.messages = 0;
        self.bytes = 0;
        self.requests = 0;
        self.errors.clear();
        self.latency.reset();
        self.max_latency_us = 0;
    }

    /// Rates and percentiles of this window, which spanned `elapsed`.
    pub fn report(&self, elapsed: Duration) -> Report {
        let secs = elapsed.as_secs_f64();
        let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let latency = &self.latency;
        let latency_us = (!latency.is_empty()).then(|| Percentiles {
            p50: latency.value_at_quantile(0.50),
            p90: latency.value_at_quantile(0.90),
            p99: latency.value_at_quantile(0.99),
            p999: latency.value_at_quantile(0.999),
            max: self.max_latency_us,
            mean: latency.mean(),
            samples: latency.len(),
        });
        Report {
            elapsed_s: secs,
            messages: self.messages,
            bytes: self.bytes,
            requests: self.requests,
            msgs_per_sec: per_sec(self.messages),
            mib_per_sec: per_sec(self.bytes) / (1024.0 * 1024.0),
            error_count: self.errors.values().sum(),
            errors: self.errors.clone(),
            latency_us,
        }
    }
}

/// What a window amounts to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub elapsed_s: f64,
    pub messages: u64,
    pub bytes: u64,
    pub requests: u64,
    pub msgs_per_sec: f64,
    pub mib_per_sec: f64,
    pub error_count: u64,
    pub errors: BTreeMap<String, u64>,
    /// `None` when there was no sample (oneway sends, an idle interval).
    pub latency_us: Option<Percentiles>,
}

/// Latency percentiles, µs: a percentile is the smallest sample at or above that rank, within
/// the histogram's 0.1 % precision; `max` is exact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
    pub samples: u64,
}

/// The label of a response code: its name, or `CODE_<n>` for codes the table does not know.
pub fn response_label(code: i32) -> String {
    match ResponseCode::from_code(code) {
        Some(known) => known.name().to_owned(),
        None => format!("CODE_{code}"),
    }
}

/// The label of a transport failure.
pub fn transport_label(error: &InvokeError) -> &'static str {
    match error {
        InvokeError::Connect { .. } => "CONNECT_FAILED",
        InvokeError::ConnectTimeout { .. } => "CONNECT_TIMEOUT",
        InvokeError::Tls { .. } => "TLS_HANDSHAKE_FAILED",
        InvokeError::Closed { .. } => "CONNECTION_CLOSED",
        InvokeError::Timeout { .. } => "TIMEOUT",
    }
}

/// Windows that many tasks record into; a reporter drains them.
///
/// Task `i` records into shard `i % shards`: with a handful of shards and tens of senders, a
/// lock is rarely contended, and the reporter takes each lock once per interval.
#[derive(Debug)]
pub struct Recorder {
    shards: Vec<Mutex<Window>>,
}

impl Recorder {
    pub fn new(shards: usize) -> Recorder {
        Recorder {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Window::new()))
                .collect(),
        }
    }

    /// The shard of task `task`, locked.
    pub fn shard(&self, task: usize) -> MutexGuard<'_, Window> {
        let shard = &self.shards[task % self.shards.len()];
        // A window stays consistent if a holder panicked: each update is a few additions.
        shard.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves everything recorded so far into `into`.
    pub fn drain_into(&self, into: &mut Window) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            into.merge(&shard);
            shard.reset();
        }
    }
}

/// One progress line: time since start, then the interval's figures.
pub fn progress_line(since_start: Duration, report: &Report) -> String {
    format!(
        "[{:>6.1}s] {:>10} msg/s {:>8.2} MiB/s | errors {} | latency {}",
        since_start.as_secs_f64(),
        group_digits(report.msgs_per_sec.round() as u64),
        report.mib_per_sec,
        errors_text(report),
        latency_text(report.latency_us.as_ref()),
    )
}

/// The end-of-run summary, several lines.
pub fn summary_text(title: &str, report: &Report) -> String {
    let mut text = format!("{title}\n");
    let mut line = |name: &str, value: String| {
        text.push_str(&format!("  {name:<12} {value}\n"));
    };
    line("elapsed", format!("{:.2} s", report.elapsed_s));
    line("messages", group_digits(report.messages));
    line("requests", group_digits(report.requests));
    line(
        "throughput",
        format!(
            "{} msg/s, {:.2} MiB/s",
            group_digits(report.msgs_per_sec.round() as u64),
            report.mib_per_sec
        ),
    );
    line("errors", errors_text(report));
    line("latency", latency_text(report.latency_us.as_ref()));
    text
}

fn errors_text(report: &Report) -> String {
    if report.errors.is_empty() {
        return "0".to_owned();
    }
    let detail: Vec<String> = report
        .errors
        .iter()
        .map(|(label, count)| format!("{label}={count}"))
        .collect();
    format!("{} ({})", report.error_count, detail.join(" "))
}

fn latency_text(latency: Option<&Percentiles>) -> String {
    match latency {
        None => "µs: no samples".to_owned(),
        Some(p) => format!(
            "µs p50 {} p90 {} p99 {} p99.9 {} max {}",
            group_digits(p.p50),
            group_digits(p.p90),
            group_digits(p.p99),
            group_digits(p.p999),
            group_digits(p.max)
        ),
    }
}

/// `1234567` → `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Within the histogram's 0.1 % precision (plus one unit for rounding).
    fn close(actual: u64, expected: u64) -> bool {
        actual.abs_diff(expected) <= expected / 1000 + 1
    }

    #[test]
    fn rates_divide_counts_by_the_elapsed_time() {
        let mut window = Window::new();
        for _ in 0..1000 {
            window.record_success(1, 1024 * 1024, Some(Duration::from_micros(100)));
        }
        let report = window.report(Duration::from_millis(500));
        assert_eq!(report.messages, 1000);
        assert_eq!(report.requests, 1000);
        assert!((report.msgs_per_sec - 2000.0).abs() < 1e-9);
        assert!((report.mib_per_sec - 2000.0).abs() < 1e-9);
    }

    #[test]
    fn a_batch_counts_its_messages_but_one_request_and_one_latency_sample() {
        let mut window = Window::new();
        window.record_success(32, 32 * 128, Some(Duration::from_micros(700)));
        let report = window.report(Duration::from_secs(1));
        assert_eq!(
            (report.messages, report.requests, report.bytes),
            (32, 1, 4096)
        );
        assert_eq!(report.latency_us.unwrap().samples, 1);
    }

    #[test]
    fn percentiles_of_a_uniform_spread_land_on_their_ranks() {
        let mut window = Window::new();
        for us in 1..=10_000u64 {
            window.record_latency_us(us);
        }
        let p = window.report(Duration::from_secs(1)).latency_us.unwrap();
        assert!(close(p.p50, 5_000), "p50 {}", p.p50);
        assert!(close(p.p90, 9_000), "p90 {}", p.p90);
        assert!(close(p.p99, 9_900), "p99 {}", p.p99);
        assert!(close(p.p999, 9_990), "p99.9 {}", p.p999);
        assert_eq!(p.max, 10_000);
        assert!((p.mean - 5_000.5).abs() < 10.0, "mean {}", p.mean);
        assert_eq!(p.samples, 10_000);
    }

    #[test]
    fn a_rare_slow_request_shows_in_p999_and_max_but_not_p99() {
        let mut window = Window::new();
        for _ in 0..999 {
            window.record_latency_us(200);
        }
        window.record_latency_us(50_000);
        let p = window.report(Duration::from_secs(1)).latency_us.unwrap();
        assert!(close(p.p99, 200));
        assert!(close(p.p999, 200));
        assert_eq!(p.max, 50_000);
        window.record_latency_us(50_000);
        let p = window.report(Duration::from_secs(1)).latency_us.unwrap();
        assert!(close(p.p999, 50_000), "two in 1001 reach p99.9: {}", p.p999);
    }

    #[test]
    fn latencies_beyond_an_hour_are_clamped_not_lost() {
        let mut window = Window::new();
        window.record_latency_us(u64::MAX);
        let p = window.report(Duration::from_secs(1)).latency_us.unwrap();
        assert_eq!(p.samples, 1);
        assert_eq!(p.max, MAX_LATENCY_US);
    }

    #[test]
    fn an_empty_window_has_no_percentiles_and_zero_rates() {
        let report = Window::new().report(Duration::ZERO);
        assert_eq!(report.latency_us, None);
        assert_eq!(report.msgs_per_sec, 0.0);
        assert!(progress_line(Duration::from_secs(1), &report).contains("no samples"));
    }

    #[test]
    fn errors_are_counted_by_label_and_merged() {
        let mut a = Window::new();
        a.record_error(&response_label(ResponseCode::FlushDiskTimeout.code()));
        a.record_error("TIMEOUT");
        let mut b = Window::new();
        b.record_error("TIMEOUT");
        b.record_success(1, 10, Some(Duration::from_micros(5)));
        a.merge(&b);
        let report = a.report(Duration::from_secs(1));
        assert_eq!(report.error_count, 3);
        assert_eq!(report.errors["TIMEOUT"], 2);
        assert_eq!(report.errors["FLUSH_DISK_TIMEOUT"], 1);
        assert_eq!(report.messages, 1);
        assert_eq!(report.latency_us.unwrap().samples, 1);
    }

    #[test]
    fn unknown_response_codes_get_a_numeric_label() {
        assert_eq!(response_label(17), "TOPIC_NOT_EXIST");
        assert_eq!(response_label(9999), "CODE_9999");
    }

    #[test]
    fn draining_the_recorder_moves_every_shard_and_leaves_them_empty() {
        let recorder = Recorder::new(4);
        for task in 0..10 {
            recorder.shard(task).record_success(
                1,
                100,
                Some(Duration::from_micros(task as u64 + 1)),
            );
        }
        let mut total = Window::new();
        recorder.drain_into(&mut total);
        assert_eq!(total.messages, 10);
        assert_eq!(
            total.report(Duration::from_secs(1)).latency_us.unwrap().max,
            10
        );
        let mut again = Window::new();
        recorder.drain_into(&mut again);
        assert_eq!(again.messages, 0);
        assert_eq!(again.report(Duration::from_secs(1)).latency_us, None);
    }

    #[test]
    fn progress_lines_and_summaries_show_every_figure() {
        let mut window = Window::new();
        for us in [100, 200, 300, 400, 5000] {
            window.record_success(1, 128, Some(Duration::from_micros(us)));
        }
        window.record_error("FLUSH_DISK_TIMEOUT");
        let report = window.report(Duration::from_secs(1));
        let line = progress_line(Duration::from_secs(3), &report);
        for needle in [
            "3.0s",
            "5 msg/s",
            "MiB/s",
            "errors 1 (FLUSH_DISK_TIMEOUT=1)",
            "p50 300",
            "p90",
            "p99",
            "p99.9",
            "max 5,000",
        ] {
            assert!(line.contains(needle), "{needle:?} missing from {line:?}");
        }
        let summary = summary_text("produce summary", &report);
        for needle in [
            "elapsed",
            "messages",
            "requests",
            "throughput",
            "errors",
            "p99.9",
        ] {
            assert!(
                summary.contains(needle),
                "{needle:?} missing from {summary}"
            );
        }
    }

    #[test]
    fn reports_serialize_with_latency_fields_in_microseconds() {
        let mut window = Window::new();
        window.record_success(1, 128, Some(Duration::from_micros(250)));
        let json = serde_json::to_value(window.report(Duration::from_secs(2))).unwrap();
        assert_eq!(json["messages"], 1);
        assert_eq!(json["msgs_per_sec"], 0.5);
        for field in ["p50", "p90", "p99", "p999", "max", "mean", "samples"] {
            assert!(json["latency_us"][field].is_number(), "{field}: {json}");
        }
        assert!(json["errors"].is_object());
    }

    #[test]
    fn digits_are_grouped_by_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(46_000), "46,000");
        assert_eq!(group_digits(1_234_567), "1,234,567");
    }
}
