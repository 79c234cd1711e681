//! What a request needs under ACL, from its code, ext fields and body, as Apache 4.9.7's
//! `PlainAccessValidator.parse` reads them:
//!
//! | code | needs |
//! |---|---|
//! | SEND_MESSAGE 10 (`topic`, `group`), SEND_MESSAGE_V2 310 (`b`, `a`) | PUB on the topic; to a `%RETRY%` topic, SUB on the sending group |
//! | CONSUMER_SEND_MSG_BACK 36 | SUB on the group (`group`) |
//! | PULL_MESSAGE 11 | SUB on `topic` and on the group (`consumerGroup`) |
//! | QUERY_MESSAGE 12 | SUB on `topic` |
//! | HEART_BEAT 34 | SUB on every consumer group of the body and every topic they subscribe to |
//! | UNREGISTER_CLIENT 35, GET_CONSUMER_LIST_BY_GROUP 38 | SUB on `consumerGroup` |
//! | UPDATE_CONSUMER_OFFSET 15 | SUB on `consumerGroup` and `topic` |
//! | UPDATE_AND_CREATE_TOPIC 17, UPDATE_BROKER_CONFIG 25, DELETE_TOPIC_IN_BROKER 215, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP 200, DELETE_SUBSCRIPTIONGROUP 207 | an admin account |
//! | ACL admin 50, 51, 53, 54 (beyond Apache, see [`ADMIN_CODES`]) | an admin account |
//!
//! Beyond Apache, which checks no resource for them (a gap, not a rule): SEND_BATCH_MESSAGE 320
//! and the replies 324/325 need what SEND_MESSAGE_V2 needs, LITE_PULL_MESSAGE 361 what
//! PULL_MESSAGE needs. Every other code needs a valid signature only. A group is checked as its
//! `%RETRY%` topic, as Apache keeps group permissions.

use std::borrow::Cow;

use super::config::Perm;
use super::decide::{Needs, RETRY_PREFIX};

/// Codes only an admin account may send: Apache's `Permission.ADMIN_CODE`, and, beyond it, the
/// ACL admin codes that change accounts or show their secrets (UPDATE_AND_CREATE_ACL_CONFIG 50,
/// DELETE_ACL_CONFIG 51, UPDATE_GLOBAL_WHITE_ADDRS_CONFIG 53, GET_BROKER_CLUSTER_ACL_CONFIG 54):
/// Apache lets any signed account make itself admin or read every secret with them.
pub const ADMIN_CODES: [i32; 9] = [17, 25, 215, 200, 207, 50, 51, 53, 54];

/// A request whose resources cannot be read (Apache answers the parse failure as a refusal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("request {code}: {what}")]
pub struct NeedsError {
    pub code: i32,
    pub what: String,
}

fn retry(group: &str) -> Cow<'static, str> {
    Cow::Owned(format!("{RETRY_PREFIX}{group}"))
}

/// What request `code` with `field` (its ext fields) and `body` needs.
pub fn needs<'a>(
    code: i32,
    field: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Result<Needs<'a>, NeedsError> {
    let mut needs = Needs {
        request_code: code,
        admin: ADMIN_CODES.contains(&code),
        ..Needs::default()
    };
    let required = |name: &str| {
        field(name).ok_or_else(|| NeedsError {
            code,
            what: format!("the ext field {name} is missing"),
        })
    };
    let send = |topic: &str, group: &str| -> Result<(Cow<'a, str>, Perm), NeedsError> {
        let topic = required(topic)?;
        Ok(if topic.starts_with(RETRY_PREFIX) {
            (retry(required(group)?), Perm::SUB)
        } else {
            (Cow::Borrowed(topic), Perm::PUB)
        })
    };
    match code {
        10 => {
            let (resource, perm) = send("topic", "producerGroup")?;
            needs.add(resource, perm);
        }
        310 | 320 | 324 | 325 => {
            let (resource, perm) = send("b", "a")?;
            needs.add(resource, perm);
        }
        36 => needs.add(retry(required("group")?), Perm::SUB),
        11 | 361 => {
            needs.add(Cow::Borrowed(required("topic")?), Perm::SUB);
            needs.add(retry(required("consumerGroup")?), Perm::SUB);
        }
        12 => needs.add(Cow::Borrowed(required("topic")?), Perm::SUB),
        34 => {
            let heartbeat = rmq_protocol::command::heart_beat::HeartbeatData::decode(body)
                .map_err(|e| NeedsError {
                    code,
                    what: format!("the heartbeat body is not readable: {e}"),
                })?;
            for consumer in heartbeat.consumer_data_set {
                needs.add(retry(&consumer.group_name), Perm::SUB);
                for subscription in consumer.subscription_data_set {
                    needs.add(Cow::Owned(subscription.topic), Perm::SUB);
                }
            }
        }
        35 | 38 => needs.add(retry(required("consumerGroup")?), Perm::SUB),
        15 => {
            needs.add(retry(required("consumerGroup")?), Perm::SUB);
            needs.add(Cow::Borrowed(required("topic")?), Perm::SUB);
        }
        _ => {}
    }
    Ok(needs)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn of<'a>(
        code: i32,
        fields: &[(&'a str, &'a str)],
        body: &[u8],
    ) -> Result<Needs<'a>, NeedsError> {
        let map: BTreeMap<&str, &str> = fields.iter().copied().collect();
        needs(code, |name| map.get(name).copied(), body)
    }

    /// The resources in name order.
    fn resources<'n>(needs: &'n Needs<'_>) -> Vec<(&'n str, Perm)> {
        let mut resources: Vec<(&str, Perm)> = needs
            .resources
            .iter()
            .map(|(r, p)| (r.as_ref(), *p))
            .collect();
        resources.sort_by_key(|(r, _)| *r);
        resources
    }

    #[test]
    fn sends_need_pub_on_their_topic_and_sends_to_a_retry_topic_sub_on_the_group() {
        let v2 = of(310, &[("a", "pg"), ("b", "Orders")], b"").unwrap();
        assert_eq!(resources(&v2), [("Orders", Perm::PUB)]);
        let batch = of(320, &[("a", "pg"), ("b", "Orders")], b"").unwrap();
        assert_eq!(resources(&batch), [("Orders", Perm::PUB)]);
        let v1 = of(10, &[("producerGroup", "cg"), ("topic", "%RETRY%cg")], b"").unwrap();
        assert_eq!(resources(&v1), [("%RETRY%cg", Perm::SUB)]);
        assert!(!v2.admin);
    }

    #[test]
    fn pulls_offsets_and_heartbeats_need_sub_on_topics_and_groups() {
        let pull = of(11, &[("topic", "T"), ("consumerGroup", "g")], b"").unwrap();
        assert_eq!(
            resources(&pull),
            [("%RETRY%g", Perm::SUB), ("T", Perm::SUB)]
        );
        let commit = of(15, &[("topic", "T"), ("consumerGroup", "g")], b"").unwrap();
        assert_eq!(resources(&pull), resources(&commit));
        let heartbeat = br#"{"clientID":"c","consumerDataSet":[{"groupName":"g","subscriptionDataSet":[{"topic":"T1"},{"topic":"T2"}]}],"producerDataSet":[{"groupName":"pg"}]}"#;
        let beat = of(34, &[], heartbeat).unwrap();
        assert_eq!(
            resources(&beat),
            [
                ("%RETRY%g", Perm::SUB),
                ("T1", Perm::SUB),
                ("T2", Perm::SUB)
            ]
        );
        assert!(of(34, &[], b"{not json").is_err());
    }

    #[test]
    fn admin_codes_need_an_admin_and_other_codes_only_a_signature() {
        for code in ADMIN_CODES {
            assert!(of(code, &[], b"").unwrap().admin, "{code}");
        }
        let route = of(105, &[("topic", "T")], b"").unwrap();
        assert!(!route.admin);
        assert!(route.resources.is_empty());
        let missing = of(11, &[("topic", "T")], b"").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "request 11: the ext field consumerGroup is missing"
        );
    }
}
