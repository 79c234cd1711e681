//! What a new group lacks: the topics and subscription groups of a live master of a group that
//! was there before, less what no group copies (the broker's own topics, retry and
//! dead-letter topics, which brokers make when they need them) and what it already has.

use rmq_protocol::body::topic_config::{TopicConfig, TopicConfigSerializeWrapper};
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use serde_json::{Map, Value};

/// The auto-create template every created topic names, as `mqadmin updateTopic` sends it.
const DEFAULT_TOPIC: &str = "TBW102";

/// A source broker's tables, and the target's.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub topics: TopicConfigSerializeWrapper,
    /// GET_SYSTEM_TOPIC_LIST_FROM_BROKER of the broker.
    pub system_topics: Vec<String>,
    pub groups: Map<String, Value>,
}

/// What the target lacks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Missing {
    pub topics: Vec<TopicConfig>,
    /// `(name, SubscriptionGroupConfig as the source wrote it)`.
    pub groups: Vec<(String, Value)>,
}

impl Missing {
    /// Topics and groups, for the planner.
    pub fn count(&self) -> u32 {
        u32::try_from(self.topics.len() + self.groups.len()).unwrap_or(u32::MAX)
    }
}

/// The source's copyable topics and groups the target does not have.
pub fn missing(source: &Tables, target: &Tables) -> Missing {
    let topics = source
        .topics
        .topic_config_table
        .values()
        .filter(|t| copyable_topic(&t.topic_name, &source.system_topics))
        .filter(|t| !target.topics.topic_config_table.contains_key(&t.topic_name))
        .cloned()
        .collect();
    let groups = source
        .groups
        .iter()
        .filter(|(name, _)| !target.groups.contains_key(*name))
        .map(|(name, config)| (name.clone(), config.clone()))
        .collect();
    Missing { topics, groups }
}

fn copyable_topic(topic: &str, system: &[String]) -> bool {
    !topic.starts_with("%RETRY%") && is_drained_topic(topic, system)
}

/// Neither one of the broker's own topics nor a dead-letter topic: what a drain counts (and,
/// but for retry topics, what a new group is given).
pub fn is_drained_topic(topic: &str, system: &[String]) -> bool {
    !topic.starts_with("%DLQ%") && !system.iter().any(|s| s == topic)
}

/// UPDATE_AND_CREATE_TOPIC for `config` on another broker.
pub fn create_header(config: &TopicConfig) -> CreateTopicRequestHeader {
    let attributes = (!config.attributes.is_empty()).then(|| {
        config
            .attributes
            .iter()
            .map(|(k, v)| format!("+{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    });
    CreateTopicRequestHeader {
        topic: config.topic_name.clone(),
        default_topic: DEFAULT_TOPIC.to_owned(),
        read_queue_nums: config.read_queue_nums,
        write_queue_nums: config.write_queue_nums,
        perm: config.perm,
        topic_filter_type: config.topic_filter_type,
        topic_sys_flag: Some(config.topic_sys_flag),
        order: config.order,
        attributes,
        force: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(topics: &[&str], system: &[&str], groups: &[&str]) -> Tables {
        let mut t = Tables::default();
        for name in topics {
            t.topics.topic_config_table.insert(
                (*name).to_owned(),
                TopicConfig {
                    topic_name: (*name).to_owned(),
                    write_queue_nums: 8,
                    read_queue_nums: 8,
                    ..TopicConfig::default()
                },
            );
        }
        t.system_topics = system.iter().map(|s| (*s).to_owned()).collect();
        for g in groups {
            t.groups
                .insert((*g).to_owned(), serde_json::json!({"groupName": g}));
        }
        t
    }

    #[test]
    fn a_new_group_lacks_the_user_topics_and_groups_of_the_source_and_nothing_of_its_own() {
        let source = tables(
            &[
                "Orders",
                "TBW102",
                "broker-0",
                "%RETRY%cg",
                "%DLQ%cg",
                "Shared",
            ],
            &["TBW102", "broker-0"],
            &["cg", "TOOLS_CONSUMER"],
        );
        let target = tables(&["TBW102", "broker-1", "Shared"], &[], &["TOOLS_CONSUMER"]);
        let missing = missing(&source, &target);
        let names: Vec<&str> = missing
            .topics
            .iter()
            .map(|t| t.topic_name.as_str())
            .collect();
        assert_eq!(names, ["Orders"]);
        assert_eq!(missing.groups.len(), 1);
        assert_eq!(missing.groups[0].0, "cg");
        assert_eq!(missing.count(), 2);
    }

    #[test]
    fn a_copied_topic_keeps_its_queues_permission_order_and_attributes() {
        let mut config = tables(&["T"], &[], &[]).topics.topic_config_table["T"].clone();
        config.perm = 4;
        config.order = true;
        config
            .attributes
            .insert("message.type".into(), "FIFO".into());
        let header = create_header(&config);
        assert_eq!(
            (
                header.read_queue_nums,
                header.write_queue_nums,
                header.perm,
                header.order
            ),
            (8, 8, 4, true)
        );
        assert_eq!(header.attributes.as_deref(), Some("+message.type=FIFO"));
        assert_eq!(header.default_topic, "TBW102");
    }
}
