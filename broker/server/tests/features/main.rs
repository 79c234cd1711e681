#![allow(clippy::unwrap_used)]
//! Messaging features against real `rmq-namesrv`/`rmq-broker` processes, driven by clients
//! written outside this project where they support the feature: retry and dead-letter queues,
//! delay levels, transactions, ordered consumption, SQL92 filters, the trace topic.
//! Install the clients with `scripts/install-clients.sh`.

#[path = "../interop/harness.rs"]
mod harness;
#[path = "../support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use harness::{Cluster, finish};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use serde_json::Value;

/// Short delay levels so retries and delays take seconds.
const FAST_LEVELS: &str = "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

/// Sends one request to the broker from the test itself (admin setup and checks).
fn request(cluster: &Cluster, command: RemotingCommand) -> RemotingCommand {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = rmq_remoting::Client::default();
        client
            .invoke(&cluster.broker_addr, command, Duration::from_secs(10))
            .await
            .unwrap()
    })
}

/// Creates or updates a subscription group with `retryMaxTimes`.
fn set_retry_max_times(cluster: &Cluster, group: &str, retry_max_times: i32) {
    let body = serde_json::json!({
        "groupName": group, "consumeEnable": true, "consumeFromMinEnable": true,
        "consumeBroadcastEnable": true, "retryQueueNums": 1, "retryMaxTimes": retry_max_times,
        "brokerId": 0, "whichBrokerWhenConsumeSlowly": 1, "notifyConsumerIdsChangedEnable": true,
    });
    let command = RemotingCommand::request(RequestCode::UpdateAndCreateSubscriptiongroup)
        .with_body(serde_json::to_vec(&body).unwrap());
    let response = request(cluster, command);
    assert_eq!(response.code, ResponseCode::Success as i32, "{response:?}");
}

/// `rmqctl --json <args>` parsed.
fn rmqctl_json(cluster: &Cluster, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = cluster.rmqctl(&all);
    assert!(
        out.status.success(),
        "rmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn produce(cluster: &Cluster, topic: &str, count: usize, extra: &[&str]) -> Value {
    let count = count.to_string();
    let mut args = vec!["--topic", topic, "--group", "pg", "--count", &count];
    args.extend_from_slice(extra);
    let produced = cluster.client("cpp_produce.py", &args);
    assert_eq!(
        produced["sent"].as_u64().unwrap() as usize,
        count.parse::<usize>().unwrap()
    );
    produced
}

fn deliveries(consumed: &Value) -> Vec<Value> {
    consumed["deliveries"].as_array().unwrap().clone()
}

mod delay;
mod order;
mod retry;
mod sql;
mod trace;
mod transaction;
