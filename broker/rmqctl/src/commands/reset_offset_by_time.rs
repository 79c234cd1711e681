//! `resetOffsetByTime -g group -t topic -s time [-f force]` and `skipAccumulatedMessage -g -t`:
//! move a group's offsets on a topic to the first message stored at or after a time (or to
//! the end). Each master passes the new offsets to the group's online consumers
//! (INVOKE_BROKER_TO_RESET_OFFSET); where none is online (CONSUMER_NOT_ONLINE), the offsets
//! are committed directly, as mqadmin's fallback does: per queue the offset for the time
//! (SEARCH_OFFSET_BY_TIMESTAMP, or the queue's end), kept where it would move the group forward
//! unless forced, then UPDATE_CONSUMER_OFFSET.

use futures::future::join_all;
use rmq_admin::{Admin, now_millis};
use rmq_protocol::body::MessageQueue;
use rmq_protocol::command::reset_offset::ResetOffsetRequestHeader;
use serde::Serialize;

use crate::cli::ResetOffsetArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};
use crate::time::format_millis;

/// What was reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetReset {
    pub group: String,
    pub topic: String,
    /// -1: the queues' ends.
    pub timestamp: i64,
    pub force: bool,
    pub queues: Vec<QueueReset>,
}

/// One queue's new offset and how it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueReset {
    pub broker_name: String,
    pub queue_id: i32,
    pub offset: i64,
    /// `consumers`: sent to the online consumers; `committed`: no consumer was online.
    pub applied: &'static str,
}

/// The offset a queue is reset to when no consumer is online: the target, unless it would
/// move the group forward and the reset is not forced.
pub fn offline_offset(target: i64, committed: i64, force: bool) -> i64 {
    let target = target.max(0);
    if force || target < committed {
        target
    } else {
        committed
    }
}

/// A header line, then one row per queue.
pub fn render_offset_reset(reset: &OffsetReset) -> String {
    let when = if reset.timestamp == -1 {
        "the end of each queue".to_owned()
    } else {
        format!("{} ({})", format_millis(reset.timestamp), reset.timestamp)
    };
    let mut table = Table::new(&[
        ("BrokerName", Align::Left),
        ("QID", Align::Right),
        ("Offset", Align::Right),
        ("Applied", Align::Left),
    ]);
    for q in &reset.queues {
        table.row(vec![
            q.broker_name.clone(),
            q.queue_id.to_string(),
            q.offset.to_string(),
            q.applied.to_owned(),
        ]);
    }
    format!(
        "reset consumer offset of group [{}] on topic [{}] to {when}, force [{}]\n{}",
        reset.group,
        reset.topic,
        reset.force,
        table.render()
    )
}

/// Resets on every master of the topic's route, one after the other.
pub async fn run(
    admin: &Admin,
    args: &ResetOffsetArgs,
    timestamp: i64,
) -> Result<OffsetReset, CmdError> {
    let route = admin.topic_route(&args.topic).await?;
    let mut queues = Vec::new();
    for group in &route.broker_datas {
        let Some(addr) = group.master_addr() else {
            continue;
        };
        let header = ResetOffsetRequestHeader {
            topic: args.topic.clone(),
            group: args.group.clone(),
            timestamp,
            is_force: args.force,
        };
        match admin.reset_offset(addr, &header).await? {
            Some(body) => queues.extend(
                body.offset_table
                    .into_iter()
                    .map(|(mq, offset)| row(mq, offset, "consumers")),
            ),
            None => queues
                .extend(offline(admin, addr, args, &group.broker_name, timestamp, &route).await?),
        }
    }
    if queues.is_empty() {
        return Err(CmdError::NoBroker {
            topic: args.topic.clone(),
        });
    }
    queues.sort_by(|a, b| (&a.broker_name, a.queue_id).cmp(&(&b.broker_name, b.queue_id)));
    Ok(OffsetReset {
        group: args.group.clone(),
        topic: args.topic.clone(),
        timestamp,
        force: args.force,
        queues,
    })
}

fn row(mq: MessageQueue, offset: i64, applied: &'static str) -> QueueReset {
    QueueReset {
        broker_name: mq.broker_name,
        queue_id: mq.queue_id,
        offset,
        applied,
    }
}

/// mqadmin's fallback on one master: search each queue's offset for the time, commit it.
async fn offline(
    admin: &Admin,
    addr: &str,
    args: &ResetOffsetArgs,
    broker_name: &str,
    timestamp: i64,
    route: &rmq_protocol::body::route::TopicRouteData,
) -> Result<Vec<QueueReset>, CmdError> {
    let queue_count = route
        .queue_datas
        .iter()
        .find(|q| q.broker_name == broker_name)
        .map_or(0, |q| q.write_queue_nums);
    let stats = admin
        .consume_stats(addr, &args.group, Some(&args.topic))
        .await?;
    let stats = &stats;
    let searches = (0..queue_count).map(|queue_id| async move {
        let target = if timestamp == -1 {
            stats
                .offset_table
                .iter()
                .find(|(mq, _)| mq.queue_id == queue_id)
                .map_or(0, |(_, o)| o.broker_offset)
        } else {
            admin
                .search_offset(addr, &args.topic, queue_id, timestamp)
                .await?
        };
        let committed = stats
            .offset_table
            .iter()
            .find(|(mq, _)| mq.queue_id == queue_id)
            .map_or(0, |(_, o)| o.consumer_offset);
        let offset = offline_offset(target, committed, args.force);
        admin
            .commit_offset(addr, &args.group, &args.topic, queue_id, offset)
            .await?;
        Ok::<_, CmdError>(QueueReset {
            broker_name: broker_name.to_owned(),
            queue_id,
            offset,
            applied: "committed",
        })
    });
    join_all(searches).await.into_iter().collect()
}

/// `-s` as mqadmin reads it.
pub fn timestamp_of(text: &str) -> Result<i64, CmdError> {
    crate::time::parse_reset_time(text, now_millis()).map_err(|reason| CmdError::BadTime { reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_a_reset_moves_back_always_and_forward_only_when_forced() {
        assert_eq!(offline_offset(3, 10, false), 3);
        assert_eq!(offline_offset(12, 10, false), 10);
        assert_eq!(offline_offset(12, 10, true), 12);
        assert_eq!(offline_offset(-1, 10, true), 0);
    }

    #[test]
    fn the_table_says_where_each_queue_went_and_how() {
        let reset = OffsetReset {
            group: "g".into(),
            topic: "T".into(),
            timestamp: -1,
            force: true,
            queues: vec![QueueReset {
                broker_name: "broker-a".into(),
                queue_id: 0,
                offset: 30,
                applied: "committed",
            }],
        };
        assert_eq!(
            render_offset_reset(&reset),
            "\
reset consumer offset of group [g] on topic [T] to the end of each queue, force [true]
#BrokerName  #QID  #Offset  #Applied
broker-a        0       30  committed
"
        );
    }
}
