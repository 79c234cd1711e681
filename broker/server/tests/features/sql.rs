//! SQL92 property filters: ali-ons subscribes with a SQL92 expression (registered by heartbeat,
//! sent with each pull), the C++ client produces messages with user properties.

use rmq_protocol::command::pull_message::{PullMessageRequestHeader, sys_flag};

use super::*;

/// Ten messages: `a` = 0..9, `b` = x or y alternating, `c` only on even ones.
fn produce_with_properties(cluster: &Cluster, topic: &str) {
    let props: Vec<Value> = (0..10)
        .map(|i| {
            let mut p =
                serde_json::json!({"a": i.to_string(), "b": if i % 2 == 0 { "x" } else { "y" }});
            if i % 2 == 0 {
                p["c"] = Value::from("red");
            }
            p
        })
        .collect();
    let props = serde_json::to_string(&props).unwrap();
    produce(
        cluster,
        topic,
        10,
        &["--props", &props, "--key-prefix", "m-"],
    );
}

fn ons_keys(cluster: &Cluster, topic: &str, group: &str, sql: &str, expect: usize) -> Vec<String> {
    let expect = expect.to_string();
    let consumed = cluster.client(
        "ons_consume.js",
        &[
            "--topic", topic, "--group", group, "--sql", sql, "--expect", &expect, "--idle-s", "3",
        ],
    );
    let mut keys: Vec<String> = consumed["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["keys"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn ali_ons_sql92_subscriptions_select_messages_by_their_properties() {
    let cluster = Cluster::start("enablePropertyFilter=true");
    produce_with_properties(&cluster, "Props");
    assert_eq!(
        ons_keys(&cluster, "Props", "cg-sql1", "a > 5 AND b = 'x'", 2),
        ["m-6", "m-8"]
    );
    assert_eq!(
        ons_keys(
            &cluster,
            "Props",
            "cg-sql2",
            "a BETWEEN 2 AND 4 OR b IN ('q', 'z')",
            3
        ),
        ["m-2", "m-3", "m-4"]
    );
    assert_eq!(
        ons_keys(&cluster, "Props", "cg-sql3", "c IS NULL AND NOT (a < 7)", 2),
        ["m-7", "m-9"]
    );
    assert_eq!(
        ons_keys(
            &cluster,
            "Props",
            "cg-sql4",
            "c IS NOT NULL AND a <> 0 AND TRUE",
            4
        ),
        ["m-2", "m-4", "m-6", "m-8"]
    );
}

fn sql_pull(cluster: &Cluster, topic: &str, expression: &str) -> RemotingCommand {
    let header = PullMessageRequestHeader {
        consumer_group: "cg-raw".into(),
        topic: topic.into(),
        queue_id: 0,
        queue_offset: 0,
        max_msg_nums: 32,
        sys_flag: sys_flag::SUBSCRIPTION,
        commit_offset: 0,
        suspend_timeout_millis: 0,
        subscription: Some(expression.into()),
        sub_version: 0,
        expression_type: Some("SQL92".into()),
        max_msg_bytes: None,
        request_source: None,
        proxy_froward_client_id: None,
    };
    request(
        cluster,
        RemotingCommand::request_with_header(RequestCode::PullMessage, &header),
    )
}

#[test]
fn bad_or_unsupported_sql92_expressions_get_apaches_answers() {
    let cluster = Cluster::start("enablePropertyFilter=true");
    produce(&cluster, "Raw", 1, &[]);
    let bad = sql_pull(&cluster, "Raw", "a > AND");
    assert_eq!(
        bad.code,
        ResponseCode::SubscriptionParseFailed as i32,
        "{bad:?}"
    );
    let good = sql_pull(&cluster, "Raw", "a IS NULL");
    assert_ne!(
        good.code,
        ResponseCode::SubscriptionParseFailed as i32,
        "{good:?}"
    );
    let check = |expression: &str| {
        let body = serde_json::json!({"clientId": "c", "group": "cg-raw",
            "subscriptionData": {"topic": "Raw", "subString": expression, "expressionType": "SQL92"}});
        request(
            &cluster,
            RemotingCommand::request(RequestCode::CheckClientConfig)
                .with_body(serde_json::to_vec(&body).unwrap()),
        )
        .code
    };
    assert_eq!(check("a = 1"), ResponseCode::Success as i32);
    assert_eq!(check("a = "), ResponseCode::SubscriptionParseFailed as i32);
    drop(cluster);

    let without = Cluster::start("");
    produce(&without, "Raw", 1, &[]);
    let refused = sql_pull(&without, "Raw", "a IS NULL");
    assert_eq!(
        refused.code,
        ResponseCode::SystemError as i32,
        "{refused:?}"
    );
    assert!(refused.remark.as_deref().unwrap_or("").contains("SQL92"));
}
