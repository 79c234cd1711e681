#![allow(clippy::unwrap_used)]
//! The transport over real sockets on 127.0.0.1: matching, oneway, bad frames, limits, shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_remoting::{Client, ConnHandle, Handler, InvokeError, ServerConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

/// Echoes the request's `delayMs` ext field back after sleeping that long; code 999 is unknown,
/// code 998 panics.
#[derive(Default)]
struct Echo {
    oneways: AtomicUsize,
    closed: AtomicUsize,
    oneway_seen: Notify,
    /// Notified when a request with a delay enters the handler.
    delayed_seen: Notify,
}

impl Handler for Echo {
    async fn handle(
        &self,
        _conn: &ConnHandle,
        request: RemotingCommand,
    ) -> Option<RemotingCommand> {
        if request.code == 999 {
            return Some(RemotingCommand::request_code_not_supported(&request));
        }
        if request.code == 998 {
            panic!("handler bug on request {}", request.opaque);
        }
        if request.is_oneway() {
            self.oneways.fetch_add(1, Ordering::SeqCst);
            self.oneway_seen.notify_one();
            return Some(RemotingCommand::response_to(
                &request,
                ResponseCode::Success,
            ));
        }
        let delay: u64 = request
            .ext_fields
            .get("delayMs")
            .map_or(0, |d| d.parse().unwrap());
        if delay > 0 {
            self.delayed_seen.notify_one();
        }
        tokio::time::sleep(Duration::from_millis(delay)).await;
        Some(
            RemotingCommand::response_to(&request, ResponseCode::Success)
                .with_body(request.body.clone()),
        )
    }

    fn connection_closed(&self, _conn: &ConnHandle) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

struct Server {
    addr: String,
    handler: Arc<Echo>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

async fn start(config: ServerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handler = Arc::new(Echo::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, handler.clone(), config, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        handler,
        stop: Some(stop),
        done,
    }
}

impl Server {
    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), self.done)
            .await
            .unwrap()
            .unwrap();
    }
}

fn echo(body: &str, delay_ms: u64) -> RemotingCommand {
    RemotingCommand::request(10)
        .with_ext_field("delayMs", delay_ms.to_string())
        .with_body(body.to_owned())
}

const LONG: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_one_connection_get_their_own_responses_out_of_order() {
    let server = start(ServerConfig::default()).await;
    let client = Client::default();
    let calls = (0..64u64).map(|i| {
        let client = client.clone();
        let addr = server.addr.clone();
        // Earlier requests sleep longer, so responses come back in reverse order.
        async move {
            let response = client
                .invoke(&addr, echo(&format!("req-{i}"), 64 - i), LONG)
                .await
                .unwrap();
            assert_eq!(response.body, format!("req-{i}").as_bytes());
            assert!(response.is_response());
        }
    });
    futures_join_all(calls).await;
    server.shutdown().await;
}

/// Sends a slow then a fast request on one connection; returns the bodies in answer order.
async fn answer_order(config: ServerConfig) -> Vec<String> {
    let server = start(config).await;
    let client = Client::default();
    let (done, mut order) = tokio::sync::mpsc::unbounded_channel();
    let slow = {
        let (client, addr, done) = (client.clone(), server.addr.clone(), done.clone());
        tokio::spawn(async move {
            let r = client.invoke(&addr, echo("slow", 300), LONG).await.unwrap();
            done.send(String::from_utf8(r.body.to_vec()).unwrap())
                .unwrap();
        })
    };
    // The slow request is read (and waiting) before the fast one is sent.
    server.handler.delayed_seen.notified().await;
    let r = client
        .invoke(&server.addr, echo("fast", 0), LONG)
        .await
        .unwrap();
    done.send(String::from_utf8(r.body.to_vec()).unwrap())
        .unwrap();
    slow.await.unwrap();
    server.shutdown().await;
    let mut answers = Vec::new();
    while let Ok(a) = order.try_recv() {
        answers.push(a);
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_request_does_not_hold_up_the_next_one_on_its_connection() {
    assert_eq!(
        answer_order(ServerConfig::default()).await,
        ["fast", "slow"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_at_its_in_flight_limit_reads_nothing_more_until_one_finishes() {
    let config = ServerConfig {
        max_in_flight_per_connection: 1,
        ..ServerConfig::default()
    };
    assert_eq!(answer_order(config).await, ["slow", "fast"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_system_error_and_the_connection_keeps_serving() {
    let server = start(ServerConfig::default()).await;
    let client = Client::default();
    let slow = {
        let (client, addr) = (client.clone(), server.addr.clone());
        tokio::spawn(async move { client.invoke(&addr, echo("waiting", 200), LONG).await })
    };
    server.handler.delayed_seen.notified().await;
    let failed = client
        .invoke(&server.addr, RemotingCommand::request(998), LONG)
        .await
        .unwrap();
    assert_eq!(failed.code, ResponseCode::SystemError as i32);
    assert!(failed.remark.unwrap().contains("998"));
    // The request that was waiting on the same connection still gets its answer, and the
    // connection serves new requests.
    assert_eq!(slow.await.unwrap().unwrap().body, "waiting".as_bytes());
    let again = client
        .invoke(&server.addr, echo("x", 0), LONG)
        .await
        .unwrap();
    assert_eq!(again.body, "x".as_bytes());
    assert_eq!(server.handler.closed.load(Ordering::SeqCst), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_code_is_answered_and_the_connection_keeps_serving() {
    let server = start(ServerConfig::default()).await;
    let client = Client::default();
    let answer = client
        .invoke(&server.addr, RemotingCommand::request(999), LONG)
        .await
        .unwrap();
    assert_eq!(answer.code, ResponseCode::RequestCodeNotSupported as i32);
    let again = client
        .invoke(&server.addr, echo("x", 0), LONG)
        .await
        .unwrap();
    assert_eq!(again.body, "x".as_bytes());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneway_request_reaches_the_handler_and_gets_no_response() {
    let server = start(ServerConfig::default()).await;
    let mut raw = TcpStream::connect(&server.addr).await.unwrap();
    let mut frame = bytes::BytesMut::new();
    let mut oneway = RemotingCommand::request(10).into_oneway();
    oneway.opaque = 7;
    rmq_protocol::frame::encode(&oneway, &mut frame).unwrap();
    raw.write_all(&frame).await.unwrap();
    tokio::time::timeout(LONG, server.handler.oneway_seen.notified())
        .await
        .unwrap();
    // Nothing may come back even though the handler returned a command.
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_millis(300), raw.read(&mut buf)).await;
    assert!(read.is_err(), "a oneway request was answered: {read:?}");
    assert_eq!(server.handler.oneways.load(Ordering::SeqCst), 1);
    server.shutdown().await;
}

async fn assert_closed_by_server(raw: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(LONG, raw.read(&mut buf))
        .await
        .unwrap();
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "server answered instead of closing: {read:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_close_only_their_own_connection() {
    let server = start(ServerConfig::default()).await;
    let client = Client::default();
    client
        .invoke(&server.addr, echo("before", 0), LONG)
        .await
        .unwrap();
    let garbage: [&[u8]; 5] = [
        // negative length
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        // 17 MiB frame
        &[0x01, 0x10, 0x00, 0x00, 0, 0, 0, 0],
        // header length 100 in a 10-byte frame
        &[0, 0, 0, 10, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0],
        // serialize type 7
        &[0, 0, 0, 6, 7, 0, 0, 2, b'{', b'}'],
        // invalid JSON header
        &[0, 0, 0, 9, 0, 0, 0, 5, b'{', b'c', b'o', b'd', b'e'],
    ];
    for bytes in garbage {
        let mut raw = TcpStream::connect(&server.addr).await.unwrap();
        raw.write_all(bytes).await.unwrap();
        assert_closed_by_server(&mut raw).await;
        let after = client
            .invoke(&server.addr, echo("after", 0), LONG)
            .await
            .unwrap();
        assert_eq!(after.body, "after".as_bytes());
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_times_out_and_the_late_response_does_not_break_the_next_request() {
    let server = start(ServerConfig::default()).await;
    let client = Client::default();
    let late = client
        .invoke(&server.addr, echo("slow", 500), Duration::from_millis(50))
        .await;
    assert!(
        matches!(late, Err(InvokeError::Timeout { code: 10, .. })),
        "{late:?}"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let next = client
        .invoke(&server.addr, echo("next", 0), LONG)
        .await
        .unwrap();
    assert_eq!(next.body, "next".as_bytes());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_closed_port_fails_with_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let result = Client::default().invoke(&addr, echo("x", 0), LONG).await;
    assert!(
        matches!(result, Err(InvokeError::Connect { .. })),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let server = start(ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    })
    .await;
    let first = Client::default();
    first
        .invoke(&server.addr, echo("1", 0), LONG)
        .await
        .unwrap();
    let second = Client::default();
    let blocked = second
        .invoke(&server.addr, echo("2", 0), Duration::from_millis(300))
        .await;
    assert!(
        matches!(blocked, Err(InvokeError::Timeout { .. })),
        "{blocked:?}"
    );
    first.close(&server.addr);
    let served = second
        .invoke(&server.addr, echo("2", 0), LONG)
        .await
        .unwrap();
    assert_eq!(served.body, "2".as_bytes());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_requests_already_read_then_closes() {
    let server = start(ServerConfig::default()).await;
    let client = Client::default();
    let addr = server.addr.clone();
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move { client.invoke(&addr, echo("drained", 300), LONG).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let handler = server.handler.clone();
    server.shutdown().await;
    let answered = in_flight.await.unwrap().unwrap();
    assert_eq!(answered.body, "drained".as_bytes());
    assert_eq!(handler.closed.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_requests_fail_at_once_when_the_server_goes_away() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // A server that reads one request and hangs up without answering.
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 256];
        let _ = socket.read(&mut buf).await;
    });
    let started = std::time::Instant::now();
    let result = Client::default().invoke(&addr, echo("x", 0), LONG).await;
    assert!(
        matches!(result, Err(InvokeError::Closed { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < LONG);
}

async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    for handle in handles {
        handle.await.unwrap();
    }
}
