//! The remoting codec on the send path, per message: what a broker and a client each spend
//! on one SEND_MESSAGE_V2 request and its response, without the network.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, criterion_group, criterion_main};
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::send_message::{
    MSG_REGION, SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
    TRACE_ON,
};
use rmq_protocol::frame;
use rmq_protocol::message::properties::{self, keys};

/// A send as a Java producer writes it: V2 keys, `UNIQ_KEY` and `WAIT`, 128 B body.
fn send_request() -> RemotingCommand {
    let mut props = Vec::new();
    properties::push_property(&mut props, keys::WAIT, "true");
    properties::push_property(
        &mut props,
        keys::UNIQ_KEY,
        "7F00000100002A9F00000000000004D2",
    );
    let header = SendMessageRequestHeaderV2 {
        producer_group: "benchmark_producer".into(),
        topic: "BenchTopic".into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: 3,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_123,
        flag: 0,
        properties: Some(String::from_utf8(props).expect("ascii")),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        max_reconsume_times: None,
        batch: Some(false),
        broker_name: None,
    };
    RemotingCommand::request_with_header(RequestCode::SendMessageV2, &header)
        .with_body(Bytes::from(vec![b'x'; 128]))
}

fn send_response(request: &RemotingCommand) -> RemotingCommand {
    let header = SendMessageResponseHeader {
        msg_id: "7F00000100002A9F0000000000A1B2C3".into(),
        queue_id: 3,
        queue_offset: 1_234_567,
        transaction_id: None,
        batch_uniq_id: None,
        recall_handle: None,
    };
    RemotingCommand::response_to(request, ResponseCode::Success)
        .with_header(&header)
        .with_ext_field(MSG_REGION, "DefaultRegion")
        .with_ext_field(TRACE_ON, "true")
}

fn encoded(command: &RemotingCommand) -> Bytes {
    let mut buf = BytesMut::new();
    frame::encode(command, &mut buf).expect("encodes");
    buf.freeze()
}

fn codec(c: &mut Criterion) {
    let request = send_request();
    let request_frame = encoded(&request);
    let response = send_response(&request);
    let response_frame = encoded(&response);
    let mut out = BytesMut::with_capacity(64 * 1024);

    c.bench_function("broker: decode a send request and read its header", |b| {
        b.iter(|| {
            let command = frame::parse(black_box(request_frame.clone())).expect("parses");
            let header = SendMessageRequestHeader::from_request(command.code, &command.ext_fields)
                .expect("reads");
            black_box((command, header))
        })
    });
    let decoded = frame::parse(request_frame.clone()).expect("parses");
    c.bench_function("broker: decode a send request frame", |b| {
        b.iter(|| black_box(frame::parse(black_box(request_frame.clone())).expect("parses")))
    });
    c.bench_function("broker: read a decoded send request's header", |b| {
        b.iter(|| {
            black_box(
                SendMessageRequestHeader::from_request(
                    decoded.code,
                    black_box(&decoded.ext_fields),
                )
                .expect("reads"),
            )
        })
    });
    c.bench_function("broker: build and encode a send response", |b| {
        b.iter(|| {
            out.clear();
            frame::encode(&send_response(black_box(&request)), &mut out).expect("encodes");
            black_box(out.len())
        })
    });
    c.bench_function("client: build and encode a send request", |b| {
        b.iter(|| {
            out.clear();
            frame::encode(&send_request(), &mut out).expect("encodes");
            black_box(out.len())
        })
    });
    c.bench_function("client: decode a send response and read its header", |b| {
        b.iter(|| {
            let command = frame::parse(black_box(response_frame.clone())).expect("parses");
            black_box(
                command
                    .decode_header::<SendMessageResponseHeader>()
                    .expect("reads"),
            )
        })
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
