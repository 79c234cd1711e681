//! `statsAll [-a] [-t topic]`: per topic and consuming group, the backlog, the in and out TPS
//! of the last minute and the messages of the last 24 hours, as `mqadmin statsAll` prints them
//! from VIEW_BROKER_STATS_DATA (`TOPIC_PUT_NUMS` by topic, `GROUP_GET_NUMS` by `topic@group`)
//! and GET_CONSUME_STATS, summed over the masters of each topic's route.

use futures::future::join_all;
use rmq_admin::Admin;
use rmq_protocol::command::view_broker_stats::BrokerStatsData;
use serde::Serialize;

use super::consumer_progress::RETRY_GROUP_TOPIC_PREFIX;
use crate::cli::StatsAllArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// Prefix of dead-letter topics, which statsAll skips as mqadmin does.
const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";

/// One line: a topic with one of its groups, or alone when nobody consumes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsRow {
    pub topic: String,
    /// `None`: no group consumes the topic.
    pub group: Option<String>,
    /// Messages stored but not consumed by the group.
    pub accumulation: i64,
    pub in_tps: f64,
    pub out_tps: f64,
    pub in_msg_24_hour: i64,
    pub out_msg_24_hour: i64,
}

/// Messages of the last 24 hours in a statistic, as mqadmin's `compute24HourSum` reads it: the
/// day window, else the hour window when the day is still empty, else the minute window.
pub fn day_sum(stats: &BrokerStatsData) -> i64 {
    if stats.stats_day.sum != 0 {
        stats.stats_day.sum
    } else if stats.stats_hour.sum != 0 {
        stats.stats_hour.sum
    } else {
        stats.stats_minute.sum
    }
}

/// The minute TPS and the 24-hour count of `answers` (one per master), summed.
pub fn sum_stats<'a>(answers: impl IntoIterator<Item = &'a Option<BrokerStatsData>>) -> (f64, i64) {
    answers
        .into_iter()
        .flatten()
        .fold((0.0, 0), |(tps, count), s| {
            (tps + s.stats_minute.tps, count + day_sum(s))
        })
}

/// Whether statsAll lists `topic`: not a retry or dead-letter topic, and the one asked for
/// when `-t` names one.
pub fn listed(topic: &str, only: Option<&str>) -> bool {
    !topic.starts_with(RETRY_GROUP_TOPIC_PREFIX)
        && !topic.starts_with(DLQ_GROUP_TOPIC_PREFIX)
        && only.is_none_or(|t| t == topic)
}

/// Whether a row is printed: everything, or with `-a` only what moved in the last 24 hours.
pub fn shown(row: &StatsRow, active_only: bool) -> bool {
    !active_only || row.in_msg_24_hour > 0 || row.out_msg_24_hour > 0
}

/// Every listed topic with its groups, in topic order.
pub async fn run(admin: &Admin, args: &StatsAllArgs) -> Result<Vec<StatsRow>, CmdError> {
    let mut topics: Vec<String> = admin
        .topic_list()
        .await?
        .topic_list
        .into_iter()
        .filter(|t| listed(t, args.topic.as_deref()))
        .collect();
    topics.sort();
    let mut rows = Vec::new();
    for topic in topics {
        rows.extend(
            topic_rows(admin, &topic)
                .await?
                .into_iter()
                .filter(|r| shown(r, args.active_only)),
        );
    }
    Ok(rows)
}

async fn topic_rows(admin: &Admin, topic: &str) -> Result<Vec<StatsRow>, CmdError> {
    let route = admin.topic_route(topic).await?;
    let masters: Vec<String> = route
        .broker_datas
        .iter()
        .filter_map(|g| g.master_addr().map(str::to_owned))
        .collect();
    let put = join_all(
        masters
            .iter()
            .map(|addr| admin.broker_stats(addr, "TOPIC_PUT_NUMS", topic)),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let (in_tps, in_msg_24_hour) = sum_stats(&put);
    let mut groups: Vec<String> = Vec::new();
    for list in join_all(
        masters
            .iter()
            .map(|addr| admin.consumers_of_topic(addr, topic)),
    )
    .await
    {
        groups.extend(list?.group_list);
    }
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        return Ok(vec![StatsRow {
            topic: topic.to_owned(),
            group: None,
            accumulation: 0,
            in_tps,
            out_tps: 0.0,
            in_msg_24_hour,
            out_msg_24_hour: 0,
        }]);
    }
    let mut rows = Vec::new();
    for group in groups {
        let key = format!("{topic}@{group}");
        let got = join_all(
            masters
                .iter()
                .map(|addr| admin.broker_stats(addr, "GROUP_GET_NUMS", &key)),
        )
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let (out_tps, out_msg_24_hour) = sum_stats(&got);
        let mut accumulation = 0;
        for stats in join_all(
            masters
                .iter()
                .map(|addr| admin.consume_stats(addr, &group, Some(topic))),
        )
        .await
        .into_iter()
        .flatten()
        {
            accumulation += stats
                .offset_table
                .iter()
                .map(|(_, o)| o.broker_offset - o.consumer_offset.max(0))
                .sum::<i64>();
        }
        rows.push(StatsRow {
            topic: topic.to_owned(),
            group: Some(group),
            accumulation,
            in_tps,
            out_tps,
            in_msg_24_hour,
            out_msg_24_hour,
        });
    }
    Ok(rows)
}

/// mqadmin's columns; a topic nobody consumes shows an empty group.
pub fn render(rows: &[StatsRow]) -> String {
    let mut table = Table::new(&[
        ("Topic", Align::Left),
        ("Consumer Group", Align::Left),
        ("Accumulation", Align::Right),
        ("InTPS", Align::Right),
        ("OutTPS", Align::Right),
        ("InMsg24Hour", Align::Right),
        ("OutMsg24Hour", Align::Right),
    ]);
    for row in rows {
        table.row(vec![
            row.topic.clone(),
            row.group.clone().unwrap_or_default(),
            row.accumulation.to_string(),
            format!("{:.2}", row.in_tps),
            format!("{:.2}", row.out_tps),
            row.in_msg_24_hour.to_string(),
            row.out_msg_24_hour.to_string(),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use rmq_protocol::command::view_broker_stats::BrokerStatsItem;

    use super::*;

    fn stats(minute: i64, hour: i64, day: i64, tps: f64) -> BrokerStatsData {
        let item = |sum| BrokerStatsItem {
            sum,
            tps,
            avgpt: 0.0,
        };
        BrokerStatsData {
            stats_minute: item(minute),
            stats_hour: item(hour),
            stats_day: item(day),
        }
    }

    #[test]
    fn the_24_hour_count_falls_back_from_day_to_hour_to_minute_and_sums_over_masters() {
        assert_eq!(day_sum(&stats(1, 2, 3, 0.0)), 3);
        assert_eq!(day_sum(&stats(1, 2, 0, 0.0)), 2);
        assert_eq!(day_sum(&stats(1, 0, 0, 0.0)), 1);
        let (tps, count) = sum_stats(&[Some(stats(5, 0, 0, 1.5)), None, Some(stats(0, 7, 9, 2.0))]);
        assert!((tps - 3.5).abs() < 1e-9);
        assert_eq!(count, 14);
    }

    #[test]
    fn retry_and_dead_letter_topics_are_not_listed_and_active_only_hides_idle_rows() {
        assert!(listed("Orders", None));
        assert!(!listed("%RETRY%g", None));
        assert!(!listed("%DLQ%g", None));
        assert!(!listed("Orders", Some("Payments")));
        let idle = StatsRow {
            topic: "T".into(),
            group: None,
            accumulation: 0,
            in_tps: 0.0,
            out_tps: 0.0,
            in_msg_24_hour: 0,
            out_msg_24_hour: 0,
        };
        assert!(shown(&idle, false));
        assert!(!shown(&idle, true));
        let busy = StatsRow {
            out_msg_24_hour: 1,
            ..idle.clone()
        };
        assert!(shown(&busy, true));
        assert_eq!(
            render(&[busy]),
            "\
#Topic  #Consumer Group  #Accumulation  #InTPS  #OutTPS  #InMsg24Hour  #OutMsg24Hour
T                                    0    0.00     0.00             0              1
"
        );
    }
}
