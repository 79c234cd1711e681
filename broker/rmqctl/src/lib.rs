//! `rmqctl`: an admin CLI for RocketMQ-compatible name servers and brokers, speaking Apache
//! RocketMQ's remoting protocol, with mqadmin's subcommand names and flags.
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | clap definitions: global `-n`/`--json`/`--timeout-ms`, one args struct per subcommand |
//! | [`commands`] | one module per subcommand: model, pure builder, pure `render_*`, async `run` |
//! | [`table`] | aligned text tables |
//! | [`time`] | epoch milliseconds as UTC text |
//! | [`error`] | [`error::CmdError`] (one subcommand), over [`rmq_admin::RpcError`] (one request) |
//! | [`local`] | `up` / `down`: a local cluster from a `RocketCluster` manifest |
//!
//! The network shell is the [`rmq_admin`] crate: [`rmq_admin::Admin`], one thin async function
//! per request, a crate of its own so that the operator can make the same requests.
//!
//! Every subcommand follows one shape: `run` asks the servers and builds a serializable model;
//! the model is printed either by its `render_*` function (a table) or as one JSON document
//! (`--json`). Only `run` touches the network, so everything printed is tested without sockets.
//!
//! ```text
//! rmqctl clusterList      -n ns:9876                      GET_BROKER_CLUSTER_INFO, GET_BROKER_RUNTIME_INFO
//! rmqctl updateTopic      -t T (-c C | -b addr) [-r -w -p -o]   UPDATE_AND_CREATE_TOPIC [, PUT_KV_CONFIG]
//! rmqctl deleteTopic      -t T -c C                        DELETE_TOPIC_IN_BROKER, DELETE_TOPIC_IN_NAMESRV
//! rmqctl topicList                                          GET_ALL_TOPIC_LIST_FROM_NAMESERVER
//! rmqctl topicRoute       -t T                              GET_ROUTEINFO_BY_TOPIC
//! rmqctl topicStatus      -t T                              route, GET_TOPIC_STATS_INFO
//! rmqctl consumerProgress -g G [-t T]                       route of %RETRY%G, GET_CONSUME_STATS
//! rmqctl queryMsgById     -i ID[,ID]                        VIEW_MESSAGE_BY_ID
//! rmqctl queryMsgByKey    -t T -k K [-b -e -m]              route, QUERY_MESSAGE
//! rmqctl up               -f manifest.yaml [--dir D] [--base-port P] [--detach]
//! rmqctl down             [--dir D | -f manifest.yaml] [--purge]
//! ```
//!
//! `up` and `down` print as they go rather than through [`Output`]: `up` reports a cluster
//! that keeps running in the foreground.

pub mod cli;
pub mod commands;
pub mod error;
pub mod local;
pub mod table;
pub mod time;

use rmq_admin::Admin;
use serde::Serialize;

use crate::cli::{Cli, Command};
use crate::commands::{
    broker_status, clean_expired_cq, cluster_list, consumer_connection, consumer_progress,
    consumer_status, delete_sub_group, delete_topic, producer_connection, query_msg_by_id,
    query_msg_by_key, query_msg_trace, render_applied, reset_offset_by_time, stats_all, topic_list,
    topic_route, topic_status, update_broker_config, update_sub_group, update_topic,
};
use crate::error::CmdError;

/// What a subcommand prints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    /// The table or the JSON document, ending with a newline.
    pub stdout: String,
    /// Partial failures worth telling about, one line each, for stderr.
    pub warnings: Vec<String>,
}

/// Runs the subcommand of `cli`.
pub async fn run(cli: &Cli) -> Result<Output, CmdError> {
    let config = cli.client_config().map_err(CmdError::Tls)?;
    let admin = Admin::with_config(cli.namesrv_addrs(), cli.timeout(), config);
    let json = cli.json;
    match &cli.command {
        Command::ClusterList(args) => {
            let list = cluster_list::run(&admin, args).await?;
            print(json, &list, cluster_list::render_cluster_list)
        }
        Command::UpdateTopic(args) => {
            let update = update_topic::run(&admin, args).await?;
            print(json, &update, update_topic::render_topic_update)
        }
        Command::DeleteTopic(args) => {
            let deletion = delete_topic::run(&admin, args).await?;
            print(json, &deletion, delete_topic::render_topic_deletion)
        }
        Command::TopicList => {
            let topics = topic_list::run(&admin).await?;
            print(json, &topics, topic_list::render_topic_list)
        }
        Command::TopicRoute(args) => {
            // The route is JSON either way.
            let route = topic_route::run(&admin, args).await?;
            Ok(Output {
                stdout: topic_route::render_topic_route(&route)?,
                warnings: Vec::new(),
            })
        }
        Command::TopicStatus(args) => {
            let status = topic_status::run(&admin, args).await?;
            print(json, &status, topic_status::render_topic_status)
        }
        Command::ConsumerProgress(args) => {
            let progress = consumer_progress::run(&admin, args).await?;
            print(json, &progress, consumer_progress::render_consumer_progress)
        }
        Command::QueryMsgById(args) => {
            let messages = query_msg_by_id::run(&admin, args).await?;
            print(json, &messages, query_msg_by_id::render_messages)
        }
        Command::QueryMsgByKey(args) => {
            let query = query_msg_by_key::run(&admin, args).await?;
            let mut output = print(json, &query, query_msg_by_key::render_key_query)?;
            output.warnings = query.warnings;
            Ok(output)
        }
        Command::QueryMsgTraceById(args) => {
            let trace = query_msg_trace::run(&admin, args).await?;
            let mut output = print(json, &trace, query_msg_trace::render_trace)?;
            output.warnings = trace.warnings;
            Ok(output)
        }
        Command::ConsumerConnection(args) => {
            let found = consumer_connection::run(&admin, args).await?;
            print(
                json,
                &found,
                consumer_connection::render_consumer_connections,
            )
        }
        Command::ConsumerStatus(args) => {
            let status = consumer_status::run(&admin, args).await?;
            print(json, &status, consumer_status::render)
        }
        Command::StatsAll(args) => {
            let rows = stats_all::run(&admin, args).await?;
            print(json, &rows, |rows: &Vec<stats_all::StatsRow>| {
                stats_all::render(rows)
            })
        }
        Command::ProducerConnection(args) => {
            let found = producer_connection::run(&admin, args).await?;
            print(
                json,
                &found,
                producer_connection::render_producer_connections,
            )
        }
        Command::BrokerStatus(args) => {
            let status = broker_status::run(&admin, args).await?;
            print(json, &status, broker_status::render_broker_status)
        }
        Command::ResetOffsetByTime(args) => {
            let timestamp = reset_offset_by_time::timestamp_of(&args.time)?;
            let reset = reset_offset_by_time::run(&admin, &args.reset, timestamp).await?;
            print(json, &reset, reset_offset_by_time::render_offset_reset)
        }
        Command::SkipAccumulatedMessage(args) => {
            let reset = reset_offset_by_time::run(&admin, args, -1).await?;
            print(json, &reset, reset_offset_by_time::render_offset_reset)
        }
        Command::UpdateSubGroup(args) => {
            let applied = update_sub_group::run(&admin, args).await?;
            print(json, &applied, render_applied)
        }
        Command::DeleteSubGroup(args) => {
            let applied = delete_sub_group::run(&admin, args).await?;
            print(json, &applied, render_applied)
        }
        Command::CleanExpiredCq(args) => {
            let applied = clean_expired_cq::run(&admin, args).await?;
            print(json, &applied, render_applied)
        }
        Command::UpdateBrokerConfig(args) => {
            let (applied, warnings) = update_broker_config::run(&admin, args).await?;
            let mut output = print(json, &applied, render_applied)?;
            output.warnings = warnings;
            Ok(output)
        }
        Command::Up(args) => {
            local::up::run(args).await?;
            Ok(Output::default())
        }
        Command::Down(args) => {
            local::down::run(args)?;
            Ok(Output::default())
        }
        Command::Apply(args) => {
            local::apply::run(args).await?;
            Ok(Output::default())
        }
    }
}

/// The table, or the model as one pretty JSON document.
fn print<T: Serialize>(
    json: bool,
    model: &T,
    render: fn(&T) -> String,
) -> Result<Output, CmdError> {
    let stdout = if json {
        let mut text = serde_json::to_string_pretty(model).map_err(CmdError::Json)?;
        text.push('\n');
        text
    } else {
        render(model)
    };
    Ok(Output {
        stdout,
        warnings: Vec::new(),
    })
}
