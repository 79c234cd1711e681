//! What `rmqctl up` prints once the cluster is up, as pure
//! functions of the plan.

use crate::local::plan::Plan;
use crate::table::{Align, Table};

/// The summary: name servers, one row per broker, state and log directories, how to try it
/// and how to stop it. `program` is how `rmqctl` was invoked, for the hints.
pub fn render(plan: &Plan, program: &str, detached: bool) -> String {
    let namesrv = plan.namesrv_addr();
    let mut table = Table::new(&[
        ("Group", Align::Left),
        ("ID", Align::Right),
        ("Role", Align::Left),
        ("Flush", Align::Left),
        ("Addr", Align::Left),
    ]);
    for node in &plan.brokers {
        if let Some(b) = &node.broker {
            table.row(vec![
                b.group.clone(),
                b.id.to_string(),
                b.role.to_owned(),
                b.flush.to_owned(),
                node.addr.clone(),
            ]);
        }
    }
    let dir = quote(&plan.dir.display().to_string());
    let stop = if detached {
        format!("{} down --dir {dir}", quote(program))
    } else {
        format!(
            "Ctrl-C (or SIGTERM to pid {}); brokers stop first",
            std::process::id()
        )
    };
    format!(
        "RocketCluster {cluster} is up: {ns} name server{ns_s}, {brokers} broker{b_s}\n\
         name servers  {namesrv}\n\
         {table}\
         state         {dir}\n\
         logs          {logs}\n\
         try           {program} clusterList -n {quoted}   (clients: NAMESRV_ADDR={quoted})\n\
         stop          {stop}\n",
        cluster = plan.cluster,
        ns = plan.namesrvs.len(),
        ns_s = plural(plan.namesrvs.len()),
        brokers = plan.brokers.len(),
        b_s = plural(plan.brokers.len()),
        table = table.render(),
        logs = quote(&plan.log_dir().display().to_string()),
        program = quote(program),
        quoted = quote(&namesrv),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `text` as one shell word: unchanged when it needs no quoting, else in single quotes.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '+' | '=')
        });
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::local::manifest::{parse, validate_local};
    use crate::local::plan::plan;

    fn plan_of(spec: &str) -> Plan {
        let text = format!(
            "apiVersion: rocketmq.rs/v1alpha1\nkind: RocketCluster\nmetadata: {{name: demo}}\nspec: {spec}\n"
        );
        let cluster = validate_local(parse(&text).unwrap().cluster).unwrap();
        plan(&cluster, Path::new("/state/demo"), 9876).unwrap()
    }

    #[test]
    fn the_detached_summary_lists_addresses_brokers_logs_and_the_commands_to_try_and_stop() {
        let summary = render(&plan_of("{}"), "target/release/rmqctl", true);
        assert_eq!(
            summary,
            "\
RocketCluster demo is up: 2 name servers, 1 broker
name servers  127.0.0.1:9876;127.0.0.1:9877
#Group         #ID  #Role         #Flush       #Addr
demo-broker-0    0  ASYNC_MASTER  ASYNC_FLUSH  127.0.0.1:10911
state         /state/demo
logs          /state/demo/logs
try           target/release/rmqctl clusterList -n '127.0.0.1:9876;127.0.0.1:9877'   (clients: NAMESRV_ADDR='127.0.0.1:9876;127.0.0.1:9877')
stop          target/release/rmqctl down --dir /state/demo
"
        );
    }

    #[test]
    fn the_foreground_summary_says_how_to_stop() {
        let summary = render(&plan_of("{}"), "rmqctl", false);
        assert!(summary.contains("\nstop          Ctrl-C (or SIGTERM to pid "));
    }

    #[test]
    fn words_with_shell_characters_are_single_quoted() {
        assert_eq!(quote("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(quote("a;b"), "'a;b'");
        assert_eq!(quote("it's here"), r"'it'\''s here'");
        assert_eq!(quote(""), "''");
    }
}
