//! `queryMsgByKey -t topic -k key`: the topic's route, then QUERY_MESSAGE to every broker group
//! at once. The index is a hash, so like mqadmin only records of the topic whose KEYS hold the
//! key are kept. A broker that fails is a warning while another answered.

use futures::future::join_all;
use rmq_admin::{Admin, RpcError, now_millis};
use rmq_protocol::code::RequestCode;
use rmq_protocol::command::query_message::QueryMessageRequestHeader;
use serde::Serialize;

use super::message::{MessageView, decode_messages};
use super::select_broker_addr;
use crate::cli::QueryMsgByKeyArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};
use crate::time::format_millis;

/// The messages found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyQuery {
    pub topic: String,
    pub key: String,
    pub hits: Vec<KeyHit>,
    /// Brokers that could not be asked; printed on stderr.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// One message found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyHit {
    pub offset_msg_id: String,
    pub msg_id: Option<String>,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub tags: Option<String>,
    pub keys: Option<String>,
    pub store_timestamp: i64,
}

/// Keeps the messages of `topic` holding `key`, once each, by store time.
pub fn key_hits(topic: &str, key: &str, messages: Vec<MessageView>) -> Vec<KeyHit> {
    let mut hits: Vec<KeyHit> = messages
        .into_iter()
        .filter(|message| message.topic == topic && message.has_key(key))
        .map(|message| KeyHit {
            offset_msg_id: message.offset_msg_id,
            msg_id: message.msg_id,
            queue_id: message.queue_id,
            queue_offset: message.queue_offset,
            tags: message.tags,
            keys: message.keys,
            store_timestamp: message.store_timestamp,
        })
        .collect();
    hits.sort_by(|a, b| {
        (a.store_timestamp, &a.offset_msg_id).cmp(&(b.store_timestamp, &b.offset_msg_id))
    });
    hits.dedup_by(|a, b| a.offset_msg_id == b.offset_msg_id);
    hits
}

/// The table.
pub fn render_key_query(query: &KeyQuery) -> String {
    let mut table = Table::new(&[
        ("Offset Msg ID", Align::Left),
        ("Msg ID", Align::Left),
        ("QID", Align::Right),
        ("Queue Offset", Align::Right),
        ("Tags", Align::Left),
        ("Keys", Align::Left),
        ("Store Time", Align::Left),
    ]);
    for hit in &query.hits {
        table.row(vec![
            hit.offset_msg_id.clone(),
            hit.msg_id.clone().unwrap_or_else(|| "-".into()),
            hit.queue_id.to_string(),
            hit.queue_offset.to_string(),
            hit.tags.clone().unwrap_or_default(),
            hit.keys.clone().unwrap_or_default(),
            format_millis(hit.store_timestamp),
        ]);
    }
    table.render()
}

/// Route, then every broker at once.
pub async fn run(admin: &Admin, args: &QueryMsgByKeyArgs) -> Result<KeyQuery, CmdError> {
    let (messages, warnings) = find_messages(admin, args).await?;
    let hits = key_hits(&args.topic, &args.key, messages);
    if hits.is_empty() {
        return Err(CmdError::NoMessage {
            topic: args.topic.clone(),
            key: args.key.clone(),
        });
    }
    Ok(KeyQuery {
        topic: args.topic.clone(),
        key: args.key.clone(),
        hits,
        warnings,
    })
}

/// Every message the brokers of the topic return for the key (index hits, not yet checked
/// against the key), and a warning per broker that failed while another answered.
pub async fn find_messages(
    admin: &Admin,
    args: &QueryMsgByKeyArgs,
) -> Result<(Vec<MessageView>, Vec<String>), CmdError> {
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
    let header = QueryMessageRequestHeader {
        topic: args.topic.clone(),
        key: args.key.clone(),
        max_num: args.max_num,
        begin_timestamp: args.begin_timestamp,
        end_timestamp: args.end_timestamp.unwrap_or_else(now_millis),
    };
    let answers = join_all(addrs.iter().map(|addr| async {
        let body = admin.query_message(addr, &header).await?;
        let Some(body) = body else {
            return Ok(Vec::new());
        };
        decode_messages(&body).map_err(|source| RpcError::Decode {
            request: RequestCode::QueryMessage.code(),
            addr: (*addr).to_owned(),
            what: "record",
            source: source.into(),
        })
    }))
    .await;
    let mut messages = Vec::new();
    let mut failures = Vec::new();
    for answer in answers {
        match answer {
            Ok(found) => messages.extend(found),
            Err(error) => failures.push(error),
        }
    }
    if failures.len() == addrs.len() {
        if let Some(first) = failures.into_iter().next() {
            return Err(first.into());
        }
        return Err(CmdError::NoBroker {
            topic: args.topic.clone(),
        });
    }
    let warnings = failures.iter().map(error_chain).collect();
    Ok((messages, warnings))
}

/// An error with its causes, `: `-separated.
fn error_chain(error: &RpcError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::record;

    fn message(topic_keys: Option<&str>, tags: &str) -> MessageView {
        let mut props = vec![("TAGS", tags)];
        if let Some(keys) = topic_keys {
            props.push(("KEYS", keys));
        }
        decode_messages(&record(b"x", 0, &props)).unwrap().remove(0)
    }

    #[test]
    fn only_messages_of_the_topic_holding_the_key_are_hits() {
        let mut other_topic = message(Some("k1"), "A");
        other_topic.topic = "Other".into();
        let mut later = message(Some("k1 k2"), "B");
        later.store_timestamp += 1;
        later.offset_msg_id = "0A00000100002A9F0000000000000800".into();
        let messages = vec![
            later.clone(),
            message(Some("k10"), "C"),
            message(None, "D"),
            other_topic,
            message(Some("k1"), "A"),
            message(Some("k1"), "A"),
        ];
        let hits = key_hits("TopicTest", "k1", messages);
        let tags: Vec<_> = hits.iter().map(|h| h.tags.as_deref()).collect();
        assert_eq!(tags, [Some("A"), Some("B")]);
    }

    #[test]
    fn the_table_has_one_row_per_hit() {
        let query = KeyQuery {
            topic: "TopicTest".into(),
            key: "k1".into(),
            hits: key_hits("TopicTest", "k1", vec![message(Some("k1"), "TagA")]),
            warnings: vec![],
        };
        assert_eq!(
            render_key_query(&query),
            "\
#Offset Msg ID                    #Msg ID  #QID  #Queue Offset  #Tags  #Keys  #Store Time
0A00000100002A9F0000000000000400  -           1              5  TagA   k1     2023-11-14T22:13:20.123Z
"
        );
        assert_eq!(
            serde_json::to_string(&query).unwrap(),
            r#"{"topic":"TopicTest","key":"k1","hits":[{"offsetMsgId":"0A00000100002A9F0000000000000400","msgId":null,"queueId":1,"queueOffset":5,"tags":"TagA","keys":"k1","storeTimestamp":1700000000123}]}"#
        );
    }
}
