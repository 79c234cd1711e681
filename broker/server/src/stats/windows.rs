//! Apache's `StatsItem` windows, for VIEW_BROKER_STATS_DATA (`mqadmin statsAll`): a counter
//! sampled every 10 s (kept 1 min), every 10 min (kept 1 h) and every hour (kept 24 h); each
//! window's figures are the growth between its first and last sample. The first sample of a
//! window is preceded by a zero one a period earlier, so what was counted before it shows.

use std::collections::VecDeque;

/// One window's figures, as `BrokerStatsItem` carries them.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Figures {
    /// Growth of the counted value over the window.
    pub sum: i64,
    /// `sum` per second.
    pub tps: f64,
    /// `sum` per counted call.
    pub avgpt: f64,
}

/// Samples of one period.
#[derive(Debug, Clone)]
struct Ring {
    period_ms: i64,
    keep: usize,
    /// `(time, value, calls)`, oldest first.
    samples: VecDeque<(i64, u64, u64)>,
}

impl Ring {
    fn new(period_ms: i64, keep: usize) -> Ring {
        Ring {
            period_ms,
            keep,
            samples: VecDeque::new(),
        }
    }

    fn due(&self, now_ms: i64) -> bool {
        self.samples
            .back()
            .is_none_or(|(last, _, _)| now_ms - last >= self.period_ms)
    }

    fn sample(&mut self, now_ms: i64, value: u64, calls: u64) {
        if self.samples.is_empty() {
            self.samples.push_back((now_ms - self.period_ms, 0, 0));
        }
        self.samples.push_back((now_ms, value, calls));
        while self.samples.len() > self.keep {
            self.samples.pop_front();
        }
    }

    fn figures(&self) -> Figures {
        let (Some(first), Some(last)) = (self.samples.front(), self.samples.back()) else {
            return Figures::default();
        };
        let sum = last.1.saturating_sub(first.1) as i64;
        let millis = last.0 - first.0;
        let calls = last.2.saturating_sub(first.2);
        Figures {
            sum,
            tps: if millis > 0 {
                sum as f64 * 1000.0 / millis as f64
            } else {
                0.0
            },
            avgpt: if calls > 0 {
                sum as f64 / calls as f64
            } else {
                0.0
            },
        }
    }
}

/// The minute, hour and day windows of one counter.
#[derive(Debug, Clone)]
pub struct Windows {
    minute: Ring,
    hour: Ring,
    day: Ring,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            minute: Ring::new(10_000, 7),
            hour: Ring::new(600_000, 7),
            day: Ring::new(3_600_000, 25),
        }
    }
}

impl Windows {
    /// Samples each window whose period has passed since its last sample.
    pub fn tick(&mut self, now_ms: i64, value: u64, calls: u64) {
        for ring in [&mut self.minute, &mut self.hour, &mut self.day] {
            if ring.due(now_ms) {
                ring.sample(now_ms, value, calls);
            }
        }
    }

    pub fn minute(&self) -> Figures {
        self.minute.figures()
    }

    pub fn hour(&self) -> Figures {
        self.hour.figures()
    }

    pub fn day(&self) -> Figures {
        self.day.figures()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minute_window_is_the_growth_of_the_last_minute_per_second() {
        let mut w = Windows::default();
        // 5 a second for two minutes, ticked every second.
        for s in 0..=120 {
            w.tick(s * 1000, s as u64 * 5, s as u64);
        }
        let minute = w.minute();
        assert_eq!(minute.sum, 300);
        assert_eq!(minute.tps, 5.0);
        assert_eq!(minute.avgpt, 5.0);
    }

    #[test]
    fn what_was_counted_before_the_first_sample_shows_in_every_window() {
        let mut w = Windows::default();
        w.tick(1_000_000, 42, 2);
        assert_eq!(w.day().sum, 42);
        assert_eq!(w.hour().sum, 42);
        assert_eq!(w.minute().sum, 42);
        assert_eq!(w.minute().avgpt, 21.0);
    }

    #[test]
    fn the_day_window_keeps_24_hours() {
        let mut w = Windows::default();
        for h in 0..48 {
            w.tick(h * 3_600_000, h as u64 * 100, 0);
        }
        assert_eq!(w.day().sum, 2400);
        assert_eq!(w.day().avgpt, 0.0);
    }
}
