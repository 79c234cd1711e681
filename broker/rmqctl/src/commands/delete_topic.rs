//! `deleteTopic`: DELETE_TOPIC_IN_BROKER on every master of the cluster, then
//! DELETE_TOPIC_IN_NAMESRV (limited to that cluster) on every name server.
//!
//! Brokers go first and a refusal stops everything: a name server route removed while a broker
//! still holds the topic would come back with the broker's next registration.

use rmq_admin::Admin;
use serde::Serialize;

use super::masters_of_cluster;
use crate::cli::DeleteTopicArgs;
use crate::error::CmdError;
use crate::table::{Align, Table};

/// What was deleted where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicDeletion {
    pub topic: String,
    pub cluster: String,
    pub brokers: Vec<String>,
    pub name_servers: Vec<String>,
}

/// The table: one row per server, brokers first.
pub fn render_topic_deletion(deletion: &TopicDeletion) -> String {
    let mut table = Table::new(&[
        ("Deleted From", Align::Left),
        ("Addr", Align::Left),
        ("Topic", Align::Left),
        ("Cluster", Align::Left),
    ]);
    let rows = deletion.brokers.iter().map(|addr| ("broker", addr)).chain(
        deletion
            .name_servers
            .iter()
            .map(|addr| ("name server", addr)),
    );
    for (kind, addr) in rows {
        table.row(vec![
            kind.to_owned(),
            addr.clone(),
            deletion.topic.clone(),
            deletion.cluster.clone(),
        ]);
    }
    table.render()
}

/// Deletes on the masters, then on the name servers, one by one.
pub async fn run(admin: &Admin, args: &DeleteTopicArgs) -> Result<TopicDeletion, CmdError> {
    let masters = masters_of_cluster(&admin.cluster_info().await?, &args.cluster)?;
    let mut deletion = TopicDeletion {
        topic: args.topic.clone(),
        cluster: args.cluster.clone(),
        brokers: Vec::new(),
        name_servers: Vec::new(),
    };
    for master in &masters {
        if let Err(source) = admin
            .delete_topic_in_broker(&master.addr, &args.topic)
            .await
        {
            return Err(CmdError::Apply {
                action: "deleting",
                topic: args.topic.clone(),
                addr: master.addr.clone(),
                done: deletion.brokers,
                source: Box::new(source),
            });
        }
        deletion.brokers.push(master.addr.clone());
    }
    for addr in admin.namesrv_addrs()? {
        if let Err(source) = admin
            .delete_topic_in_namesrv(addr, &args.topic, &args.cluster)
            .await
        {
            let mut done = deletion.brokers;
            done.extend(deletion.name_servers);
            return Err(CmdError::Apply {
                action: "deleting",
                topic: args.topic.clone(),
                addr: addr.clone(),
                done,
                source: Box::new(source),
            });
        }
        deletion.name_servers.push(addr.clone());
    }
    Ok(deletion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deletion() -> TopicDeletion {
        TopicDeletion {
            topic: "T".into(),
            cluster: "DefaultCluster".into(),
            brokers: vec!["10.0.0.1:10911".into(), "10.0.0.2:10911".into()],
            name_servers: vec!["ns:9876".into()],
        }
    }

    #[test]
    fn the_table_lists_brokers_then_name_servers() {
        assert_eq!(
            render_topic_deletion(&deletion()),
            "\
#Deleted From  #Addr           #Topic  #Cluster
broker         10.0.0.1:10911  T       DefaultCluster
broker         10.0.0.2:10911  T       DefaultCluster
name server    ns:9876         T       DefaultCluster
"
        );
    }

    #[test]
    fn json_lists_brokers_and_name_servers_apart() {
        assert_eq!(
            serde_json::to_string(&deletion()).unwrap(),
            r#"{"topic":"T","cluster":"DefaultCluster","brokers":["10.0.0.1:10911","10.0.0.2:10911"],"nameServers":["ns:9876"]}"#
        );
    }
}
