//! The broker's traffic figures, as GET_BROKER_RUNTIME_INFO reports them: running totals
//! ([`Counters`], bumped on the request paths), a history of per-second samples
//! ([`History`]) from which the 10 s, 1 min and 10 min rates come, and the totals at the last
//! two midnights ([`DayMarks`]). Pure: the sampler ([`service`]) feeds time in.

pub mod service;
pub mod windows;

use crate::metrics::Counter;
use std::collections::VecDeque;

/// Running totals since start, sharded by thread like the metrics' counters (the send and pull
/// paths of two cores never write one cache line).
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages stored by sends (a batch counts each message).
    pub put_messages: Counter,
    pub put_bytes: Counter,
    /// Sends the store refused.
    pub put_failures: Counter,
    /// Pulls that found messages, and those that found none.
    pub get_found: Counter,
    pub get_miss: Counter,
    /// Messages handed to consumers.
    pub got_messages: Counter,
    pub got_bytes: Counter,
}

/// One reading of every counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reading {
    pub put_messages: u64,
    pub get_found: u64,
    pub get_miss: u64,
    pub got_messages: u64,
}

impl Counters {
    pub fn read(&self) -> Reading {
        Reading {
            put_messages: self.put_messages.get(),
            get_found: self.get_found.get(),
            get_miss: self.get_miss.get(),
            got_messages: self.got_messages.get(),
        }
    }
}

/// Samples kept: ten minutes at one a second, plus the one a 600 s window starts from.
pub const SAMPLES: usize = 601;

/// Timed readings, oldest first, at most [`SAMPLES`].
#[derive(Debug, Default)]
pub struct History {
    samples: VecDeque<(i64, Reading)>,
}

/// The least time between two samples.
const MIN_SPACING_MS: i64 = 500;

/// The windows runtime info reports, in seconds (Apache's: 10 s, 1 min, 10 min).
pub const WINDOWS: [usize; 3] = [10, 60, 600];

impl History {
    /// Adds a reading taken at `now_ms`, dropping the oldest past [`SAMPLES`]. A reading less
    /// than half a second after the last is ignored, so each sample stands for about a second
    /// whoever takes it.
    pub fn push(&mut self, now_ms: i64, reading: Reading) {
        if self
            .samples
            .back()
            .is_some_and(|(last, _)| now_ms - last < MIN_SPACING_MS)
        {
            return;
        }
        self.samples.push_back((now_ms, reading));
        while self.samples.len() > SAMPLES {
            self.samples.pop_front();
        }
    }

    /// Per-second rate of `field` over the last `window` samples; 0 until that many exist
    /// (Apache leaves the figure empty then, which tools fail to parse).
    pub fn rate(&self, window: usize, field: impl Fn(&Reading) -> u64) -> f64 {
        let n = self.samples.len();
        if n <= window {
            return 0.0;
        }
        let (t0, first) = self.samples[n - 1 - window];
        let (t1, last) = self.samples[n - 1];
        let millis = t1 - t0;
        if millis <= 0 {
            return 0.0;
        }
        field(&last).saturating_sub(field(&first)) as f64 * 1000.0 / millis as f64
    }

    /// The three windows' rates as runtime info writes them: `"10s 1min 10min"`.
    pub fn rates_text(&self, field: impl Fn(&Reading) -> u64 + Copy) -> String {
        WINDOWS
            .iter()
            .map(|w| java_double(self.rate(*w, field)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A rate as Java's `Double.toString` writes it for the values a rate takes: always a decimal
/// point (`0.0`, `12.5`).
pub fn java_double(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e7 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// The statistics VIEW_BROKER_STATS_DATA answers, by name and key, each with its windows.
#[derive(Debug, Default)]
pub struct Items {
    items: std::collections::HashMap<
        &'static str,
        std::collections::HashMap<String, windows::Windows>,
    >,
}

impl Items {
    /// Samples one statistic.
    pub fn tick(&mut self, now_ms: i64, name: &'static str, key: &str, value: u64, calls: u64) {
        let by_key = self.items.entry(name).or_default();
        match by_key.get_mut(key) {
            Some(windows) => windows.tick(now_ms, value, calls),
            None => {
                let mut windows = windows::Windows::default();
                windows.tick(now_ms, value, calls);
                by_key.insert(key.to_owned(), windows);
            }
        }
    }

    pub fn get(&self, name: &str, key: &str) -> Option<&windows::Windows> {
        self.items.get(name)?.get(key)
    }
}

/// Totals at the last two midnights (UTC), for `msg*TotalTodayMorning` and
/// `msg*TotalYesterdayMorning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayMarks {
    /// Day number (days since the epoch) the marks belong to.
    pub day: i64,
    pub today_morning: Reading,
    pub yesterday_morning: Reading,
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl DayMarks {
    /// Marks for a broker started at `now_ms` with `reading`: today's morning is the start.
    pub fn starting(now_ms: i64, reading: Reading) -> DayMarks {
        DayMarks {
            day: now_ms.div_euclid(DAY_MS),
            today_morning: reading,
            yesterday_morning: reading,
        }
    }

    /// Moves the marks on when `now_ms` is on a later day than the last call.
    pub fn observe(&mut self, now_ms: i64, reading: Reading) {
        let day = now_ms.div_euclid(DAY_MS);
        if day > self.day {
            self.yesterday_morning = if day == self.day + 1 {
                self.today_morning
            } else {
                reading
            };
            self.today_morning = reading;
            self.day = day;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn puts(n: u64) -> Reading {
        Reading {
            put_messages: n,
            ..Reading::default()
        }
    }

    #[test]
    fn a_rate_is_the_growth_over_the_window_per_second_and_zero_before_the_window_fills() {
        let mut history = History::default();
        for s in 0..=10 {
            history.push(s * 1000, puts(s as u64 * 50));
        }
        assert_eq!(history.rate(10, |r| r.put_messages), 50.0);
        assert_eq!(history.rate(60, |r| r.put_messages), 0.0);
        assert_eq!(history.rates_text(|r| r.put_messages), "50.0 0.0 0.0");
    }

    #[test]
    fn the_history_keeps_ten_minutes_so_the_600_s_window_is_exact() {
        let mut history = History::default();
        for s in 0..2000 {
            // 1 message a second for the first 1300 s, then 3.
            let total = if s < 1300 { s } else { 1300 + (s - 1300) * 3 };
            history.push(s as i64 * 1000, puts(total));
        }
        assert_eq!(history.samples.len(), SAMPLES);
        assert_eq!(history.rate(600, |r| r.put_messages), 3.0);
        assert_eq!(history.rate(10, |r| r.put_messages), 3.0);
    }

    #[test]
    fn a_second_reading_within_half_a_second_is_ignored() {
        let mut history = History::default();
        history.push(0, puts(0));
        history.push(400, puts(99));
        history.push(1000, puts(10));
        assert_eq!(history.samples.len(), 2);
        assert_eq!(history.rate(1, |r| r.put_messages), 10.0);
    }

    #[test]
    fn rates_are_written_as_java_writes_doubles() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(12.5), "12.5");
        assert_eq!(java_double(100.0), "100.0");
    }

    #[test]
    fn midnight_moves_today_to_yesterday_and_a_skipped_day_resets_both() {
        let day = DAY_MS;
        let mut marks = DayMarks::starting(day * 100 + 5, puts(10));
        marks.observe(day * 100 + 999, puts(20));
        assert_eq!(marks.today_morning, puts(10));
        marks.observe(day * 101 + 1, puts(30));
        assert_eq!(
            (marks.yesterday_morning, marks.today_morning),
            (puts(10), puts(30))
        );
        marks.observe(day * 105, puts(90));
        assert_eq!(
            (marks.yesterday_morning, marks.today_morning),
            (puts(90), puts(90))
        );
    }
}
