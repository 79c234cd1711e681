//! `queryMsgTraceById -i msgId [-t traceTopic]`: the trace of a message, as mqadmin's
//! `queryMsgTraceById` shows it.
//!
//! Clients with message trace on send trace records to the trace topic (`RMQ_SYS_TRACE_TOPIC`
//! by default), keyed by the traced message's id. A record's body is Apache's
//! `TraceDataEncoder` text: contexts separated by `0x02`, fields by `0x01`:
//!
//! ```text
//! Pub            ts region group topic msgId tags keys storeHost bodyLen costMs msgType [offsetMsgId] success [clientHost]
//! SubBefore      ts region group requestId msgId retryTimes keys
//! SubAfter       requestId msgId costMs success keys [contextCode [ts group]]
//! EndTransaction ts region group topic msgId tags keys storeHost msgType transactionId state fromCheck
//! ```

use rmq_admin::Admin;
use serde::Serialize;

use super::message::MessageView;
use crate::cli::{QueryMsgByKeyArgs, QueryMsgTraceByIdArgs};
use crate::error::CmdError;
use crate::table::{Align, Table};
use crate::time::format_millis;

const CONTENT_SPLITOR: char = '\u{1}';
const FIELD_SPLITOR: char = '\u{2}';

/// One step in a message's life, from one trace context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceEvent {
    /// `Pub`, `SubBefore`, `SubAfter` or `EndTransaction`.
    pub trace_type: String,
    pub msg_id: String,
    /// Producer or consumer group.
    pub group: Option<String>,
    pub timestamp: Option<i64>,
    pub topic: Option<String>,
    pub tags: Option<String>,
    pub keys: Option<String>,
    pub store_host: Option<String>,
    pub client_host: Option<String>,
    pub cost_ms: Option<i64>,
    pub success: Option<bool>,
    pub retry_times: Option<i64>,
    pub transaction_state: Option<String>,
}

/// The trace found for a message id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MsgTrace {
    pub msg_id: String,
    pub trace_topic: String,
    pub events: Vec<TraceEvent>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Decodes one trace record body; contexts it cannot read are skipped.
pub fn decode_trace_data(text: &str) -> Vec<TraceEvent> {
    text.split(FIELD_SPLITOR)
        .filter(|context| !context.is_empty())
        .filter_map(decode_context)
        .collect()
}

fn decode_context(context: &str) -> Option<TraceEvent> {
    let f: Vec<&str> = context.split(CONTENT_SPLITOR).collect();
    let text = |i: usize| f.get(i).map(|s| (*s).to_owned()).filter(|s| !s.is_empty());
    let int = |i: usize| f.get(i).and_then(|s| s.parse::<i64>().ok());
    let boolean = |i: usize| f.get(i).map(|s| s.eq_ignore_ascii_case("true"));
    let empty = TraceEvent {
        trace_type: f.first()?.to_string(),
        msg_id: String::new(),
        group: None,
        timestamp: None,
        topic: None,
        tags: None,
        keys: None,
        store_host: None,
        client_host: None,
        cost_ms: None,
        success: None,
        retry_times: None,
        transaction_state: None,
    };
    // Pub and EndTransaction records share their first nine fields.
    let producer_side = || {
        Some(TraceEvent {
            timestamp: int(1),
            group: text(3),
            topic: text(4),
            msg_id: text(5)?,
            tags: text(6),
            keys: text(7),
            store_host: text(8),
            ..empty.clone()
        })
    };
    let event = match *f.first()? {
        "Pub" if f.len() >= 13 => {
            let (offset_fields, client_host) = match f.len() {
                13 => (0, None),
                14 => (1, None),
                _ => (1, text(14)),
            };
            TraceEvent {
                cost_ms: int(10),
                success: boolean(12 + offset_fields),
                client_host,
                ..producer_side()?
            }
        }
        "SubBefore" if f.len() >= 8 => TraceEvent {
            timestamp: int(1),
            group: text(3),
            msg_id: text(5)?,
            retry_times: int(6),
            keys: text(7),
            ..empty
        },
        "SubAfter" if f.len() >= 6 => TraceEvent {
            msg_id: text(2)?,
            cost_ms: int(3),
            success: boolean(4),
            keys: text(5),
            timestamp: int(7),
            group: text(8),
            ..empty
        },
        "EndTransaction" if f.len() >= 13 => TraceEvent {
            transaction_state: text(11),
            ..producer_side()?
        },
        _ => return None,
    };
    Some(event)
}

/// The events about `msg_id` in trace records, in time order (events without a time last).
pub fn trace_of(msg_id: &str, records: &[MessageView]) -> Vec<TraceEvent> {
    let mut events: Vec<TraceEvent> = records
        .iter()
        .filter_map(|r| r.body.as_deref())
        .flat_map(decode_trace_data)
        .filter(|e| e.msg_id == msg_id)
        .collect();
    events.sort_by_key(|e| (e.timestamp.is_none(), e.timestamp));
    events.dedup();
    events
}

/// The table, with mqadmin's columns.
pub fn render_trace(trace: &MsgTrace) -> String {
    let mut table = Table::new(&[
        ("Type", Align::Left),
        ("Group", Align::Left),
        ("Client Host", Align::Left),
        ("Time", Align::Left),
        ("Cost ms", Align::Right),
        ("Status", Align::Left),
    ]);
    for e in &trace.events {
        let status = match (&e.transaction_state, e.success) {
            (Some(state), _) => state.clone(),
            (None, Some(true)) => "success".into(),
            (None, Some(false)) => "failed".into(),
            (None, None) => "-".into(),
        };
        table.row(vec![
            e.trace_type.clone(),
            e.group.clone().unwrap_or_else(|| "-".into()),
            e.client_host.clone().unwrap_or_else(|| "-".into()),
            e.timestamp.map_or_else(|| "-".into(), format_millis),
            e.cost_ms.map_or_else(|| "-".into(), |c| c.to_string()),
            status,
        ]);
    }
    table.render()
}

/// Finds the trace records by the message id (their key), then keeps this message's events.
pub async fn run(admin: &Admin, args: &QueryMsgTraceByIdArgs) -> Result<MsgTrace, CmdError> {
    let query = QueryMsgByKeyArgs {
        topic: args.trace_topic.clone(),
        key: args.msg_id.clone(),
        begin_timestamp: 0,
        end_timestamp: None,
        max_num: 64,
    };
    let (records, warnings) = super::query_msg_by_key::find_messages(admin, &query).await?;
    let events = trace_of(&args.msg_id, &records);
    if events.is_empty() {
        return Err(CmdError::NoMessage {
            topic: args.trace_topic.clone(),
            key: args.msg_id.clone(),
        });
    }
    Ok(MsgTrace {
        msg_id: args.msg_id.clone(),
        trace_topic: args.trace_topic.clone(),
        events,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(fields: &[&str]) -> String {
        let mut s = fields.join("\u{1}");
        s.push('\u{2}');
        s
    }

    #[test]
    fn apache_trace_contexts_of_every_type_and_version_are_read() {
        let body = [
            join(&[
                "Pub",
                "1700000000000",
                "DefaultRegion",
                "pg",
                "T",
                "M1",
                "tagA",
                "k1",
                "127.0.0.1:10911",
                "5",
                "3",
                "0",
                "OFF1",
                "true",
                "10.0.0.1",
            ]),
            join(&[
                "SubBefore",
                "1700000000100",
                "DefaultRegion",
                "cg",
                "req",
                "M1",
                "0",
                "k1",
            ]),
            join(&[
                "SubAfter",
                "req",
                "M1",
                "7",
                "false",
                "k1",
                "0",
                "1700000000200",
                "cg",
            ]),
            join(&[
                "EndTransaction",
                "1700000000050",
                "DefaultRegion",
                "pg",
                "T",
                "M1",
                "tagA",
                "k1",
                "127.0.0.1:10911",
                "2",
                "TX1",
                "COMMIT_MESSAGE",
                "false",
            ]),
            join(&["Pub", "bad"]),
        ]
        .concat();
        let events = decode_trace_data(&body);
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].client_host.as_deref(), Some("10.0.0.1"));
        assert_eq!(events[0].success, Some(true));
        assert_eq!(events[0].cost_ms, Some(3));
        assert_eq!(events[1].retry_times, Some(0));
        assert_eq!(events[2].success, Some(false));
        assert_eq!(events[2].group.as_deref(), Some("cg"));
        assert_eq!(
            events[3].transaction_state.as_deref(),
            Some("COMMIT_MESSAGE")
        );
        assert_eq!(
            (events[3].topic.as_deref(), events[3].tags.as_deref()),
            (Some("T"), Some("tagA"))
        );
        assert_eq!(events[3].store_host.as_deref(), Some("127.0.0.1:10911"));
        // A 13-field Pub (oldest clients) has no offset id.
        let old = join(&[
            "Pub", "1", "r", "pg", "T", "M2", "", "", "h", "1", "1", "0", "false",
        ]);
        assert_eq!(decode_trace_data(&old)[0].success, Some(false));
    }

    #[test]
    fn only_the_asked_message_is_kept_in_time_order() {
        let body = [
            join(&["SubBefore", "20", "r", "cg", "q", "M1", "0", "k"]),
            join(&["SubBefore", "10", "r", "cg", "q", "M1", "1", "k"]),
            join(&["SubBefore", "15", "r", "cg", "q", "OTHER", "0", "k"]),
        ]
        .concat();
        let raw = crate::commands::message::tests::record(body.as_bytes(), 0, &[("KEYS", "M1")]);
        let records = crate::commands::message::decode_messages(&raw).unwrap();
        let events = trace_of("M1", &records);
        let times: Vec<Option<i64>> = events.iter().map(|e| e.timestamp).collect();
        assert_eq!(times, [Some(10), Some(20)]);
        let rendered = render_trace(&MsgTrace {
            msg_id: "M1".into(),
            trace_topic: "RMQ_SYS_TRACE_TOPIC".into(),
            events,
            warnings: Vec::new(),
        });
        assert!(rendered.contains("SubBefore"), "{rendered}");
    }
}
