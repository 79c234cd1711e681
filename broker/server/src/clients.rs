//! Who is connected: producer and consumer groups learned from HEART_BEAT, dropped on
//! UNREGISTER_CLIENT, on connection close, or after `channelExpiredTimeout` without a heartbeat.
//!
//! Pure bookkeeping: generic over the channel type and given the time, so tests need no socket.
//! Every change of a consumer group's members or subscriptions is reported to the caller, which
//! sends NOTIFY_CONSUMER_IDS_CHANGED so the group's clients rebalance at once.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rmq_protocol::LanguageCode;
use rmq_protocol::command::heart_beat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, MessageModel, SubscriptionData,
};

/// How a client introduced itself: the id of its heartbeat body, the language and version of
/// the heartbeat's header (what connection lists show, and what decides whether the client
/// understands a broker-initiated request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub client_id: String,
    pub language: LanguageCode,
    pub version: i32,
}

/// One connected client of a group.
#[derive(Debug, Clone)]
pub struct Member<C> {
    pub channel: C,
    pub client_id: String,
    pub language: LanguageCode,
    pub version: i32,
    pub last_heartbeat: Instant,
}

impl<C> Member<C> {
    fn new(channel: C, who: &Identity, now: Instant) -> Member<C> {
        Member {
            channel,
            client_id: who.client_id.clone(),
            language: who.language,
            version: who.version,
            last_heartbeat: now,
        }
    }
}

/// A consumer group as its members describe it.
#[derive(Debug, Clone)]
pub struct ConsumerGroup<C> {
    /// Members by connection id.
    pub members: BTreeMap<u64, Member<C>>,
    /// Subscriptions by topic, from the latest heartbeat.
    pub subscriptions: BTreeMap<String, SubscriptionData>,
    pub consume_type: ConsumeType,
    pub message_model: MessageModel,
    pub consume_from_where: ConsumeFromWhere,
}

/// Producer and consumer groups.
#[derive(Debug)]
pub struct Clients<C> {
    consumers: HashMap<String, ConsumerGroup<C>>,
    producers: HashMap<String, BTreeMap<u64, Member<C>>>,
}

impl<C> Default for Clients<C> {
    fn default() -> Self {
        Clients {
            consumers: HashMap::new(),
            producers: HashMap::new(),
        }
    }
}

impl<C: Clone> Clients<C> {
    /// Records a consumer heartbeat; returns whether members or subscriptions changed.
    pub fn register_consumer(
        &mut self,
        conn_id: u64,
        channel: &C,
        who: &Identity,
        data: &ConsumerData,
        now: Instant,
    ) -> bool {
        let group = self
            .consumers
            .entry(data.group_name.clone())
            .or_insert_with(|| ConsumerGroup {
                members: BTreeMap::new(),
                subscriptions: BTreeMap::new(),
                consume_type: data.consume_type,
                message_model: data.message_model,
                consume_from_where: data.consume_from_where,
            });
        group.consume_type = data.consume_type;
        group.message_model = data.message_model;
        group.consume_from_where = data.consume_from_where;
        let new_member = match group.members.get_mut(&conn_id) {
            Some(member) => {
                member.last_heartbeat = now;
                member.language = who.language;
                member.version = who.version;
                member.client_id != who.client_id && {
                    member.client_id = who.client_id.clone();
                    true
                }
            }
            None => {
                group
                    .members
                    .insert(conn_id, Member::new(channel.clone(), who, now));
                true
            }
        };
        let subscriptions: BTreeMap<String, SubscriptionData> = data
            .subscription_data_set
            .iter()
            .map(|s| (s.topic.clone(), s.clone()))
            .collect();
        let changed_subscriptions = !same_subscriptions(&group.subscriptions, &subscriptions);
        if changed_subscriptions {
            group.subscriptions = subscriptions;
        }
        new_member || changed_subscriptions
    }

    /// Records a producer heartbeat.
    pub fn register_producer(
        &mut self,
        conn_id: u64,
        channel: &C,
        who: &Identity,
        group: &str,
        now: Instant,
    ) {
        self.producers
            .entry(group.to_owned())
            .or_default()
            .insert(conn_id, Member::new(channel.clone(), who, now));
    }

    /// Removes one member of a consumer group; returns whether it was there.
    pub fn unregister_consumer(&mut self, group: &str, conn_id: u64) -> bool {
        let Some(info) = self.consumers.get_mut(group) else {
            return false;
        };
        let removed = info.members.remove(&conn_id).is_some();
        if info.members.is_empty() {
            self.consumers.remove(group);
        }
        removed
    }

    /// Removes one member of a producer group.
    pub fn unregister_producer(&mut self, group: &str, conn_id: u64) {
        if let Some(members) = self.producers.get_mut(group) {
            members.remove(&conn_id);
            if members.is_empty() {
                self.producers.remove(group);
            }
        }
    }

    /// Forgets a closed connection; returns the consumer groups that lost a member.
    pub fn connection_closed(&mut self, conn_id: u64) -> Vec<String> {
        self.remove_where(|id, _| id == conn_id)
    }

    /// Forgets members silent for longer than `timeout`; returns the consumer groups that lost one.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<String> {
        self.remove_where(|_, member| {
            now.saturating_duration_since(member.last_heartbeat) > timeout
        })
    }

    /// Client ids of a consumer group, in connection order; `None` when the group has none.
    pub fn consumer_ids(&self, group: &str) -> Option<Vec<String>> {
        let info = self.consumers.get(group)?;
        let mut ids: Vec<String> = info.members.values().map(|m| m.client_id.clone()).collect();
        ids.sort();
        ids.dedup();
        Some(ids)
    }

    /// The channels of a consumer group's members.
    pub fn consumer_channels(&self, group: &str) -> Vec<C> {
        self.consumers
            .get(group)
            .map(|info| info.members.values().map(|m| m.channel.clone()).collect())
            .unwrap_or_default()
    }

    /// One connection of a producer group (the newest), for broker-initiated requests such
    /// as CHECK_TRANSACTION_STATE.
    pub fn producer_channel(&self, group: &str) -> Option<C> {
        self.producers
            .get(group)?
            .values()
            .max_by_key(|m| m.last_heartbeat)
            .map(|m| m.channel.clone())
    }

    /// The newest connection of the client with this id in any producer group: where a
    /// request-reply requester waits for its reply.
    pub fn producer_by_client_id(&self, client_id: &str) -> Option<C> {
        self.producers
            .values()
            .flat_map(BTreeMap::values)
            .filter(|m| m.client_id == client_id)
            .max_by_key(|m| m.last_heartbeat)
            .map(|m| m.channel.clone())
    }

    /// Every producer group and its members.
    pub fn producer_groups(&self) -> impl Iterator<Item = (&String, &BTreeMap<u64, Member<C>>)> {
        self.producers.iter()
    }

    /// The members of a producer group; `None` when the group has none.
    pub fn producer_group(&self, group: &str) -> Option<&BTreeMap<u64, Member<C>>> {
        self.producers.get(group)
    }

    /// The member of a consumer group with this client id (the newest, if it has several
    /// connections).
    pub fn consumer(&self, group: &str, client_id: &str) -> Option<&Member<C>> {
        self.consumers
            .get(group)?
            .members
            .values()
            .filter(|m| m.client_id == client_id)
            .max_by_key(|m| m.last_heartbeat)
    }

    /// A consumer group's state.
    pub fn consumer_group(&self, group: &str) -> Option<&ConsumerGroup<C>> {
        self.consumers.get(group)
    }

    /// Names of online consumer groups subscribed to `topic`.
    pub fn groups_subscribed_to(&self, topic: &str) -> Vec<String> {
        let mut groups: Vec<String> = self
            .consumers
            .iter()
            .filter(|(_, info)| info.subscriptions.contains_key(topic))
            .map(|(name, _)| name.clone())
            .collect();
        groups.sort();
        groups
    }

    /// Number of producer and consumer connections.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.producers.values().map(BTreeMap::len).sum(),
            self.consumers.values().map(|g| g.members.len()).sum(),
        )
    }

    fn remove_where(&mut self, mut dead: impl FnMut(u64, &Member<C>) -> bool) -> Vec<String> {
        let mut changed = Vec::new();
        self.consumers.retain(|name, info| {
            let before = info.members.len();
            info.members.retain(|id, member| !dead(*id, member));
            if info.members.len() != before {
                changed.push(name.clone());
            }
            !info.members.is_empty()
        });
        self.producers.retain(|_, members| {
            members.retain(|id, member| !dead(*id, member));
            !members.is_empty()
        });
        changed.sort();
        changed
    }
}

fn same_subscriptions(
    old: &BTreeMap<String, SubscriptionData>,
    new: &BTreeMap<String, SubscriptionData>,
) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|((t1, s1), (t2, s2))| {
            t1 == t2 && s1.sub_string == s2.sub_string && s1.expression_type == s2.expression_type
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer(group: &str, topics: &[&str]) -> ConsumerData {
        ConsumerData {
            consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
            consume_type: ConsumeType::ConsumePassively,
            group_name: group.into(),
            message_model: MessageModel::Clustering,
            subscription_data_set: topics
                .iter()
                .map(|t| SubscriptionData {
                    topic: (*t).into(),
                    sub_string: "*".into(),
                    ..subscription()
                })
                .collect(),
            unit_mode: false,
        }
    }

    fn who(client_id: &str) -> Identity {
        Identity {
            client_id: client_id.into(),
            language: LanguageCode::Java,
            version: 401,
        }
    }

    fn subscription() -> SubscriptionData {
        SubscriptionData {
            class_filter_mode: false,
            code_set: vec![],
            expression_type: "TAG".into(),
            filter_class_source: None,
            sub_string: "*".into(),
            sub_version: 0,
            tags_set: vec![],
            topic: String::new(),
        }
    }

    #[test]
    fn a_new_member_or_subscription_is_a_change_and_a_repeat_heartbeat_is_not() {
        let t0 = Instant::now();
        let mut clients = Clients::<()>::default();
        assert!(clients.register_consumer(1, &(), &who("c1"), &consumer("g", &["T"]), t0));
        assert!(!clients.register_consumer(1, &(), &who("c1"), &consumer("g", &["T"]), t0));
        assert!(clients.register_consumer(2, &(), &who("c2"), &consumer("g", &["T"]), t0));
        assert!(clients.register_consumer(2, &(), &who("c2"), &consumer("g", &["T", "U"]), t0));
        assert_eq!(clients.consumer_ids("g").unwrap(), ["c1", "c2"]);
        assert_eq!(clients.groups_subscribed_to("U"), ["g"]);
    }

    #[test]
    fn closing_a_connection_removes_its_member_and_reports_the_group() {
        let t0 = Instant::now();
        let mut clients = Clients::<()>::default();
        clients.register_consumer(1, &(), &who("c1"), &consumer("g", &["T"]), t0);
        clients.register_consumer(2, &(), &who("c2"), &consumer("g", &["T"]), t0);
        clients.register_producer(2, &(), &who("c2"), "pg", t0);
        assert_eq!(clients.connection_closed(2), ["g"]);
        assert_eq!(clients.consumer_ids("g").unwrap(), ["c1"]);
        assert_eq!(clients.counts(), (0, 1));
        assert!(clients.connection_closed(1).contains(&"g".to_owned()));
        assert!(clients.consumer_ids("g").is_none());
    }

    #[test]
    fn a_requester_is_found_by_its_client_id_in_whichever_producer_group_it_joined() {
        let t0 = Instant::now();
        let mut clients = Clients::<u8>::default();
        clients.register_producer(1, &1, &who("c1"), "pg1", t0);
        clients.register_producer(2, &2, &who("c2"), "pg2", t0);
        clients.register_producer(3, &3, &who("c2"), "pg2", t0 + Duration::from_secs(1));
        assert_eq!(clients.producer_by_client_id("c1"), Some(1));
        assert_eq!(clients.producer_by_client_id("c2"), Some(3));
        assert_eq!(clients.producer_by_client_id("c9"), None);
    }

    #[test]
    fn members_silent_past_the_timeout_expire() {
        let t0 = Instant::now();
        let mut clients = Clients::<()>::default();
        clients.register_consumer(1, &(), &who("c1"), &consumer("g", &["T"]), t0);
        clients.register_consumer(
            2,
            &(),
            &who("c2"),
            &consumer("g", &["T"]),
            t0 + Duration::from_secs(100),
        );
        let timeout = Duration::from_secs(120);
        assert!(
            clients
                .expire(t0 + Duration::from_secs(120), timeout)
                .is_empty()
        );
        assert_eq!(
            clients.expire(t0 + Duration::from_secs(121), timeout),
            ["g"]
        );
        assert_eq!(clients.consumer_ids("g").unwrap(), ["c2"]);
    }
}
