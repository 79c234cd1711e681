#![allow(clippy::unwrap_used)]
//! CLEAN_UNUSED_TOPIC (316) over real sockets with the broker in-process: the consume queues of
//! a topic the broker no longer has go, everything else stays readable, and a restart does not
//! bring them back.

use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::delete_topic::DeleteTopicRequestHeader;
use rmq_remoting::Client;

mod support;

const T: Duration = Duration::from_secs(30);

async fn ok(client: &Client, addr: &str, request: RemotingCommand) -> RemotingCommand {
    let answer = client.invoke(addr, request, T).await.unwrap();
    assert_eq!(answer.code, ResponseCode::Success as i32, "{answer:?}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_topics_queues_are_destroyed_the_rest_stay_and_a_restart_keeps_them_gone() {
    let dir = tempfile::tempdir().unwrap();
    let running = support::start_broker(dir.path()).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    for i in 0..20 {
        ok(
            &client,
            &addr,
            support::send_keyed("Orders", &format!("o{i}")),
        )
        .await;
        ok(
            &client,
            &addr,
            support::send_keyed("Gone", &format!("g{i}")),
        )
        .await;
    }
    let store = running.broker().store.clone();
    assert!(store.wait_dispatched(T));
    assert!(store.queue_topics().contains(&"Gone".to_owned()));

    // Nothing is unused yet: the clean-up answers and destroys nothing.
    ok(
        &client,
        &addr,
        RemotingCommand::request(RequestCode::CleanUnusedTopic),
    )
    .await;
    assert!(store.queue_topics().contains(&"Gone".to_owned()));

    ok(
        &client,
        &addr,
        RemotingCommand::request_with_header(
            RequestCode::DeleteTopicInBroker,
            &DeleteTopicRequestHeader {
                topic: "Gone".into(),
            },
        ),
    )
    .await;
    ok(
        &client,
        &addr,
        RemotingCommand::request(RequestCode::CleanUnusedTopic),
    )
    .await;
    let topics = store.queue_topics();
    assert!(!topics.contains(&"Gone".to_owned()), "{topics:?}");
    assert!(topics.contains(&"Orders".to_owned()));
    let queues_dir = dir.path().join("consumequeue");
    assert!(!queues_dir.join("Gone").exists());
    let orders: u64 = (0..8).map(|q| store.max_offset_in_queue("Orders", q)).sum();
    assert_eq!(orders, 20);
    drop(store);
    running.shutdown().await;

    let running = support::start_broker(dir.path()).await;
    let store = running.broker().store.clone();
    assert!(!store.queue_topics().contains(&"Gone".to_owned()));
    let orders: u64 = (0..8).map(|q| store.max_offset_in_queue("Orders", q)).sum();
    assert_eq!(orders, 20);
    drop(store);
    running.shutdown().await;
}
