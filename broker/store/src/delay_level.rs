//! Delay levels (`messageDelayLevel`) and the consume-queue tag code of delayed messages.
//!
//! A delayed message waits in `SCHEDULE_TOPIC_XXXX`, queue `level - 1`. Its consume-queue entry
//! holds the **delivery time** (store time + the level's delay) where other topics hold the tag
//! hash, so the broker's scheduler decides from the queue alone whether an entry is due. Apache
//! computes it in `CommitLog.checkMessageAndReturnSize`; here dispatch and recovery both call
//! [`DelayLevels::schedule_tags_code`], so a rebuilt queue holds the same values.

use rmq_protocol::message::properties::{self, keys};

/// The topic delayed messages wait in (`TopicValidator.RMQ_SYS_SCHEDULE_TOPIC`).
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// Apache's default `messageDelayLevel`.
pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// The delay of each level, level 1 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevels {
    millis: Vec<i64>,
}

/// A `messageDelayLevel` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delay level {item:?} is not a number followed by s, m, h or d")]
pub struct DelayLevelError {
    pub item: String,
}

impl Default for DelayLevels {
    fn default() -> Self {
        match DelayLevels::parse(DEFAULT_DELAY_LEVELS) {
            Ok(levels) => levels,
            // The constant above parses; an empty table would only disable delays.
            Err(_) => DelayLevels { millis: Vec::new() },
        }
    }
}

impl rmq_protocol::conf::Value for DelayLevels {
    const EXPECTED: &'static str = "space-separated delays such as 1s 5m 2h 1d";
    fn parse_value(text: &str) -> Option<DelayLevels> {
        DelayLevels::parse(text).ok()
    }
    /// Each delay in its largest whole unit, as `messageDelayLevel` is written.
    fn write_value(&self) -> String {
        self.millis
            .iter()
            .map(|ms| match *ms {
                ms if ms > 0 && ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
                ms if ms > 0 && ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
                ms if ms > 0 && ms % 60_000 == 0 => format!("{}m", ms / 60_000),
                ms => format!("{}s", ms / 1000),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl DelayLevels {
    /// Parses `"1s 5s 10m 2h 1d"` as `ScheduleMessageService.parseDelayLevel` does: items split on
    /// spaces, each a whole number with unit `s`, `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<DelayLevels, DelayLevelError> {
        let mut millis = Vec::new();
        for item in text.split(' ').filter(|i| !i.is_empty()) {
            let err = || DelayLevelError { item: item.into() };
            let unit = item.chars().last().ok_or_else(err)?;
            let factor: i64 = match unit {
                's' => 1000,
                'm' => 60_000,
                'h' => 3_600_000,
                'd' => 86_400_000,
                _ => return Err(err()),
            };
            let n: i64 = item[..item.len() - 1].parse().map_err(|_| err())?;
            if n < 0 {
                return Err(err());
            }
            millis.push(n.saturating_mul(factor));
        }
        if millis.is_empty() {
            return Err(DelayLevelError { item: text.into() });
        }
        Ok(DelayLevels { millis })
    }

    /// The highest level (18 by default).
    pub fn max_level(&self) -> i32 {
        self.millis.len() as i32
    }

    /// The delay of `level` (1-based) in ms; `None` outside `1..=max_level`.
    pub fn delay_ms(&self, level: i32) -> Option<i64> {
        let index = usize::try_from(level.checked_sub(1)?).ok()?;
        self.millis.get(index).copied()
    }

    /// When a message stored at `store_timestamp` with `level` is due (`computeDeliverTimestamp`;
    /// a level beyond the table is capped, an unknown one waits 1 s as in Apache).
    pub fn deliver_timestamp(&self, level: i32, store_timestamp: i64) -> i64 {
        let level = level.min(self.max_level());
        store_timestamp + self.delay_ms(level).unwrap_or(1000)
    }

    /// The consume-queue tag code of a record: its delivery time when it is a delayed message
    /// waiting in [`SCHEDULE_TOPIC`], else `tags_code` unchanged.
    pub fn schedule_tags_code(
        &self,
        topic: &str,
        properties: &[u8],
        store_timestamp: i64,
        tags_code: i64,
    ) -> i64 {
        if topic != SCHEDULE_TOPIC {
            return tags_code;
        }
        match properties::find(properties, keys::DELAY).and_then(|d| d.trim().parse::<i32>().ok()) {
            Some(level) if level > 0 => self.deliver_timestamp(level, store_timestamp),
            _ => tags_code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_levels_are_written_back_as_apache_spells_them() {
        use rmq_protocol::conf::Value;
        assert_eq!(DelayLevels::default().write_value(), DEFAULT_DELAY_LEVELS);
    }

    #[test]
    fn the_default_table_has_eighteen_levels_from_one_second_to_two_hours() {
        let levels = DelayLevels::default();
        assert_eq!(levels.max_level(), 18);
        assert_eq!(levels.delay_ms(1), Some(1000));
        assert_eq!(levels.delay_ms(3), Some(10_000));
        assert_eq!(levels.delay_ms(18), Some(7_200_000));
        assert_eq!(levels.delay_ms(0), None);
        assert_eq!(levels.delay_ms(19), None);
    }

    #[test]
    fn units_and_bad_items_are_read_like_apache() {
        let levels = DelayLevels::parse("1s 2m  3h 1d").unwrap();
        assert_eq!(levels.delay_ms(2), Some(120_000));
        assert_eq!(levels.delay_ms(4), Some(86_400_000));
        assert!(DelayLevels::parse("1x").is_err());
        assert!(DelayLevels::parse("s").is_err());
        assert!(DelayLevels::parse("").is_err());
    }

    #[test]
    fn schedule_entries_carry_the_delivery_time_and_others_the_tag_hash() {
        let levels = DelayLevels::parse("1s 2s 3s").unwrap();
        let props = b"DELAY\x012\x02REAL_TOPIC\x01T\x02";
        assert_eq!(
            levels.schedule_tags_code(SCHEDULE_TOPIC, props, 10_000, 7),
            12_000
        );
        assert_eq!(levels.schedule_tags_code("T", props, 10_000, 7), 7);
        // Beyond the table: capped at the last level.
        let far = b"DELAY\x019\x02";
        assert_eq!(
            levels.schedule_tags_code(SCHEDULE_TOPIC, far, 10_000, 7),
            13_000
        );
    }
}
