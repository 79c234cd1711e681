//! `consumerProgress -g group [-t topic]`: the brokers serving the group are those of its retry
//! topic `%RETRY%<group>` (or, failing that, of `-t`), as mqadmin finds them; then
//! GET_CONSUME_STATS from each: broker offset, consumer offset and lag of every queue.

use futures::future::join_all;
use rmq_admin::Admin;
use rmq_protocol::command::get_consume_stats::ConsumeStats;
use serde::Serialize;

use super::select_broker_addr;
use crate::cli::ConsumerProgressArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};
use crate::time::format_millis;

/// Prefix of a group's retry topic (`MixAll.RETRY_GROUP_TOPIC_PREFIX`).
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";

/// A group's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerProgress {
    pub group: String,
    /// Sum of the brokers' figures.
    pub consume_tps: f64,
    pub queues: Vec<QueueProgress>,
    pub broker_offset_total: i64,
    pub consumer_offset_total: i64,
    pub diff_total: i64,
}

/// Progress on one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueProgress {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
    pub broker_offset: i64,
    pub consumer_offset: i64,
    /// `brokerOffset - consumerOffset`: messages not yet consumed.
    pub diff: i64,
    /// Store time of the last consumed message, ms; 0 when unknown.
    pub last_timestamp: i64,
}

/// Merges the brokers' answers, sorted by topic, broker name and queue id, with totals.
pub fn consumer_progress(group: &str, answers: &[ConsumeStats]) -> ConsumerProgress {
    let mut queues: Vec<QueueProgress> = answers
        .iter()
        .flat_map(|stats| &stats.offset_table)
        .map(|(queue, offsets)| QueueProgress {
            topic: queue.topic.clone(),
            broker_name: queue.broker_name.clone(),
            queue_id: queue.queue_id,
            broker_offset: offsets.broker_offset,
            consumer_offset: offsets.consumer_offset,
            diff: offsets.broker_offset - offsets.consumer_offset,
            last_timestamp: offsets.last_timestamp,
        })
        .collect();
    queues.sort_by(|a, b| {
        (&a.topic, &a.broker_name, a.queue_id).cmp(&(&b.topic, &b.broker_name, b.queue_id))
    });
    ConsumerProgress {
        group: group.to_owned(),
        consume_tps: answers.iter().map(|stats| stats.consume_tps).sum(),
        broker_offset_total: queues.iter().map(|q| q.broker_offset).sum(),
        consumer_offset_total: queues.iter().map(|q| q.consumer_offset).sum(),
        diff_total: queues.iter().map(|q| q.diff).sum(),
        queues,
    }
}

/// The table, then the TPS and the totals.
pub fn render_consumer_progress(progress: &ConsumerProgress) -> String {
    let mut table = Table::new(&[
        ("Topic", Align::Left),
        ("Broker Name", Align::Left),
        ("QID", Align::Right),
        ("Broker Offset", Align::Right),
        ("Consumer Offset", Align::Right),
        ("Diff", Align::Right),
        ("LastTime", Align::Left),
    ]);
    for queue in &progress.queues {
        table.row(vec![
            queue.topic.clone(),
            queue.broker_name.clone(),
            queue.queue_id.to_string(),
            queue.broker_offset.to_string(),
            queue.consumer_offset.to_string(),
            queue.diff.to_string(),
            format_millis(queue.last_timestamp),
        ]);
    }
    table.row(vec![
        "Total".to_owned(),
        String::new(),
        String::new(),
        progress.broker_offset_total.to_string(),
        progress.consumer_offset_total.to_string(),
        progress.diff_total.to_string(),
    ]);
    let mut out = table.render();
    out.push_str(&format!(
        "\nConsume TPS: {:.2}\nDiff Total: {}\n",
        progress.consume_tps, progress.diff_total
    ));
    out
}

/// Route of the retry topic (else of `-t`), then every broker at once.
pub async fn run(admin: &Admin, args: &ConsumerProgressArgs) -> Result<ConsumerProgress, CmdError> {
    let retry_topic = format!("{RETRY_GROUP_TOPIC_PREFIX}{}", args.group);
    let route = match admin.topic_route(&retry_topic).await {
        Ok(route) => route,
        Err(error) => match &args.topic {
            Some(topic) => admin.topic_route(topic).await?,
            None => return Err(error.into()),
        },
    };
    let addrs: Vec<&str> = route
        .broker_datas
        .iter()
        .filter_map(select_broker_addr)
        .collect();
    let answers = join_all(
        addrs
            .iter()
            .map(|addr| admin.consume_stats(addr, &args.group, args.topic.as_deref())),
    )
    .await;
    let answers = answers.into_iter().collect::<Result<Vec<_>, _>>()?;
    let progress = consumer_progress(&args.group, &answers);
    if progress.queues.is_empty() {
        return Err(CmdError::NoConsumeProgress {
            group: args.group.clone(),
        });
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use rmq_protocol::body::MessageQueue;
    use rmq_protocol::command::get_consume_stats::OffsetWrapper;

    use super::*;

    fn entry(
        topic: &str,
        broker: &str,
        queue_id: i32,
        broker_offset: i64,
        consumer_offset: i64,
        ts: i64,
    ) -> (MessageQueue, OffsetWrapper) {
        (
            MessageQueue {
                broker_name: broker.into(),
                queue_id,
                topic: topic.into(),
            },
            OffsetWrapper {
                broker_offset,
                consumer_offset,
                last_timestamp: ts,
                pull_offset: 0,
            },
        )
    }

    fn answers() -> Vec<ConsumeStats> {
        vec![
            ConsumeStats {
                consume_tps: 1.25,
                offset_table: vec![
                    entry("T", "broker-b", 0, 10, 10, 1_700_000_000_000),
                    entry("%RETRY%cg", "broker-b", 0, 2, 1, 0),
                ],
            },
            ConsumeStats {
                consume_tps: 0.5,
                offset_table: vec![
                    entry("T", "broker-a", 1, 200, 150, 1_700_000_000_123),
                    entry("T", "broker-a", 0, 1000, 1000, 1_700_000_000_000),
                ],
            },
        ]
    }

    #[test]
    fn queues_are_sorted_with_lag_per_queue_and_totals() {
        let progress = consumer_progress("cg", &answers());
        assert_eq!(
            render_consumer_progress(&progress),
            "\
#Topic     #Broker Name  #QID  #Broker Offset  #Consumer Offset  #Diff  #LastTime
%RETRY%cg  broker-b         0               2                 1      1  -
T          broker-a         0            1000              1000      0  2023-11-14T22:13:20.000Z
T          broker-a         1             200               150     50  2023-11-14T22:13:20.123Z
T          broker-b         0              10                10      0  2023-11-14T22:13:20.000Z
Total                                    1212              1161     51

Consume TPS: 1.75
Diff Total: 51
"
        );
    }

    #[test]
    fn json_carries_the_totals_and_the_summed_tps() {
        let progress = consumer_progress("cg", &answers()[..1]);
        assert_eq!(
            serde_json::to_string(&progress).unwrap(),
            r#"{"group":"cg","consumeTps":1.25,"queues":[{"topic":"%RETRY%cg","brokerName":"broker-b","queueId":0,"brokerOffset":2,"consumerOffset":1,"diff":1,"lastTimestamp":0},{"topic":"T","brokerName":"broker-b","queueId":0,"brokerOffset":10,"consumerOffset":10,"diff":0,"lastTimestamp":1700000000000}],"brokerOffsetTotal":12,"consumerOffsetTotal":11,"diffTotal":1}"#
        );
    }
}
