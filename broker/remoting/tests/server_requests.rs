#![allow(clippy::unwrap_used)]
//! Requests a server sends its own peers and waits on (`ConnHandle::request`): answered, not
//! answered in time, and cut short by the peer leaving. The peer is a raw socket, so the frames
//! on the wire are the ones checked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_remoting::{ConnHandle, FrameReader, Handler, ServerConfig, serve};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

/// Code the peer sends to make the handler ask the peer (code 220) and report what came back.
const ASK_BACK: i32 = 600;
const ASKED: i32 = 220;

/// On ASK_BACK, asks the peer with the `timeoutMs` given and records the outcome.
#[derive(Default)]
struct AsksBack {
    outcomes: Mutex<Vec<String>>,
    recorded: Notify,
}

impl Handler for AsksBack {
    async fn handle(&self, conn: &ConnHandle, request: RemotingCommand) -> Option<RemotingCommand> {
        let timeout_ms: u64 = request
            .ext_fields
            .get("timeoutMs")
            .unwrap()
            .parse()
            .unwrap();
        let asked = conn
            .request(
                RemotingCommand::request(ASKED).with_body("question"),
                Duration::from_millis(timeout_ms),
            )
            .await;
        let outcome = match asked {
            Ok(answer) => format!("answer {}", String::from_utf8_lossy(&answer.body)),
            Err(error) => format!("failed: {error}"),
        };
        self.outcomes.lock().unwrap().push(outcome.clone());
        self.recorded.notify_one();
        Some(RemotingCommand::response_to(&request, ResponseCode::Success).with_body(outcome))
    }
}

struct Peer {
    reader: FrameReader<OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Peer {
    async fn send(&mut self, command: &RemotingCommand) {
        let mut frame = BytesMut::new();
        rmq_protocol::frame::encode(command, &mut frame).unwrap();
        self.writer.write_all(&frame).await.unwrap();
    }

    async fn next(&mut self) -> RemotingCommand {
        tokio::time::timeout(LONG, self.reader.read_command())
            .await
            .expect("the server sent nothing")
            .unwrap()
            .expect("the server closed")
    }
}

const LONG: Duration = Duration::from_secs(10);

async fn start() -> (Peer, Arc<AsksBack>, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(AsksBack::default());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        handler.clone(),
        ServerConfig::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let (read, writer) = TcpStream::connect(addr).await.unwrap().into_split();
    let peer = Peer {
        reader: FrameReader::new(read, 1 << 20),
        writer,
    };
    (peer, handler, stop)
}

fn ask_back(opaque: i32, timeout_ms: u64) -> RemotingCommand {
    let mut request =
        RemotingCommand::request(ASK_BACK).with_ext_field("timeoutMs", timeout_ms.to_string());
    request.opaque = opaque;
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peers_answer_to_a_server_request_reaches_the_handler_that_asked() {
    let (mut peer, _handler, _stop) = start().await;
    peer.send(&ask_back(5, 10_000)).await;
    let question = peer.next().await;
    assert_eq!(question.code, ASKED);
    assert!(!question.is_response() && !question.is_oneway());
    assert_eq!(&question.body[..], b"question");
    // An answer to an opaque nobody asked with is ignored, not taken for the real one.
    let mut stray =
        RemotingCommand::response_to(&question, ResponseCode::Success).with_body("stray");
    stray.opaque = question.opaque.wrapping_add(1000);
    peer.send(&stray).await;
    peer.send(&RemotingCommand::response_to(&question, ResponseCode::Success).with_body("42"))
        .await;
    let answer = peer.next().await;
    assert!(answer.is_response());
    assert_eq!(answer.opaque, 5);
    assert_eq!(&answer.body[..], b"answer 42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_does_not_answer_in_time_fails_the_request_and_its_late_answer_is_dropped() {
    let (mut peer, _handler, _stop) = start().await;
    peer.send(&ask_back(1, 200)).await;
    let question = peer.next().await;
    let answer = peer.next().await;
    assert_eq!(answer.opaque, 1);
    let outcome = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(
        outcome.contains("did not answer request 220 within 200ms"),
        "{outcome}"
    );
    // The late answer changes nothing, and the connection still serves the next exchange.
    peer.send(&RemotingCommand::response_to(&question, ResponseCode::Success).with_body("late"))
        .await;
    peer.send(&ask_back(2, 10_000)).await;
    let question = peer.next().await;
    peer.send(&RemotingCommand::response_to(&question, ResponseCode::Success).with_body("on time"))
        .await;
    let answer = peer.next().await;
    assert_eq!(
        (answer.opaque, &answer.body[..]),
        (2, &b"answer on time"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_leaves_fails_the_servers_request_at_once_not_at_its_timeout() {
    let (mut peer, handler, _stop) = start().await;
    // A minute of time-out: only the close can end the wait within the test's bound.
    peer.send(&ask_back(1, 60_000)).await;
    let _question = peer.next().await;
    drop(peer);
    tokio::time::timeout(LONG, handler.recorded.notified())
        .await
        .expect("the request still waits after its peer left");
    let outcomes = handler.outcomes.lock().unwrap().clone();
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].contains("is closed"), "{outcomes:?}");
}
