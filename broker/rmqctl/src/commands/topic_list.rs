//! `topicList`: GET_ALL_TOPIC_LIST_FROM_NAMESERVER, one topic per line, sorted.

use rmq_admin::Admin;
use serde::Serialize;

use crate::error::CmdError;

/// The topics, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Topics {
    pub topic_list: Vec<String>,
}

/// Sorts and removes duplicates (the name server answers from a hash set).
pub fn topics(mut names: Vec<String>) -> Topics {
    names.sort();
    names.dedup();
    Topics { topic_list: names }
}

/// One name per line, as mqadmin prints them.
pub fn render_topic_list(topics: &Topics) -> String {
    topics
        .topic_list
        .iter()
        .map(|topic| format!("{topic}\n"))
        .collect()
}

/// Asks the name server.
pub async fn run(admin: &Admin) -> Result<Topics, CmdError> {
    Ok(topics(admin.topic_list().await?.topic_list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_printed_sorted_one_per_line() {
        let list = topics(vec!["b".into(), "TBW102".into(), "a".into(), "b".into()]);
        assert_eq!(render_topic_list(&list), "TBW102\na\nb\n");
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"topicList":["TBW102","a","b"]}"#
        );
    }

    #[test]
    fn no_topics_print_nothing() {
        assert_eq!(render_topic_list(&topics(vec![])), "");
    }
}
