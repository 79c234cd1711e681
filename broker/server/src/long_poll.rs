//! Suspended pulls: a PULL_MESSAGE that finds nothing waits here until a message arrives in its
//! queue or its suspend time runs out (Apache's PullRequestHoldService, without the polling:
//! the store's dispatch thread wakes waiters directly).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

/// Waiters by topic, then queue.
#[derive(Debug, Default)]
pub struct PullWaiters {
    waiting: Mutex<HashMap<String, HashMap<i32, Vec<Waiter>>>>,
}

#[derive(Debug)]
struct Waiter {
    offset: u64,
    wake: oneshot::Sender<()>,
}

impl PullWaiters {
    /// Registers interest in messages at or after `offset`; the receiver fires when one arrives
    /// (or when [`PullWaiters::wake_all`] runs at shutdown). Dropping it unregisters lazily.
    pub fn wait(&self, topic: &str, queue_id: i32, offset: u64) -> oneshot::Receiver<()> {
        let (wake, woken) = oneshot::channel();
        let mut waiting = self.lock();
        let queues = match waiting.get_mut(topic) {
            Some(queues) => queues,
            None => waiting.entry(topic.to_owned()).or_default(),
        };
        let waiters = queues.entry(queue_id).or_default();
        // Drop waiters whose pull already finished, so an idle queue does not accumulate them.
        waiters.retain(|w| !w.wake.is_closed());
        waiters.push(Waiter { offset, wake });
        woken
    }

    /// A message arrived; `max_offset` is the queue's new max offset. Cheap when nobody waits:
    /// called for every dispatched message.
    pub fn arrived(&self, topic: &str, queue_id: i32, max_offset: u64) {
        let mut waiting = self.lock();
        let Some(queues) = waiting.get_mut(topic) else {
            return;
        };
        let Some(waiters) = queues.get_mut(&queue_id) else {
            return;
        };
        let mut i = 0;
        while i < waiters.len() {
            if waiters[i].offset < max_offset {
                let _ = waiters.swap_remove(i).wake.send(());
            } else {
                i += 1;
            }
        }
        if waiters.is_empty() {
            queues.remove(&queue_id);
            if queues.is_empty() {
                waiting.remove(topic);
            }
        }
    }

    /// Wakes everyone (shutdown): suspended pulls answer with what they have.
    pub fn wake_all(&self) {
        let drained: Vec<_> = self.lock().drain().collect();
        for (_, queues) in drained {
            for (_, waiters) in queues {
                for waiter in waiters {
                    let _ = waiter.wake.send(());
                }
            }
        }
    }

    /// Number of suspended pulls.
    pub fn len(&self) -> usize {
        self.lock()
            .values()
            .flat_map(HashMap::values)
            .map(Vec::len)
            .sum()
    }

    /// Whether no pull is suspended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, HashMap<i32, Vec<Waiter>>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arrival_past_the_waiting_offset_wakes_only_that_queues_waiters() {
        let waiters = PullWaiters::default();
        let mut at_5 = waiters.wait("T", 0, 5);
        let mut at_9 = waiters.wait("T", 0, 9);
        let mut other_queue = waiters.wait("T", 1, 0);
        waiters.arrived("T", 0, 6);
        assert!(at_5.try_recv().is_ok());
        assert!(at_9.try_recv().is_err());
        assert!(other_queue.try_recv().is_err());
        assert_eq!(waiters.len(), 2);
        waiters.arrived("T", 0, 10);
        assert!(at_9.try_recv().is_ok());
        waiters.wake_all();
        assert!(other_queue.try_recv().is_ok());
        assert!(waiters.is_empty());
    }

    #[test]
    fn finished_waiters_are_dropped_when_the_queue_is_waited_on_again() {
        let waiters = PullWaiters::default();
        for offset in 0..100 {
            drop(waiters.wait("T", 0, offset));
        }
        let _live = waiters.wait("T", 0, 100);
        assert_eq!(waiters.len(), 1);
    }
}
