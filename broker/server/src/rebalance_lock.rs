//! Queue locks of orderly consumers (Apache's `RebalanceLockManager`): pure bookkeeping, given
//! the time, so tests need no clock.
//!
//! An orderly consumer locks the queues rebalancing gave it (LOCK_BATCH_MQ, renewed every 20 s)
//! and consumes only locked queues, one message at a time per queue. A lock belongs to one client
//! id per (group, queue); it is free again after UNLOCK_BATCH_MQ from its owner, or once it was not
//! renewed for `rebalanceLockMaxLiveTime` (60 s) — a crashed consumer does not block its queues
//! for longer than that. Locks of different groups never interfere.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rmq_protocol::body::MessageQueue;
use tracing::{debug, info, warn};

#[derive(Debug, Clone)]
struct LockEntry {
    client_id: String,
    last_update: Instant,
}

impl LockEntry {
    fn expired(&self, now: Instant, max_live: Duration) -> bool {
        now.saturating_duration_since(self.last_update) > max_live
    }
}

/// The locks of every group.
#[derive(Debug, Default)]
pub struct RebalanceLocks {
    groups: HashMap<String, HashMap<MessageQueue, LockEntry>>,
}

impl RebalanceLocks {
    /// Locks (or renews) each queue for `client_id` unless another client holds a live lock on
    /// it; returns the queues `client_id` holds afterwards among those asked.
    pub fn try_lock_batch(
        &mut self,
        group: &str,
        queues: &[MessageQueue],
        client_id: &str,
        now: Instant,
        max_live: Duration,
    ) -> BTreeSet<MessageQueue> {
        let table = self.groups.entry(group.to_owned()).or_default();
        let mut locked = BTreeSet::new();
        for mq in queues {
            match table.get_mut(mq) {
                Some(entry) if entry.client_id == client_id => {
                    entry.last_update = now;
                    locked.insert(mq.clone());
                }
                Some(entry) if entry.expired(now, max_live) => {
                    warn!(%group, topic = %mq.topic, queue = mq.queue_id, old = %entry.client_id, new = %client_id, "expired queue lock taken over");
                    entry.client_id = client_id.to_owned();
                    entry.last_update = now;
                    locked.insert(mq.clone());
                }
                // Debug only: a client waiting for a lock may ask many times a second.
                Some(entry) => {
                    debug!(%group, topic = %mq.topic, queue = mq.queue_id, owner = %entry.client_id, asking = %client_id, "queue is locked by another client");
                }
                None => {
                    info!(%group, topic = %mq.topic, queue = mq.queue_id, client = %client_id, "queue locked");
                    table.insert(
                        mq.clone(),
                        LockEntry {
                            client_id: client_id.to_owned(),
                            last_update: now,
                        },
                    );
                    locked.insert(mq.clone());
                }
            }
        }
        locked
    }

    /// Releases the queues `client_id` holds; locks of other clients stay.
    pub fn unlock_batch(&mut self, group: &str, queues: &[MessageQueue], client_id: &str) {
        let Some(table) = self.groups.get_mut(group) else {
            return;
        };
        for mq in queues {
            match table.get(mq) {
                Some(entry) if entry.client_id == client_id => {
                    info!(%group, topic = %mq.topic, queue = mq.queue_id, client = %client_id, "queue unlocked");
                    table.remove(mq);
                }
                Some(entry) => {
                    warn!(%group, topic = %mq.topic, queue = mq.queue_id, owner = %entry.client_id, asking = %client_id, "unlock refused: the queue is locked by another client");
                }
                None => {}
            }
        }
        if table.is_empty() {
            self.groups.remove(group);
        }
    }

    /// Whether `client_id` holds a live lock on `mq` in `group`.
    pub fn is_locked_by(
        &self,
        group: &str,
        mq: &MessageQueue,
        client_id: &str,
        now: Instant,
        max_live: Duration,
    ) -> bool {
        self.groups
            .get(group)
            .and_then(|t| t.get(mq))
            .is_some_and(|e| e.client_id == client_id && !e.expired(now, max_live))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: Duration = Duration::from_secs(60);

    fn mq(queue_id: i32) -> MessageQueue {
        MessageQueue {
            broker_name: "broker-a".into(),
            queue_id,
            topic: "Orders".into(),
        }
    }

    #[test]
    fn two_clients_of_a_group_own_disjoint_queues() {
        let mut locks = RebalanceLocks::default();
        let t0 = Instant::now();
        let a = locks.try_lock_batch("g", &[mq(0), mq(1)], "A", t0, LIVE);
        assert_eq!(a, [mq(0), mq(1)].into_iter().collect());
        let b = locks.try_lock_batch("g", &[mq(1), mq(2)], "B", t0, LIVE);
        assert_eq!(b, [mq(2)].into_iter().collect(), "queue 1 stays with A");
        assert!(locks.is_locked_by("g", &mq(1), "A", t0, LIVE));
        assert!(!locks.is_locked_by("g", &mq(1), "B", t0, LIVE));
    }

    #[test]
    fn groups_do_not_share_locks() {
        let mut locks = RebalanceLocks::default();
        let t0 = Instant::now();
        locks.try_lock_batch("g1", &[mq(0)], "A", t0, LIVE);
        let other = locks.try_lock_batch("g2", &[mq(0)], "B", t0, LIVE);
        assert_eq!(other.len(), 1);
    }

    #[test]
    fn an_unrenewed_lock_expires_and_a_renewed_one_does_not() {
        let mut locks = RebalanceLocks::default();
        let t0 = Instant::now();
        locks.try_lock_batch("g", &[mq(0), mq(1)], "A", t0, LIVE);
        // A renews queue 0 only, 40 s later.
        locks.try_lock_batch("g", &[mq(0)], "A", t0 + Duration::from_secs(40), LIVE);
        let later = t0 + Duration::from_secs(61);
        let b = locks.try_lock_batch("g", &[mq(0), mq(1)], "B", later, LIVE);
        assert_eq!(b, [mq(1)].into_iter().collect());
        assert!(locks.is_locked_by("g", &mq(1), "B", later, LIVE));
        assert!(!locks.is_locked_by("g", &mq(1), "A", later, LIVE));
    }

    #[test]
    fn only_the_owner_can_unlock() {
        let mut locks = RebalanceLocks::default();
        let t0 = Instant::now();
        locks.try_lock_batch("g", &[mq(0)], "A", t0, LIVE);
        locks.unlock_batch("g", &[mq(0)], "B");
        assert!(
            locks
                .try_lock_batch("g", &[mq(0)], "B", t0, LIVE)
                .is_empty()
        );
        locks.unlock_batch("g", &[mq(0)], "A");
        assert_eq!(locks.try_lock_batch("g", &[mq(0)], "B", t0, LIVE).len(), 1);
    }

    #[test]
    fn relocking_renews_without_changing_the_owner() {
        let mut locks = RebalanceLocks::default();
        let t0 = Instant::now();
        locks.try_lock_batch("g", &[mq(0)], "A", t0, LIVE);
        let t1 = t0 + Duration::from_secs(59);
        assert_eq!(locks.try_lock_batch("g", &[mq(0)], "A", t1, LIVE).len(), 1);
        let t2 = t0 + Duration::from_secs(100);
        assert!(locks.is_locked_by("g", &mq(0), "A", t2, LIVE));
    }
}
