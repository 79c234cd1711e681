//! `consumerStatus -g group [-i clientId]`: every online consumer of a group is asked, through
//! its broker, for its running info (GET_CONSUMER_RUNNING_INFO): the queues it holds with their
//! committed offsets, its subscriptions, its pull and consume rates. Like mqadmin it then says
//! whether the members subscribe alike and whether any queue is held by two of them.
//!
//! Client libraries write running info in their own dialects (Java's fastjson keys queues by
//! objects; the C++ client writes numbers as strings, and an invalid document when it holds no
//! queue), so it is read leniently: what cannot be read is reported for that client, and the
//! others are still shown.

use std::collections::BTreeMap;

use futures::future::join_all;
use rmq_admin::Admin;
use serde::Serialize;
use serde_json::Value;

use super::consumer_connection::{ConnectionRow, ask_route_brokers, rows};
use super::consumer_progress::RETRY_GROUP_TOPIC_PREFIX;
use crate::cli::ConsumerStatusArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// The group and what each member answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerStatus {
    pub group: String,
    pub clients: Vec<ClientStatus>,
    /// Every member that answered subscribes to the same topics with the same expressions.
    pub same_subscription: bool,
    /// Queues more than one member holds (`topic@broker:queue`): a rebalance not settled.
    pub shared_queues: Vec<String>,
}

/// One member: its connection and its running info, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientStatus {
    #[serde(flatten)]
    pub connection: ConnectionRow,
    pub running: Option<RunningInfo>,
    pub error: Option<String>,
}

/// What a consumer said about itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunningInfo {
    pub properties: BTreeMap<String, String>,
    /// `(topic, expression)`, sorted.
    pub subscriptions: Vec<(String, String)>,
    pub queues: Vec<QueueRow>,
    pub status: Vec<StatusRow>,
}

/// One queue the consumer holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRow {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i64,
    pub commit_offset: i64,
    pub cached_msg_count: i64,
    pub locked: bool,
}

/// Pull and consume figures of one topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRow {
    pub topic: String,
    pub pull_rt: f64,
    pub pull_tps: f64,
    pub consume_rt: f64,
    pub consume_ok_tps: f64,
    pub consume_failed_tps: f64,
    pub consume_failed_msgs: i64,
}

/// A number written as a number or as a string (the C++ client's way).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s == "true",
        _ => false,
    }
}

/// Reads one running info document.
pub fn parse_running_info(body: &[u8]) -> Result<RunningInfo, String> {
    let pairs = rmq_protocol::body::fastjson::object_keys_to_pairs(body);
    let quoted = rmq_protocol::body::fastjson::quote_integer_keys(&pairs);
    let root: Value = serde_json::from_slice(&quoted).map_err(|e| {
        let shown = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        format!("running info is not readable JSON ({e}): {shown}")
    })?;
    let mut info = RunningInfo::default();
    if let Some(props) = root.get("properties").and_then(Value::as_object) {
        info.properties = props.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    }
    for sub in root
        .get("subscriptionSet")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        info.subscriptions.push((
            text(sub.get("topic").unwrap_or(&Value::Null)),
            text(sub.get("subString").unwrap_or(&Value::Null)),
        ));
    }
    info.subscriptions.sort();
    // After `object_keys_to_pairs`, a map keyed by queues is `[[queue, info], ...]`.
    for pair in root
        .get("mqTable")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(queue), Some(state)) = (pair.get(0), pair.get(1)) else {
            continue;
        };
        let field = |v: &Value, k: &str| v.get(k).and_then(number).unwrap_or(0.0) as i64;
        info.queues.push(QueueRow {
            topic: text(queue.get("topic").unwrap_or(&Value::Null)),
            broker_name: text(queue.get("brokerName").unwrap_or(&Value::Null)),
            queue_id: field(queue, "queueId"),
            commit_offset: field(state, "commitOffset"),
            cached_msg_count: field(state, "cachedMsgCount"),
            locked: state.get("locked").is_some_and(truthy),
        });
    }
    info.queues.sort_by(|a, b| {
        (&a.topic, &a.broker_name, a.queue_id).cmp(&(&b.topic, &b.broker_name, b.queue_id))
    });
    if let Some(table) = root.get("statusTable").and_then(Value::as_object) {
        for (topic, s) in table {
            let f = |k: &str| s.get(k).and_then(number).unwrap_or(0.0);
            info.status.push(StatusRow {
                topic: topic.clone(),
                pull_rt: f("pullRT"),
                pull_tps: f("pullTPS"),
                consume_rt: f("consumeRT"),
                consume_ok_tps: f("consumeOKTPS"),
                consume_failed_tps: f("consumeFailedTPS"),
                consume_failed_msgs: f("consumeFailedMsgs") as i64,
            });
        }
    }
    Ok(info)
}

/// Whether every member that answered subscribes alike, and the queues held by more than one.
pub fn check(clients: &[ClientStatus]) -> (bool, Vec<String>) {
    let answered: Vec<&RunningInfo> = clients.iter().filter_map(|c| c.running.as_ref()).collect();
    let same = answered
        .windows(2)
        .all(|w| w[0].subscriptions == w[1].subscriptions);
    let mut holders: BTreeMap<String, usize> = BTreeMap::new();
    for info in &answered {
        for q in &info.queues {
            *holders
                .entry(format!("{}@{}:{}", q.topic, q.broker_name, q.queue_id))
                .or_default() += 1;
        }
    }
    let shared = holders
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(queue, _)| queue)
        .collect();
    (same, shared)
}

/// Finds the group's members on the brokers of its retry topic and asks each (or the one
/// `-i` names) for its running info through the broker that listed it.
pub async fn run(admin: &Admin, args: &ConsumerStatusArgs) -> Result<ConsumerStatus, CmdError> {
    let retry_topic = format!("{RETRY_GROUP_TOPIC_PREFIX}{}", args.group);
    let group = args.group.as_str();
    let online = ask_route_brokers(admin, &retry_topic, |addr| async move {
        Ok(admin
            .consumer_connections(&addr, group)
            .await?
            .map(|c| (addr, c)))
    })
    .await?;
    let mut members: BTreeMap<String, (String, ConnectionRow)> = BTreeMap::new();
    for (addr, connections) in &online {
        for row in rows(connections.connection_set.iter()) {
            members
                .entry(row.client_id.clone())
                .or_insert_with(|| (addr.clone(), row));
        }
    }
    if let Some(only) = &args.client_id {
        members.retain(|id, _| id == only);
    }
    if members.is_empty() {
        return Err(CmdError::GroupNotOnline {
            group: args.group.clone(),
        });
    }
    let clients = join_all(members.into_values().map(|(addr, connection)| async move {
        let answer = admin
            .consumer_running_info(&addr, group, &connection.client_id)
            .await;
        let (running, error) = match answer {
            Ok(body) => match parse_running_info(&body) {
                Ok(info) => (Some(info), None),
                Err(e) => (None, Some(e)),
            },
            Err(e) => (None, Some(e.to_string())),
        };
        ClientStatus {
            connection,
            running,
            error,
        }
    }))
    .await;
    let (same_subscription, shared_queues) = check(&clients);
    Ok(ConsumerStatus {
        group: args.group.clone(),
        clients,
        same_subscription,
        shared_queues,
    })
}

/// One line per member, then the checks; a single member also gets its details.
pub fn render(status: &ConsumerStatus) -> String {
    let mut table = Table::new(&[
        ("ClientId", Align::Left),
        ("Language", Align::Left),
        ("Version", Align::Left),
        ("Queues", Align::Right),
        ("ConsumeOKTPS", Align::Right),
        ("Answer", Align::Left),
    ]);
    for c in &status.clients {
        let (queues, tps) = c
            .running
            .as_ref()
            .map_or((String::new(), String::new()), |r| {
                let tps: f64 = r.status.iter().map(|s| s.consume_ok_tps).sum();
                (r.queues.len().to_string(), format!("{tps:.2}"))
            });
        table.row(vec![
            c.connection.client_id.clone(),
            c.connection.language.clone(),
            c.connection.version.clone(),
            queues,
            tps,
            c.error.clone().unwrap_or_else(|| "ok".to_owned()),
        ]);
    }
    let mut out = table.render();
    out.push('\n');
    out.push_str(if status.same_subscription {
        "Same subscription in the same group of consumer\n"
    } else {
        "WARN: members of the group subscribe differently\n"
    });
    if status.shared_queues.is_empty() {
        out.push_str("Rebalance OK: no queue is held by two members\n");
    } else {
        out.push_str(&format!(
            "WARN: queues held by more than one member: {}\n",
            status.shared_queues.join(", ")
        ));
    }
    if let [only] = status.clients.as_slice()
        && let Some(info) = &only.running
    {
        out.push('\n');
        out.push_str(&render_details(info));
    }
    out
}

/// One member's running info, in mqadmin's sections.
pub fn render_details(info: &RunningInfo) -> String {
    let mut props = Table::new(&[("Property", Align::Left), ("Value", Align::Left)]);
    for (k, v) in &info.properties {
        props.row(vec![k.clone(), v.clone()]);
    }
    let mut subs = Table::new(&[("Topic", Align::Left), ("SubExpression", Align::Left)]);
    for (topic, expression) in &info.subscriptions {
        subs.row(vec![topic.clone(), expression.clone()]);
    }
    let mut queues = Table::new(&[
        ("Topic", Align::Left),
        ("Broker", Align::Left),
        ("QID", Align::Right),
        ("CommitOffset", Align::Right),
        ("Cached", Align::Right),
        ("Locked", Align::Left),
    ]);
    for q in &info.queues {
        queues.row(vec![
            q.topic.clone(),
            q.broker_name.clone(),
            q.queue_id.to_string(),
            q.commit_offset.to_string(),
            q.cached_msg_count.to_string(),
            q.locked.to_string(),
        ]);
    }
    let mut rates = Table::new(&[
        ("Topic", Align::Left),
        ("PullRT", Align::Right),
        ("PullTPS", Align::Right),
        ("ConsumeRT", Align::Right),
        ("ConsumeOKTPS", Align::Right),
        ("ConsumeFailedTPS", Align::Right),
        ("ConsumeFailedMsgsInHour", Align::Right),
    ]);
    for s in &info.status {
        rates.row(vec![
            s.topic.clone(),
            format!("{:.2}", s.pull_rt),
            format!("{:.2}", s.pull_tps),
            format!("{:.2}", s.consume_rt),
            format!("{:.2}", s.consume_ok_tps),
            format!("{:.2}", s.consume_failed_tps),
            s.consume_failed_msgs.to_string(),
        ]);
    }
    format!(
        "#Consumer Properties#\n{}\n#Consumer Subscription#\n{}\n#Consumer Offset#\n{}\n#Consumer RT&TPS#\n{}",
        props.render(),
        subs.render(),
        queues.render(),
        rates.render()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAVA: &str = r#"{"jstack":"","mqTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"cachedMsgCount":2,"commitOffset":30,"droped":false,"locked":false},{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"cachedMsgCount":0,"commitOffset":12,"locked":true}},"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY","PROP_CONSUMER_START_TIMESTAMP":"1700000000000"},"statusTable":{"T":{"consumeFailedMsgs":3,"consumeFailedTPS":0.0,"consumeOKTPS":1.5,"consumeRT":0.25,"pullRT":1.0,"pullTPS":2.0}},"subscriptionSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1,"tagsSet":[],"topic":"T"}]}"#;

    /// The C++ 1.x client: styled objects as keys, numbers as strings.
    const CPP: &str = "{\"mqTable\":{{\n   \"brokerName\" : \"broker-a\",\n   \"queueId\" : 3,\n   \"topic\" : \"T\"\n}:{\n   \"cachedMsgCount\" : \"0\",\n   \"commitOffset\" : \"30\",\n   \"locked\" : \"false\"\n}},\"jstack\":\"\",\"properties\":{\"PROP_CLIENT_VERSION\":\"1.2.4\"},\"subscriptionSet\":[{\"subString\":\"*\",\"topic\":\"T\"}]}";

    #[test]
    fn a_java_clients_fastjson_running_info_is_read_queue_by_queue() {
        let info = parse_running_info(JAVA.as_bytes()).unwrap();
        assert_eq!(info.queues.len(), 2);
        assert_eq!(info.queues[0].queue_id, 0);
        assert_eq!(info.queues[0].commit_offset, 12);
        assert!(info.queues[0].locked);
        assert_eq!(info.queues[1].cached_msg_count, 2);
        assert_eq!(info.subscriptions, [("T".to_owned(), "*".to_owned())]);
        assert_eq!(info.status[0].consume_failed_msgs, 3);
        assert!((info.status[0].consume_ok_tps - 1.5).abs() < 1e-9);
        assert_eq!(info.properties["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
    }

    #[test]
    fn a_cpp_clients_running_info_with_numbers_as_strings_is_read_too() {
        let info = parse_running_info(CPP.as_bytes()).unwrap();
        assert_eq!(info.queues.len(), 1);
        assert_eq!(info.queues[0].queue_id, 3);
        assert_eq!(info.queues[0].commit_offset, 30);
        assert!(!info.queues[0].locked);
        assert_eq!(info.properties["PROP_CLIENT_VERSION"], "1.2.4");
    }

    #[test]
    fn an_unreadable_document_is_an_error_showing_its_start() {
        // What the C++ client writes when it holds no queue.
        let error = parse_running_info(br#"{"mqTable":},"jstack":""}"#).unwrap_err();
        assert!(error.contains("\"mqTable\":}"), "{error}");
    }

    fn client(id: &str, body: &str) -> ClientStatus {
        ClientStatus {
            connection: ConnectionRow {
                client_id: id.into(),
                client_addr: "127.0.0.1:1".into(),
                language: "JAVA".into(),
                version: "V4_9_4".into(),
            },
            running: Some(parse_running_info(body.as_bytes()).unwrap()),
            error: None,
        }
    }

    #[test]
    fn different_subscriptions_and_a_queue_held_twice_are_reported() {
        let one = client("a", JAVA);
        let (same, shared) = check(&[one.clone(), client("b", CPP)]);
        assert!(same);
        assert!(shared.is_empty());
        let (_, shared) = check(&[one.clone(), one.clone()]);
        assert_eq!(shared, ["T@broker-a:0", "T@broker-a:1"]);
        let other = client(
            "c",
            &JAVA.replace(r#""subString":"*""#, r#""subString":"a""#),
        );
        let status = ConsumerStatus {
            group: "g".into(),
            same_subscription: check(&[one.clone(), other.clone()]).0,
            shared_queues: vec![],
            clients: vec![one, other],
        };
        assert!(!status.same_subscription);
        let text = render(&status);
        assert!(
            text.contains("WARN: members of the group subscribe differently"),
            "{text}"
        );
        assert!(text.contains("Rebalance OK"), "{text}");
    }
}
