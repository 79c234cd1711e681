//! Delay levels (Apache 4.x `ScheduleMessageService`).
//!
//! A message sent with property `DELAY=<level>` is not stored in its topic: [`put_message`]
//! rewrites it into `SCHEDULE_TOPIC_XXXX`, queue `level - 1`, keeping the real topic and queue in
//! `REAL_TOPIC`/`REAL_QID`; the store writes its delivery time (store time + the level's delay)
//! as the consume-queue tag code. The scheduler ([`service::run`]) walks each level's queue from its
//! persisted offset and, for every entry that is due, stores the message again in its real topic
//! and queue ([`crate::route::delivered`]) and moves the offset past it; the first entry not yet due ends the
//! walk for that level (entries of one level are due in store order).
//!
//! Progress is written to `config/delayOffset.json` every `flushDelayOffsetInterval` (10 s) and
//! at shutdown, so after a clean restart each message is delivered once, including those that
//! came due while the broker was down. After a crash, deliveries since the last write are made
//! again (at least once, as in Apache).
//!
//! ```text
//! send DELAY=3 ──► SCHEDULE_TOPIC_XXXX/2  (tags code = store time + 10 s)
//!                        │ scheduler: due? ──► T/q (REAL_TOPIC, REAL_QID)
//! ```

pub mod service;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rmq_protocol::message::properties::keys;
use rmq_protocol::message::record::RecordView;
use rmq_store::delay_level::{DelayLevels, SCHEDULE_TOPIC};
use rmq_store::error::{MetadataError, PutError};
use rmq_store::metadata::{DelayOffsetTable, MetadataFile};
use rmq_store::{MessageStore, PutMessage, PutResult};
use tracing::{error, warn};

use crate::props;

/// How often each level's queue is looked at (Apache: 100 ms between scans).
const TICK: Duration = Duration::from_millis(100);
/// Pause of one level after a failed delivery (Apache: `DELAY_FOR_A_PERIOD`, 10 s).
const BACK_OFF_MS: i64 = 10_000;
/// Messages read from one level per read once one was due.
const READ_BATCH: usize = 32;

/// Appends a message as Apache's `CommitLog.putMessage` does for delays: a plain or committed
/// message with `DELAY > 0` goes to `SCHEDULE_TOPIC_XXXX` (level capped at the highest) with
/// `REAL_TOPIC`/`REAL_QID`; everything else is stored as it is.
pub fn put_message(
    store: &MessageStore,
    levels: &DelayLevels,
    msg: &PutMessage<'_>,
) -> Result<PutResult, PutError> {
    put_delayed(store, levels, msg, props::int(msg.properties, keys::DELAY))
}

/// [`put_message`] for a message whose `DELAY` the caller already read (`delay_level`).
pub fn put_delayed(
    store: &MessageStore,
    levels: &DelayLevels,
    msg: &PutMessage<'_>,
    delay_level: Option<i64>,
) -> Result<PutResult, PutError> {
    match crate::route::delay_rewrite(
        levels,
        msg.topic,
        msg.queue_id,
        msg.sys_flag,
        msg.properties,
        delay_level,
    ) {
        Some((queue_id, properties)) => store.put_message(&PutMessage {
            topic: SCHEDULE_TOPIC,
            queue_id,
            properties: &properties,
            ..msg.clone()
        }),
        None => store.put_message(msg),
    }
}

/// What to do with the next entry of a level's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Deliver,
    /// Not due for this many ms.
    Wait(i64),
}

/// Decides for an entry due at `deliver_at` (`correctDeliverTimestamp`: a delivery time further
/// away than the level's whole delay — the clock went back — counts as due now).
pub fn decide(deliver_at: i64, now: i64, level_delay: i64) -> Step {
    let deliver_at = if deliver_at > now + level_delay {
        now
    } else {
        deliver_at
    };
    if deliver_at <= now {
        Step::Deliver
    } else {
        Step::Wait(deliver_at - now)
    }
}

/// The next offset to deliver from, per level (`delayOffset.json`).
#[derive(Debug, Default)]
pub struct DelayOffsets {
    table: Mutex<BTreeMap<i32, i64>>,
}

impl DelayOffsets {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<i32, i64>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loads `delayOffset.json` from `config_dir` (missing: every level at 0).
    pub fn load(&self, config_dir: &Path) -> Result<(), MetadataError> {
        if let Some(loaded) = DelayOffsetTable::load_from(config_dir)? {
            *self.lock() = loaded.value.offset_table;
        }
        Ok(())
    }

    /// Writes `delayOffset.json`.
    pub fn persist(&self, config_dir: &Path) -> Result<(), MetadataError> {
        let table = DelayOffsetTable {
            data_version: None,
            offset_table: self.lock().clone(),
        };
        table.persist_to(config_dir)
    }

    /// The next offset of `level`.
    pub fn get(&self, level: i32) -> i64 {
        self.lock().get(&level).copied().unwrap_or(0)
    }

    pub fn set(&self, level: i32, offset: i64) {
        self.lock().insert(level, offset);
    }

    /// Every level's offset (GET_ALL_DELAY_OFFSET, tools).
    pub fn snapshot(&self) -> BTreeMap<i32, i64> {
        self.lock().clone()
    }
}

/// Levels paused after a failed delivery, until the given time (ms).
pub type BackOff = HashMap<i32, i64>;

/// Delivers every message due at `now` (ms); returns how many were delivered.
pub fn deliver_due(
    store: &MessageStore,
    levels: &DelayLevels,
    offsets: &DelayOffsets,
    back_off: &mut BackOff,
    now: i64,
) -> usize {
    let mut delivered_count = 0;
    for level in 1..=levels.max_level() {
        if back_off.get(&level).is_some_and(|until| *until > now) {
            continue;
        }
        back_off.remove(&level);
        let queue_id = level - 1;
        let level_delay = levels.delay_ms(level).unwrap_or(1000);
        let mut offset = offsets.get(level).max(0) as u64;
        let min = store.min_offset_in_queue(SCHEDULE_TOPIC, queue_id);
        if offset < min {
            warn!(
                level,
                offset, min, "delay offset below the queue's first entry; skipping to it"
            );
            offset = min;
        }
        // Look at the head alone until something is due: most ticks find nothing to do.
        let mut reader = store.read_queue(SCHEDULE_TOPIC, queue_id, offset);
        loop {
            let Some(raw) = reader.next() else {
                // Everything readable was delivered; unreadable entries are passed over.
                offset = offset.max(reader.position());
                break;
            };
            let view = match RecordView::decode(&raw) {
                Ok(view) => view,
                Err(e) => {
                    error!(level, offset, error = %e, "unreadable delayed message skipped");
                    continue;
                }
            };
            let record_offset = view.queue_offset().max(0) as u64;
            let deliver_at = levels.schedule_tags_code(
                SCHEDULE_TOPIC,
                view.properties(),
                view.store_timestamp(),
                view.store_timestamp(),
            );
            if let Step::Wait(_) = decide(deliver_at, now, level_delay) {
                offset = record_offset;
                break;
            }
            let Some(message) = crate::route::delivered(&view) else {
                error!(
                    level,
                    offset = record_offset,
                    "delayed message without REAL_TOPIC/REAL_QID dropped"
                );
                offset = record_offset + 1;
                continue;
            };
            match store.put_message(&message.as_put(&view)) {
                Ok(_) => {
                    delivered_count += 1;
                    reader.set_batch(READ_BATCH);
                    offset = record_offset + 1;
                }
                Err(e) => {
                    error!(level, offset = record_offset, error = %e, "delayed message could not be delivered; retrying in 10 s");
                    offset = record_offset;
                    back_off.insert(level, now + BACK_OFF_MS);
                    break;
                }
            }
        }
        offsets.set(level, offset as i64);
    }
    delivered_count
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_protocol::message::properties;
    use rmq_store::GetRequest;
    use rmq_store::StoreConfig;

    fn put_delayed(store: &MessageStore, levels: &DelayLevels, key: &str, level: i32) {
        let props = properties::encode([("KEYS", key), ("DELAY", &level.to_string())]);
        put_message(
            store,
            levels,
            &PutMessage {
                properties: &props,
                ..PutMessage::new("Real", 1, key.as_bytes(), "127.0.0.1:1".parse().unwrap())
            },
        )
        .unwrap();
        assert!(store.wait_dispatched(Duration::from_secs(5)));
    }

    #[test]
    fn due_entries_are_delivered_and_future_ones_wait() {
        assert_eq!(decide(1_000, 1_000, 5_000), Step::Deliver);
        assert_eq!(decide(900, 1_000, 5_000), Step::Deliver);
        assert_eq!(decide(3_000, 1_000, 5_000), Step::Wait(2_000));
        // Further away than the whole level delay: the clock went back; deliver now.
        assert_eq!(decide(10_000, 1_000, 5_000), Step::Deliver);
    }

    #[test]
    fn the_scheduler_delivers_each_message_once_when_due_by_the_injected_clock() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig::new(dir.path());
        config.commit_log_file_size = 1 << 20;
        config.delay_levels = DelayLevels::parse("1s 2s 3s").unwrap();
        let levels = config.delay_levels.clone();
        let store = MessageStore::open(config).unwrap();
        let offsets = DelayOffsets::default();
        let mut back_off = BackOff::new();
        let t0 = rmq_store::commit_log::now_ms();
        put_delayed(&store, &levels, "k1", 1);
        put_delayed(&store, &levels, "k2", 2);
        assert_eq!(store.max_offset_in_queue("Real", 1), 0, "not visible yet");
        assert_eq!(store.max_offset_in_queue(SCHEDULE_TOPIC, 0), 1);
        assert_eq!(store.max_offset_in_queue(SCHEDULE_TOPIC, 1), 1);

        assert_eq!(
            deliver_due(&store, &levels, &offsets, &mut back_off, t0 + 100),
            0
        );
        let after_one = deliver_due(&store, &levels, &offsets, &mut back_off, t0 + 1_600);
        assert_eq!(after_one, 1, "level 1 is due, level 2 is not");
        assert_eq!(offsets.get(1), 1);
        assert_eq!(offsets.get(2), 0);
        assert_eq!(
            deliver_due(&store, &levels, &offsets, &mut back_off, t0 + 2_600),
            1
        );
        assert_eq!(
            deliver_due(&store, &levels, &offsets, &mut back_off, t0 + 9_000),
            0,
            "nothing is delivered twice"
        );
        assert!(store.wait_dispatched(Duration::from_secs(5)));
        let real = store.get_message(&GetRequest {
            topic: "Real",
            queue_id: 1,
            offset: 0,
            max_count: 10,
            max_bytes: usize::MAX,
            filter: None,
        });
        let bodies: Vec<Vec<u8>> = real
            .messages
            .iter()
            .map(|m| RecordView::decode(m).unwrap().body().to_vec())
            .collect();
        assert_eq!(bodies, [b"k1".to_vec(), b"k2".to_vec()]);
        let first = RecordView::decode(&real.messages[0]).unwrap();
        assert_eq!(
            properties::find(first.properties(), keys::REAL_TOPIC),
            Some("Real")
        );
        assert_eq!(first.topic(), "Real");

        // Progress survives a reload of delayOffset.json.
        let config_dir = dir.path().join("config");
        offsets.persist(&config_dir).unwrap();
        let reloaded = DelayOffsets::default();
        reloaded.load(&config_dir).unwrap();
        assert_eq!(reloaded.snapshot(), offsets.snapshot());
    }

    #[test]
    fn the_schedule_queue_holds_the_delivery_time_as_tag_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig::new(dir.path());
        config.commit_log_file_size = 1 << 20;
        config.delay_levels = DelayLevels::parse("1s 2s 3s").unwrap();
        let levels = config.delay_levels.clone();
        let store = MessageStore::open(config).unwrap();
        put_delayed(&store, &levels, "k", 3);
        let seen = std::cell::Cell::new(0i64);
        let probe = |code: i64| {
            seen.set(code);
            true
        };
        let r = store.get_message(&GetRequest {
            topic: SCHEDULE_TOPIC,
            queue_id: 2,
            offset: 0,
            max_count: 1,
            max_bytes: usize::MAX,
            filter: Some(&probe),
        });
        let view = RecordView::decode(&r.messages[0]).unwrap();
        assert_eq!(seen.get(), view.store_timestamp() + 3_000);
    }
}
