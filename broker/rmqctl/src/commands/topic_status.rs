//! `topicStatus`: the topic's route, then GET_TOPIC_STATS_INFO from every broker group (master,
//! else a slave): min and max offset and last update time of every queue.

use futures::future::join_all;
use rmq_admin::Admin;
use rmq_protocol::command::get_topic_stats::TopicStatsTable;
use serde::Serialize;

use super::select_broker_addr;
use crate::cli::TopicArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};
use crate::time::format_millis;

/// Every queue of the topic, by broker name and queue id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicStatus {
    pub topic: String,
    pub queues: Vec<QueueStatus>,
}

/// One queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatus {
    pub broker_name: String,
    pub queue_id: i32,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Store time of the last message, ms; 0 when the queue is empty.
    pub last_update_timestamp: i64,
}

/// Merges the brokers' tables, sorted by broker name and queue id.
pub fn topic_status(topic: &str, tables: &[TopicStatsTable]) -> TopicStatus {
    let mut queues: Vec<QueueStatus> = tables
        .iter()
        .flat_map(|table| &table.offset_table)
        .map(|(queue, offsets)| QueueStatus {
            broker_name: queue.broker_name.clone(),
            queue_id: queue.queue_id,
            min_offset: offsets.min_offset,
            max_offset: offsets.max_offset,
            last_update_timestamp: offsets.last_update_timestamp,
        })
        .collect();
    queues.sort_by(|a, b| (&a.broker_name, a.queue_id).cmp(&(&b.broker_name, b.queue_id)));
    queues.dedup_by(|a, b| a.broker_name == b.broker_name && a.queue_id == b.queue_id);
    TopicStatus {
        topic: topic.to_owned(),
        queues,
    }
}

/// The table.
pub fn render_topic_status(status: &TopicStatus) -> String {
    let mut table = Table::new(&[
        ("Broker Name", Align::Left),
        ("QID", Align::Right),
        ("Min Offset", Align::Right),
        ("Max Offset", Align::Right),
        ("Last Updated", Align::Left),
    ]);
    for queue in &status.queues {
        table.row(vec![
            queue.broker_name.clone(),
            queue.queue_id.to_string(),
            queue.min_offset.to_string(),
            queue.max_offset.to_string(),
            format_millis(queue.last_update_timestamp),
        ]);
    }
    table.render()
}

/// Route, then every broker at once; a broker that fails fails the command.
pub async fn run(admin: &Admin, args: &TopicArgs) -> Result<TopicStatus, CmdError> {
    let route = admin.topic_route(&args.topic).await?;
    let addrs: Vec<&str> = route
        .broker_datas
        .iter()
        .filter_map(select_broker_addr)
        .collect();
    if addrs.is_empty() {
        return Err(CmdError::NoBroker {
            topic: args.topic.clone(),
        });
    }
    let answers = join_all(
        addrs
            .iter()
            .map(|addr| admin.topic_stats(addr, &args.topic)),
    )
    .await;
    let tables = answers.into_iter().collect::<Result<Vec<_>, _>>()?;
    let status = topic_status(&args.topic, &tables);
    if status.queues.is_empty() {
        return Err(CmdError::NoTopicStats {
            topic: args.topic.clone(),
        });
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use rmq_protocol::body::MessageQueue;
    use rmq_protocol::command::get_topic_stats::TopicOffset;

    use super::*;

    fn entry(
        broker: &str,
        queue_id: i32,
        min: i64,
        max: i64,
        ts: i64,
    ) -> (MessageQueue, TopicOffset) {
        (
            MessageQueue {
                broker_name: broker.into(),
                queue_id,
                topic: "T".into(),
            },
            TopicOffset {
                last_update_timestamp: ts,
                max_offset: max,
                min_offset: min,
            },
        )
    }

    fn tables() -> Vec<TopicStatsTable> {
        vec![
            TopicStatsTable {
                offset_table: vec![entry("broker-b", 0, 0, 7, 1_700_000_000_123)],
                topic_put_tps: 0.0,
            },
            TopicStatsTable {
                offset_table: vec![
                    entry("broker-a", 1, 0, 0, 0),
                    entry("broker-a", 0, 100, 123_456, 1_700_000_000_000),
                ],
                topic_put_tps: 0.0,
            },
        ]
    }

    #[test]
    fn queues_of_every_broker_are_merged_and_sorted_by_broker_then_queue() {
        let status = topic_status("T", &tables());
        assert_eq!(
            render_topic_status(&status),
            "\
#Broker Name  #QID  #Min Offset  #Max Offset  #Last Updated
broker-a         0          100       123456  2023-11-14T22:13:20.000Z
broker-a         1            0            0  -
broker-b         0            0            7  2023-11-14T22:13:20.123Z
"
        );
    }

    #[test]
    fn json_keeps_raw_timestamps() {
        let status = topic_status("T", &tables()[..1]);
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            r#"{"topic":"T","queues":[{"brokerName":"broker-b","queueId":0,"minOffset":0,"maxOffset":7,"lastUpdateTimestamp":1700000000123}]}"#
        );
    }
}
