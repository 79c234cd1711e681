//! VIEW_BROKER_STATS_DATA (315): one statistic of a broker over the last minute, hour and day
//! (`mqadmin statsAll`): `TOPIC_PUT_NUMS`/`TOPIC_PUT_SIZE` by topic, `GROUP_GET_NUMS`/
//! `GROUP_GET_SIZE` by `topic@group`, `BROKER_PUT_NUMS`/`BROKER_GET_NUMS` by cluster name.

use serde::{Deserialize, Serialize};

use super::command_header;

command_header! {
    /// The statistic and its key.
    pub struct ViewBrokerStatsDataRequestHeader {
        stats_name: String => "statsName",
        stats_key: String => "statsKey",
    }
}

/// One window's figures.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerStatsItem {
    pub avgpt: f64,
    pub sum: i64,
    pub tps: f64,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerStatsData {
    pub stats_day: BrokerStatsItem,
    pub stats_hour: BrokerStatsItem,
    pub stats_minute: BrokerStatsItem,
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_requires_name_and_key_and_the_answer_has_javas_names() {
        assert_round_trip_and_required(
            &ViewBrokerStatsDataRequestHeader {
                stats_name: "TOPIC_PUT_NUMS".into(),
                stats_key: "T".into(),
            },
            &["statsName", "statsKey"],
        );
        let body = BrokerStatsData {
            stats_minute: BrokerStatsItem {
                sum: 60,
                tps: 1.0,
                avgpt: 1.0,
            },
            ..BrokerStatsData::default()
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"statsDay":{"avgpt":0.0,"sum":0,"tps":0.0},"statsHour":{"avgpt":0.0,"sum":0,"tps":0.0},"statsMinute":{"avgpt":1.0,"sum":60,"tps":1.0}}"#
        );
    }
}
