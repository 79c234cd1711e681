#![allow(clippy::unwrap_used)]
//! The broker in-process over real sockets: long polling, offsets, and bad input answered
//! clearly while the broker keeps serving.

use std::time::{Duration, Instant};

use rmq_broker::{BrokerConfig, RunningBroker};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::pull_message::{PullMessageRequestHeader, sys_flag};
use rmq_protocol::command::send_message::{
    SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
};
use rmq_protocol::message::record::RecordView;
use rmq_remoting::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

async fn broker(dir: &std::path::Path, extra: &str) -> RunningBroker {
    let text = format!(
        "listenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\nstorePathRootDir={}\n\
         mappedFileSizeCommitLog=4194304\nmaxMessageSize=65536\n{extra}",
        dir.display()
    );
    let config = BrokerConfig::from_properties(&text).unwrap();
    rmq_broker::start(config).await.unwrap()
}

/// A send keyed `k-{body}` and tagged `tags`.
fn send(topic: &str, body: &str, tags: &str) -> RemotingCommand {
    let properties = format!("TAGS\u{1}{tags}\u{2}KEYS\u{1}k-{body}\u{2}");
    support::send_request(&support::send_header(topic, properties), body)
}

/// A pull from queue 0 that the broker may hold for `suspend_ms`, filtered by tag `expression`.
fn pull(topic: &str, offset: i64, suspend_ms: i64, expression: &str) -> RemotingCommand {
    support::pull_request(&PullMessageRequestHeader {
        sys_flag: sys_flag::SUSPEND | sys_flag::SUBSCRIPTION,
        suspend_timeout_millis: suspend_ms,
        subscription: Some(expression.into()),
        ..support::pull_header("cg", topic, 0, offset)
    })
}

const T: Duration = Duration::from_secs(10);

/// Asserts that `response` carries `code` and a remark mentioning `says`.
/// The queue offset a successful send landed at (panics on any other answer).
fn sent_at_queue_offset(response: &RemotingCommand) -> i64 {
    assert_eq!(response.code, ResponseCode::Success as i32, "{response:?}");
    let header: SendMessageResponseHeader = response.decode_header().unwrap();
    header.queue_offset
}

fn assert_answered(response: &RemotingCommand, code: ResponseCode, says: &str) {
    assert_eq!(response.code, code as i32, "{response:?}");
    let remark = response.remark.as_deref().unwrap_or_default();
    assert!(remark.contains(says), "{says:?} not in {remark:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_pull_returns_as_soon_as_a_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path(), "").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let first = client
        .invoke(&addr, send("Poll", "m0", "a"), T)
        .await
        .unwrap();
    assert_eq!(first.code, ResponseCode::Success as i32, "{first:?}");
    // The consume queue is written by the dispatch thread right after the append.
    assert!(running.broker().store.wait_dispatched(T));

    let started = Instant::now();
    let waiting = {
        let (client, addr) = (client.clone(), addr.clone());
        tokio::spawn(async move { client.invoke(&addr, pull("Poll", 1, 5000, "*"), T).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    client
        .invoke(&addr, send("Poll", "m1", "a"), T)
        .await
        .unwrap();
    let answered = waiting.await.unwrap().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(answered.code, ResponseCode::Success as i32, "{answered:?}");
    assert!(
        elapsed >= Duration::from_millis(300),
        "did not wait: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(4),
        "not woken by the arrival: {elapsed:?}"
    );
    let view = RecordView::decode(&answered.body).unwrap();
    assert_eq!(view.body(), b"m1");

    // Nothing new: the pull is held for its suspend time, then answered PULL_NOT_FOUND.
    let started = Instant::now();
    let empty = client
        .invoke(&addr, pull("Poll", 2, 400, "*"), T)
        .await
        .unwrap();
    assert_eq!(empty.code, ResponseCode::PullNotFound as i32);
    assert!(started.elapsed() >= Duration::from_millis(400));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_are_answered_with_apaches_codes_for_filtered_moved_and_unknown_cases() {
    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path(), "").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    for (i, tag) in ["a", "b", "a"].iter().enumerate() {
        client
            .invoke(&addr, send("Codes", &format!("m{i}"), tag), T)
            .await
            .unwrap();
    }
    assert!(running.broker().store.wait_dispatched(T));
    let only_b = client
        .invoke(&addr, pull("Codes", 0, 0, "b"), T)
        .await
        .unwrap();
    assert_eq!(only_b.code, ResponseCode::Success as i32);
    let bodies: Vec<Vec<u8>> = rmq_protocol::message::record::decode_all(&only_b.body)
        .map(|r| r.unwrap().body().to_vec())
        .collect();
    assert_eq!(bodies, [b"m1".to_vec()]);

    let overflow = client
        .invoke(&addr, pull("Codes", 99, 0, "*"), T)
        .await
        .unwrap();
    assert_eq!(overflow.code, ResponseCode::PullOffsetMoved as i32);

    let unknown = client
        .invoke(&addr, pull("NoSuchTopic", 0, 0, "*"), T)
        .await
        .unwrap();
    assert_eq!(unknown.code, ResponseCode::TopicNotExist as i32);
    assert!(unknown.remark.unwrap().contains("NoSuchTopic"));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_answers_and_the_broker_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path(), "").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();

    let unknown = client
        .invoke(&addr, RemotingCommand::request(7777), T)
        .await
        .unwrap();
    assert_eq!(unknown.code, ResponseCode::RequestCodeNotSupported as i32);

    let bad_topic = client
        .invoke(&addr, send("bad topic!", "x", "a"), T)
        .await
        .unwrap();
    assert_eq!(bad_topic.code, ResponseCode::SystemError as i32);
    assert!(bad_topic.remark.unwrap().contains("illegal characters"));

    let long_topic = client
        .invoke(&addr, send(&"t".repeat(128), "x", "a"), T)
        .await
        .unwrap();
    assert_eq!(long_topic.code, ResponseCode::SystemError as i32);

    let oversize = client
        .invoke(&addr, send("Big", &"x".repeat(65_537), "a"), T)
        .await
        .unwrap();
    assert_eq!(oversize.code, ResponseCode::MessageIllegal as i32);
    assert!(oversize.remark.unwrap().contains("65536"));

    let missing_header = client
        .invoke(&addr, RemotingCommand::request(RequestCode::PullMessage), T)
        .await
        .unwrap();
    assert_eq!(missing_header.code, ResponseCode::SystemError as i32);

    // Broken frames close only their own connection.
    let broken: [&[u8]; 3] = [
        &[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        &[0, 0, 0, 10, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0],
        &[
            0, 0, 0, 12, 0, 0, 0, 8, b'{', b'"', b'c', b'o', b'd', b'e', b'"', b':',
        ],
    ];
    for bytes in broken {
        let mut raw = TcpStream::connect(&addr).await.unwrap();
        raw.write_all(bytes).await.unwrap();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(T, raw.read(&mut buf)).await.unwrap();
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }

    // Nothing above cost an acknowledged message or the service.
    let ok = client
        .invoke(&addr, send("Good", "still", "a"), T)
        .await
        .unwrap();
    assert_eq!(sent_at_queue_offset(&ok), 0);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_offsets_survive_a_restart_and_unknown_groups_start_at_zero() {
    use rmq_protocol::command::query_consumer_offset::{
        QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
    };
    use rmq_protocol::command::update_consumer_offset::UpdateConsumerOffsetRequestHeader;
    let dir = tempfile::tempdir().unwrap();
    let query = || {
        RemotingCommand::request_with_header(
            RequestCode::QueryConsumerOffset,
            &QueryConsumerOffsetRequestHeader {
                consumer_group: "cg".into(),
                topic: "Off".into(),
                queue_id: 1,
                set_zero_if_not_found: None,
            },
        )
    };
    {
        let running = broker(dir.path(), "").await;
        let addr = running.local_addr().to_string();
        let client = Client::default();
        let fresh = client.invoke(&addr, query(), T).await.unwrap();
        let offset: QueryConsumerOffsetResponseHeader = fresh.decode_header().unwrap();
        assert_eq!(offset.offset, 0);
        let update = RemotingCommand::request_with_header(
            RequestCode::UpdateConsumerOffset,
            &UpdateConsumerOffsetRequestHeader {
                consumer_group: "cg".into(),
                topic: "Off".into(),
                queue_id: 1,
                commit_offset: 17,
            },
        );
        let updated = client.invoke(&addr, update, T).await.unwrap();
        assert_eq!(updated.code, ResponseCode::Success as i32);
        running.shutdown().await;
    }
    let running = broker(dir.path(), "").await;
    let addr = running.local_addr().to_string();
    let again = Client::default().invoke(&addr, query(), T).await.unwrap();
    let offset: QueryConsumerOffsetResponseHeader = again.decode_header().unwrap();
    assert_eq!(offset.offset, 17);
    running.shutdown().await;
}

/// The descriptor numbers this process holds open on `path`.
fn fds_of(path: &std::path::Path) -> Vec<i32> {
    let want = std::fs::canonicalize(path).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|target| target == want))
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// A SYNC_FLUSH broker that acknowledged one message ("kept") before every descriptor of its
/// commit log file was pointed at `target`: a real failure of the next write or fdatasync.
async fn broker_with_broken_commit_log(
    dir: &std::path::Path,
    target: &impl std::os::fd::AsRawFd,
) -> (RunningBroker, Client, String) {
    let running = broker(dir, "flushDiskType=SYNC_FLUSH\n").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let acked = client
        .invoke(&addr, send("Disk", "kept", "a"), T)
        .await
        .unwrap();
    assert_eq!(acked.code, ResponseCode::Success as i32, "{acked:?}");
    let file = dir.join("commitlog").join("00000000000000000000");
    for fd in fds_of(&file) {
        // SAFETY: dup2 onto a descriptor this process owns.
        assert!(unsafe { libc::dup2(target.as_raw_fd(), fd) } >= 0);
    }
    (running, client, addr)
}

/// The next send is answered `code` with a remark that `says` what failed; later sends are
/// refused, the broker still serves pulls, and the acknowledged message is still there.
async fn assert_send_fails_then_refused_and_acked_data_served(
    (running, client, addr): (RunningBroker, Client, String),
    code: ResponseCode,
    says: &str,
) {
    let addr = addr.as_str();
    let failed = client
        .invoke(addr, send("Disk", "lost", "a"), T)
        .await
        .unwrap();
    assert_answered(&failed, code, says);
    let refused = client
        .invoke(addr, send("Disk", "refused", "a"), T)
        .await
        .unwrap();
    assert_eq!(refused.code, ResponseCode::ServiceNotAvailable as i32);
    assert!(running.broker().store.wait_dispatched(T));
    let pulled = client
        .invoke(addr, pull("Disk", 0, 0, "*"), T)
        .await
        .unwrap();
    assert_eq!(pulled.code, ResponseCode::Success as i32, "{pulled:?}");
    let first = rmq_protocol::message::record::decode_all(&pulled.body)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first.body(), b"kept");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_disk_flush_is_answered_clearly_and_earlier_messages_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    // /dev/null takes the append's write, but the kernel refuses fdatasync on it (EINVAL).
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    assert_send_fails_then_refused_and_acked_data_served(
        broker_with_broken_commit_log(dir.path(), &null).await,
        ResponseCode::ServiceNotAvailable,
        "flush to disk failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_log_write_is_answered_as_a_system_error_and_earlier_messages_stay_readable()
 {
    let dir = tempfile::tempdir().unwrap();
    // The read end of a pipe: the append's `pwrite` fails (under SYNC_FLUSH appends are writes).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(writer);
    assert_send_fails_then_refused_and_acked_data_served(
        broker_with_broken_commit_log(dir.path(), &reader).await,
        ResponseCode::SystemError,
        "failed to write to the commit log",
    )
    .await;
}

/// A SEND_BATCH_MESSAGE to `Batched` of messages `m0`, `m1`, ... with the given properties each,
/// the batch's own `sys_flag` and `properties` in the header.
fn batch_request(sys_flag: i32, properties: &str, each: &[&[u8]]) -> RemotingCommand {
    use rmq_protocol::batch::{self, BatchMessage};

    let messages: Vec<BatchMessage> = each
        .iter()
        .enumerate()
        .map(|(i, props)| BatchMessage {
            flag: 0,
            body: format!("m{i}").into(),
            properties: bytes::Bytes::copy_from_slice(props),
        })
        .collect();
    let mut body = bytes::BytesMut::new();
    batch::encode(&messages, &mut body).unwrap();
    let header = SendMessageRequestHeader {
        sys_flag,
        batch: Some(true),
        ..support::send_header("Batched", properties.to_owned())
    };
    // Java clients send batches with the V2 (one-letter) header.
    let header = SendMessageRequestHeaderV2::from(header);
    RemotingCommand::request_with_header(RequestCode::SendBatchMessage, &header)
        .with_body(body.freeze())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactional_or_delayed_batches_are_refused_as_illegal_and_store_nothing() {
    use rmq_protocol::message::sysflag;

    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path(), "").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let each: [&[u8]; 3] = [b"UNIQ_KEY\x01u\x02"; 3];
    let batch_of_three =
        |sys_flag: i32, properties: &str| batch_request(sys_flag, properties, &each);

    let half = client
        .invoke(
            &addr,
            batch_of_three(sysflag::TRANSACTION_PREPARED_TYPE, ""),
            T,
        )
        .await
        .unwrap();
    assert_answered(&half, ResponseCode::MessageIllegal, "transactional");
    let delayed = client
        .invoke(&addr, batch_of_three(0, "DELAY\u{1}3\u{2}"), T)
        .await
        .unwrap();
    assert_answered(&delayed, ResponseCode::MessageIllegal, "delayed");

    // A plain batch still goes in, at the start of the queue: the refused ones left nothing.
    let plain = client
        .invoke(&addr, batch_of_three(0, "DELAY\u{1}0\u{2}"), T)
        .await
        .unwrap();
    assert_eq!(sent_at_queue_offset(&plain), 0);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_of_a_batch_keeps_its_own_properties_with_cluster_and_unique_key_added() {
    use rmq_protocol::message::properties::{self, keys};

    let dir = tempfile::tempdir().unwrap();
    let running = broker(dir.path(), "brokerClusterName=Blue").await;
    let addr = running.local_addr().to_string();
    let client = Client::default();
    let own: [&[u8]; 3] = [
        b"UNIQ_KEY\x01AAAA\x02TAGS\x01first\x02",
        b"TAGS\x01second",
        // Not UTF-8: replaced as Java's decoding of the body would.
        b"KEYS\x01caf\xe9\x02",
    ];
    let sent = client
        .invoke(&addr, batch_request(0, "", &own), T)
        .await
        .unwrap();
    assert_eq!(sent.code, ResponseCode::Success as i32, "{sent:?}");

    assert!(running.broker().store.wait_dispatched(T));
    let pulled = client
        .invoke(&addr, pull("Batched", 0, 0, "*"), T)
        .await
        .unwrap();
    assert_eq!(pulled.code, ResponseCode::Success as i32, "{pulled:?}");
    let stored: Vec<_> = rmq_protocol::message::record::decode_all(&pulled.body)
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), 3);
    let find = |i: usize, name| properties::find(stored[i].properties(), name).map(str::to_owned);
    for (i, m) in stored.iter().enumerate() {
        assert_eq!(m.body(), format!("m{i}").as_bytes());
        assert_eq!(
            find(i, keys::CLUSTER).as_deref(),
            Some("Blue"),
            "message {i}"
        );
    }
    assert_eq!(find(0, keys::UNIQ_KEY).as_deref(), Some("AAAA"));
    assert_eq!(find(0, keys::TAGS).as_deref(), Some("first"));
    assert_eq!(find(1, keys::TAGS).as_deref(), Some("second"));
    let generated = find(1, keys::UNIQ_KEY).unwrap();
    assert_eq!(generated.len(), 32, "a generated id: {generated}");
    assert_eq!(find(2, keys::KEYS).as_deref(), Some("caf\u{fffd}"));
    assert_ne!(find(2, keys::UNIQ_KEY), Some(generated), "ids are unique");
    assert_eq!(find(1, keys::KEYS), None, "nothing leaks between messages");
    running.shutdown().await;
}
