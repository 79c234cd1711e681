//! The consume queues by topic and queue id. Every dispatched message looks its queue up, so a
//! lookup borrows the topic instead of building an owned key.

use std::collections::HashMap;
use std::sync::Arc;

use crate::consume_queue::ConsumeQueue;

#[derive(Debug, Default)]
pub(crate) struct QueueTable {
    by_topic: HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>,
}

impl QueueTable {
    pub(crate) fn get(&self, topic: &str, queue_id: i32) -> Option<&Arc<ConsumeQueue>> {
        self.by_topic.get(topic)?.get(&queue_id)
    }

    /// Adds `queue` under its own topic and id, replacing one that was there.
    pub(crate) fn insert(&mut self, queue: Arc<ConsumeQueue>) {
        self.by_topic
            .entry(queue.topic().to_owned())
            .or_default()
            .insert(queue.queue_id(), queue);
    }

    /// Every queue, for the flush and retention passes (taken out so no lock is held on disk).
    pub(crate) fn all(&self) -> Vec<Arc<ConsumeQueue>> {
        self.by_topic
            .values()
            .flat_map(HashMap::values)
            .cloned()
            .collect()
    }

    /// Takes every queue of `topic` out of the table.
    pub(crate) fn remove_topic(&mut self, topic: &str) -> Vec<Arc<ConsumeQueue>> {
        self.by_topic
            .remove(topic)
            .map(|queues| queues.into_values().collect())
            .unwrap_or_default()
    }

    /// Every topic with a queue, sorted.
    pub(crate) fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self.by_topic.keys().cloned().collect();
        topics.sort();
        topics
    }

    /// Topic and id of every queue, sorted.
    pub(crate) fn keys(&self) -> Vec<(String, i32)> {
        let mut keys: Vec<(String, i32)> = self
            .by_topic
            .iter()
            .flat_map(|(topic, queues)| queues.keys().map(|id| (topic.clone(), *id)))
            .collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_queue::FileQueue;

    fn queue(dir: &std::path::Path, topic: &str, queue_id: i32) -> Arc<ConsumeQueue> {
        let path = dir.join(topic).join(queue_id.to_string());
        let files = FileQueue::open_sparse(&path, 20 * 1000).expect("open queue files");
        Arc::new(ConsumeQueue::new(topic, queue_id, files))
    }

    #[test]
    fn a_queue_is_found_by_its_topic_and_id_and_only_by_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut table = QueueTable::default();
        table.insert(queue(dir.path(), "orders", 0));
        table.insert(queue(dir.path(), "orders", 3));
        table.insert(queue(dir.path(), "audit", 0));
        assert_eq!(table.get("orders", 3).map(|q| q.queue_id()), Some(3));
        assert_eq!(table.get("audit", 0).map(|q| q.topic()), Some("audit"));
        assert!(table.get("orders", 1).is_none());
        assert!(table.get("payments", 0).is_none());
        assert_eq!(
            table.keys(),
            vec![
                ("audit".into(), 0),
                ("orders".into(), 0),
                ("orders".into(), 3)
            ]
        );
        assert_eq!(table.all().len(), 3);
        assert_eq!(table.topics(), ["audit", "orders"]);
        let removed = table.remove_topic("orders");
        assert_eq!(removed.len(), 2);
        assert!(table.get("orders", 0).is_none());
        assert_eq!(table.topics(), ["audit"]);
        assert!(table.remove_topic("orders").is_empty());
    }
}
