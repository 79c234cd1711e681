//! How many messages a group being removed still holds for someone: what its drain waits on.
//!
//! Per topic of the group's master (not the broker's own topics, not dead-letter topics,
//! which no consumer takes on its own): when some consumer group consumes the topic there
//! (QUERY_TOPIC_CONSUME_BY_WHO: committed offsets or online subscribers), the sum of each such
//! group's lag (GET_CONSUME_STATS; a queue without a committed offset counts from 0); when none
//! does, every message stored — nobody consumed them, so deleting the group would lose them.
//! A topic with messages and no consumer therefore holds the drain until a consumer comes, the
//! user forces it, or the drain timeout passes.
//!
//! Not counted: delayed messages not yet due (`SCHEDULE_TOPIC_XXXX`, one of the broker's own
//! topics) and dead letters. Both stay on the group's retained volume.

use super::metadata::is_drained_topic;
use crate::client::Admin;

/// One topic of the draining master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicHold {
    /// Messages stored on it (max less min offset over its queues).
    pub stored: u64,
    /// Lag of each consumer group consuming it here; empty: nobody does.
    pub lags: Vec<u64>,
}

/// Messages left: every consumer group's lag, and every message of a topic nobody consumes.
pub fn messages_left(topics: &[TopicHold]) -> u64 {
    topics
        .iter()
        .map(|t| {
            if t.lags.is_empty() {
                t.stored
            } else {
                t.lags.iter().sum()
            }
        })
        .sum()
}

/// Measures [`messages_left`] on the master at `addr`; `None` when a request fails.
pub async fn measure(admin: &Admin, addr: &str) -> Option<u64> {
    let topics = admin.all_topic_configs(addr).await.ok()?;
    let system = admin.system_topics(addr).await.ok()?.topic_list;
    let mut holds = Vec::new();
    for topic in topics.topic_config_table.keys() {
        if !is_drained_topic(topic, &system) {
            continue;
        }
        let groups = admin.consumers_of_topic(addr, topic).await.ok()?.group_list;
        let hold = if groups.is_empty() {
            let stats = admin.topic_stats(addr, topic).await.ok()?;
            let stored = stats
                .offset_table
                .iter()
                .map(|(_, o)| u64::try_from(o.max_offset - o.min_offset).unwrap_or(0))
                .sum();
            TopicHold {
                stored,
                lags: Vec::new(),
            }
        } else {
            let mut lags = Vec::new();
            for group in &groups {
                let stats = admin.consume_stats(addr, group, Some(topic)).await.ok()?;
                lags.push(
                    stats
                        .offset_table
                        .iter()
                        .filter(|(queue, _)| queue.topic == *topic)
                        .map(|(_, o)| {
                            u64::try_from(o.broker_offset - o.consumer_offset).unwrap_or(0)
                        })
                        .sum(),
                );
            }
            TopicHold { stored: 0, lags }
        };
        holds.push(hold);
    }
    Some(messages_left(&holds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_nobody_consumes_holds_all_its_messages_and_a_consumed_one_its_lags() {
        let holds = [
            TopicHold {
                stored: 40,
                lags: vec![],
            },
            TopicHold {
                stored: 1000,
                lags: vec![0, 3],
            },
        ];
        assert_eq!(messages_left(&holds), 43);
    }

    #[test]
    fn a_group_whose_every_topic_is_consumed_to_the_end_holds_nothing() {
        let holds = [TopicHold {
            stored: 1000,
            lags: vec![0, 0],
        }];
        assert_eq!(messages_left(&holds), 0);
        assert_eq!(messages_left(&[]), 0);
    }
}
