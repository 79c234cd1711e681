//! `updateTopic`: UPDATE_AND_CREATE_TOPIC on every master of a cluster (`-c`) or on one broker
//! (`-b`). An ordered topic (`-o true`) also gets its `ORDER_TOPIC_CONFIG` entry
//! (`brokerName:writeQueueNums;...`) put on every name server, as mqadmin does.

use rmq_admin::Admin;
use rmq_protocol::body::topic_config::TopicFilterType;
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use serde::Serialize;

use super::{Master, masters_of_cluster, perm_string};
use crate::cli::UpdateTopicArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// The name server KV namespace of order configs.
pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// The topic a producer names to have topics auto-created; brokers want it in every create.
pub const AUTO_CREATE_TOPIC_KEY: &str = "TBW102";

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicUpdate {
    pub topic: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    pub order: bool,
    /// Brokers that created or updated the topic.
    pub brokers: Vec<String>,
    /// The order config recorded, for ordered topics.
    pub order_conf: Option<String>,
    /// Name servers the order config was put on.
    pub name_servers: Vec<String>,
}

/// The request header: the topic config of the flags, as mqadmin's `createTopic` fills it.
pub fn create_topic_header(args: &UpdateTopicArgs) -> CreateTopicRequestHeader {
    CreateTopicRequestHeader {
        topic: args.topic.clone(),
        default_topic: AUTO_CREATE_TOPIC_KEY.to_owned(),
        read_queue_nums: args.read_queue_nums,
        write_queue_nums: args.write_queue_nums,
        perm: args.perm,
        topic_filter_type: TopicFilterType::SingleTag,
        topic_sys_flag: Some(0),
        order: args.order,
        attributes: None,
        force: None,
    }
}

/// The order config of a cluster: `brokerName:writeQueueNums` of every master, `;`-joined.
pub fn cluster_order_conf(masters: &[Master], write_queue_nums: i32) -> String {
    masters
        .iter()
        .map(|master| format!("{}:{write_queue_nums}", master.broker_name))
        .collect::<Vec<_>>()
        .join(";")
}

/// Adds or replaces one broker's entry in an existing order config, keeping the others.
pub fn merge_order_conf(
    existing: Option<&str>,
    broker_name: &str,
    write_queue_nums: i32,
) -> String {
    let entry = format!("{broker_name}:{write_queue_nums}");
    let mut entries: Vec<String> = existing
        .unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect();
    match entries
        .iter_mut()
        .find(|item| item.split(':').next() == Some(broker_name))
    {
        Some(item) => *item = entry,
        None => entries.push(entry),
    }
    entries.join(";")
}

/// The table: one row per broker, then the order config if one was recorded.
pub fn render_topic_update(update: &TopicUpdate) -> String {
    let mut table = Table::new(&[
        ("Broker Addr", Align::Left),
        ("Topic", Align::Left),
        ("Read", Align::Right),
        ("Write", Align::Right),
        ("Perm", Align::Left),
        ("Order", Align::Left),
    ]);
    for broker in &update.brokers {
        table.row(vec![
            broker.clone(),
            update.topic.clone(),
            update.read_queue_nums.to_string(),
            update.write_queue_nums.to_string(),
            perm_string(update.perm),
            update.order.to_string(),
        ]);
    }
    let mut out = table.render();
    if let Some(conf) = &update.order_conf {
        out.push_str(&format!(
            "\norder config {conf} recorded on {}\n",
            update.name_servers.join(", ")
        ));
    }
    out
}

/// Creates on the target brokers one by one, stopping at the first refusal.
pub async fn run(admin: &Admin, args: &UpdateTopicArgs) -> Result<TopicUpdate, CmdError> {
    let header = create_topic_header(args);
    let masters = match (&args.cluster, &args.broker) {
        (Some(cluster), _) => masters_of_cluster(&admin.cluster_info().await?, cluster)?,
        (None, Some(addr)) => vec![Master {
            // Looked up below, and only for ordered topics: a plain create needs no name server.
            broker_name: String::new(),
            addr: addr.clone(),
        }],
        // clap requires one of the two.
        (None, None) => Vec::new(),
    };
    let mut brokers: Vec<String> = Vec::new();
    for master in &masters {
        if let Err(source) = admin.create_topic(&master.addr, &header).await {
            return Err(CmdError::Apply {
                action: "creating",
                topic: args.topic.clone(),
                addr: master.addr.clone(),
                done: brokers,
                source: Box::new(source),
            });
        }
        brokers.push(master.addr.clone());
    }
    let mut update = TopicUpdate {
        topic: args.topic.clone(),
        read_queue_nums: args.read_queue_nums,
        write_queue_nums: args.write_queue_nums,
        perm: args.perm,
        order: args.order,
        brokers,
        order_conf: None,
        name_servers: Vec::new(),
    };
    if !args.order {
        return Ok(update);
    }
    let name_servers = admin.namesrv_addrs()?.to_vec();
    let conf = match &args.broker {
        Some(addr) if args.cluster.is_none() => {
            let info = admin.cluster_info().await?;
            let broker_name = info
                .broker_addr_table
                .values()
                .find(|group| group.broker_addrs.values().any(|a| a == addr))
                .map(|group| group.broker_name.clone())
                .ok_or_else(|| CmdError::UnknownBroker { addr: addr.clone() })?;
            let existing = match name_servers.first() {
                Some(first) => {
                    admin
                        .get_kv_config(first, ORDER_TOPIC_CONFIG, &args.topic)
                        .await?
                }
                None => None,
            };
            merge_order_conf(existing.as_deref(), &broker_name, args.write_queue_nums)
        }
        _ => cluster_order_conf(&masters, args.write_queue_nums),
    };
    for addr in &name_servers {
        if let Err(source) = admin
            .put_kv_config(addr, ORDER_TOPIC_CONFIG, &args.topic, &conf)
            .await
        {
            return Err(CmdError::Apply {
                action: "recording the order config of",
                topic: args.topic.clone(),
                addr: addr.clone(),
                done: update.name_servers,
                source: Box::new(source),
            });
        }
        update.name_servers.push(addr.clone());
    }
    update.order_conf = Some(conf);
    Ok(update)
}

#[cfg(test)]
mod tests {
    use rmq_protocol::command::CommandHeader;

    use super::*;

    fn args() -> UpdateTopicArgs {
        UpdateTopicArgs {
            topic: "T".into(),
            cluster: Some("DefaultCluster".into()),
            broker: None,
            read_queue_nums: 8,
            write_queue_nums: 4,
            perm: 6,
            order: true,
        }
    }

    #[test]
    fn the_header_carries_the_flags_and_the_auto_create_topic() {
        let fields = create_topic_header(&args()).to_ext_fields();
        let pairs: Vec<(&str, &str)> = fields.iter().collect();
        assert_eq!(
            pairs,
            [
                ("defaultTopic", "TBW102"),
                ("order", "true"),
                ("perm", "6"),
                ("readQueueNums", "8"),
                ("topic", "T"),
                ("topicFilterType", "SINGLE_TAG"),
                ("topicSysFlag", "0"),
                ("writeQueueNums", "4"),
            ]
        );
    }

    #[test]
    fn a_cluster_order_config_lists_every_master_with_the_write_queue_count() {
        let masters = [
            Master {
                broker_name: "broker-a".into(),
                addr: "a:1".into(),
            },
            Master {
                broker_name: "broker-b".into(),
                addr: "b:1".into(),
            },
        ];
        assert_eq!(cluster_order_conf(&masters, 4), "broker-a:4;broker-b:4");
    }

    #[test]
    fn a_broker_order_config_replaces_its_own_entry_and_keeps_the_others() {
        assert_eq!(merge_order_conf(None, "broker-a", 8), "broker-a:8");
        assert_eq!(merge_order_conf(Some("  "), "broker-a", 8), "broker-a:8");
        assert_eq!(
            merge_order_conf(Some("broker-a:4;broker-b:4"), "broker-a", 8),
            "broker-a:8;broker-b:4"
        );
        assert_eq!(
            merge_order_conf(Some("broker-b:4"), "broker-a", 2),
            "broker-b:4;broker-a:2"
        );
    }

    #[test]
    fn the_table_has_a_row_per_broker_and_the_order_config_after_it() {
        let update = TopicUpdate {
            topic: "T".into(),
            read_queue_nums: 8,
            write_queue_nums: 4,
            perm: 6,
            order: true,
            brokers: vec!["10.0.0.1:10911".into(), "10.0.0.2:10911".into()],
            order_conf: Some("broker-a:4;broker-b:4".into()),
            name_servers: vec!["ns:9876".into()],
        };
        assert_eq!(
            render_topic_update(&update),
            "\
#Broker Addr    #Topic  #Read  #Write  #Perm  #Order
10.0.0.1:10911  T           8       4  RW-    true
10.0.0.2:10911  T           8       4  RW-    true

order config broker-a:4;broker-b:4 recorded on ns:9876
"
        );
    }

    #[test]
    fn json_names_the_brokers_and_a_null_order_config_for_plain_topics() {
        let update = TopicUpdate {
            topic: "T".into(),
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: 6,
            order: false,
            brokers: vec!["b:1".into()],
            order_conf: None,
            name_servers: vec![],
        };
        assert_eq!(
            &serde_json::to_string(&update).unwrap(),
            r#"{"topic":"T","readQueueNums":8,"writeQueueNums":8,"perm":6,"order":false,"brokers":["b:1"],"orderConf":null,"nameServers":[]}"#
        );
    }
}
