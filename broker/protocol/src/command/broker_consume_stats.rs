//! GET_BROKER_CONSUME_STATS (317): every subscription group's progress on every topic it
//! committed on, and the broker's total lag (`mqadmin brokerConsumeStats`).

use super::command_header;
use super::get_consume_stats::ConsumeStats;
use crate::body::EncodeBodyError;

command_header! {
    /// The query; `is_order` keeps only order topics.
    pub struct GetConsumeStatsInBrokerHeader {
        is_order: bool => "isOrder",
    }
}

/// The answer: `{"brokerAddr":..,"consumeStatsList":[{"group":[ConsumeStats,..]},..],"totalDiff":N}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumeStatsList {
    pub broker_addr: String,
    /// One entry per group, each with the stats of its topics.
    pub consume_stats_list: Vec<(String, Vec<ConsumeStats>)>,
    pub total_diff: i64,
}

impl ConsumeStatsList {
    /// fastjson's form (each `ConsumeStats` keyed by queue objects).
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        let wrap = |source| EncodeBodyError {
            body: "ConsumeStatsList",
            source,
        };
        let mut out = br#"{"brokerAddr":"#.to_vec();
        serde_json::to_writer(&mut out, &self.broker_addr).map_err(wrap)?;
        out.extend_from_slice(br#","consumeStatsList":["#);
        for (i, (group, stats)) in self.consume_stats_list.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            serde_json::to_writer(&mut out, group).map_err(wrap)?;
            out.extend_from_slice(b":[");
            for (j, one) in stats.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&one.to_fastjson()?);
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(br#"],"totalDiff":"#);
        serde_json::to_writer(&mut out, &self.total_diff).map_err(wrap)?;
        out.push(b'}');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn the_query_requires_is_order_and_the_answer_nests_groups_and_their_stats() {
        assert_round_trip_and_required(
            &GetConsumeStatsInBrokerHeader { is_order: false },
            &["isOrder"],
        );
        let list = ConsumeStatsList {
            broker_addr: "127.0.0.1:10911".into(),
            consume_stats_list: vec![("g".into(), vec![ConsumeStats::default()])],
            total_diff: 3,
        };
        assert_eq!(
            String::from_utf8(list.to_fastjson().unwrap()).unwrap(),
            r#"{"brokerAddr":"127.0.0.1:10911","consumeStatsList":[{"g":[{"consumeTps":0.0,"offsetTable":{}}]}],"totalDiff":3}"#
        );
    }
}
