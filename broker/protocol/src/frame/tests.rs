use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::language::LanguageCode;

const JSON_HEADER: &[u8] = br#"{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#;

fn route_query(serialize_type: SerializeType) -> RemotingCommand {
    let mut command = RemotingCommand::request(105)
        .with_ext_field("topic", "T")
        .with_body(&b"hi"[..]);
    command.opaque = 7;
    command.version = 479;
    command.serialize_type = serialize_type;
    command
}

/// 4 (length) + 4 (hdrInfo) + 123 (header) + 2 (body); length = 4 + 123 + 2 = 129.
fn json_frame_fixture() -> Vec<u8> {
    let mut frame = vec![0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00, 0x7B];
    frame.extend_from_slice(JSON_HEADER);
    frame.extend_from_slice(b"hi");
    frame
}

/// Header of 33 bytes (21 fixed + 12 ext); length = 4 + 33 + 2 = 39; hdrInfo = 1 << 24 | 33.
#[rustfmt::skip]
const ROCKETMQ_FRAME: &[u8] = &[
    0x00, 0x00, 0x00, 0x27,
    0x01, 0x00, 0x00, 0x21,
    0x00, 0x69, 0x00, 0x01, 0xDF,
    0x00, 0x00, 0x00, 0x07,
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x0C,
    0x00, 0x05, b't', b'o', b'p', b'i', b'c', 0x00, 0x00, 0x00, 0x01, b'T',
    b'h', b'i',
];

fn encoded(command: &RemotingCommand) -> Vec<u8> {
    let mut dst = BytesMut::new();
    encode(command, &mut dst).unwrap();
    dst.to_vec()
}

#[test]
fn json_frame_has_the_hand_computed_bytes() {
    let fixture = json_frame_fixture();
    assert_eq!(fixture.len(), 133);
    assert_eq!(encoded(&route_query(SerializeType::Json)), fixture);
    assert_eq!(
        parse(Bytes::from(fixture)).unwrap(),
        route_query(SerializeType::Json)
    );
}

#[test]
fn rocketmq_frame_has_the_hand_computed_bytes() {
    assert_eq!(
        encoded(&route_query(SerializeType::RocketMq)),
        ROCKETMQ_FRAME
    );
    assert_eq!(
        parse(Bytes::from_static(ROCKETMQ_FRAME)).unwrap(),
        route_query(SerializeType::RocketMq)
    );
}

#[test]
fn truncation_at_every_byte_is_incomplete() {
    for frame in [json_frame_fixture(), ROCKETMQ_FRAME.to_vec()] {
        for cut in 0..frame.len() {
            let checked = check(&frame[..cut], MAX_FRAME_LEN).unwrap();
            assert!(
                matches!(checked, FrameCheck::Incomplete { .. }),
                "cut at {cut}"
            );
            let mut buf = BytesMut::from(&frame[..cut]);
            assert!(
                decode(&mut buf, MAX_FRAME_LEN).unwrap().is_none(),
                "cut at {cut}"
            );
            assert_eq!(buf.len(), cut, "an incomplete frame must stay buffered");
            assert!(matches!(
                parse(Bytes::copy_from_slice(&frame[..cut])),
                Err(DecodeFrameError::Incomplete { .. })
            ));
        }
        assert_eq!(
            check(&frame, MAX_FRAME_LEN).unwrap(),
            FrameCheck::Complete {
                frame_len: frame.len()
            }
        );
    }
}

#[test]
fn incomplete_reports_the_frame_length_once_known() {
    let frame = json_frame_fixture();
    assert_eq!(
        check(&frame[..3], MAX_FRAME_LEN).unwrap(),
        FrameCheck::Incomplete { frame_len: None }
    );
    assert_eq!(
        check(&frame[..4], MAX_FRAME_LEN).unwrap(),
        FrameCheck::Incomplete {
            frame_len: Some(133)
        }
    );
}

#[test]
fn decode_takes_frames_one_by_one_off_a_buffer() {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&json_frame_fixture());
    buf.extend_from_slice(ROCKETMQ_FRAME);
    buf.extend_from_slice(&ROCKETMQ_FRAME[..5]);
    let first = decode(&mut buf, MAX_FRAME_LEN).unwrap().unwrap();
    let second = decode(&mut buf, MAX_FRAME_LEN).unwrap().unwrap();
    assert_eq!(first.serialize_type, SerializeType::Json);
    assert_eq!(second.serialize_type, SerializeType::RocketMq);
    assert_eq!(&second.body[..], b"hi");
    assert!(decode(&mut buf, MAX_FRAME_LEN).unwrap().is_none());
    assert_eq!(buf.len(), 5);
}

#[test]
fn oversized_frame_is_rejected_from_its_length_field_alone() {
    let length = (MAX_FRAME_LEN as i32 - 3).to_be_bytes();
    assert_eq!(
        check(&length, MAX_FRAME_LEN),
        Err(CheckFrameError::TooLong {
            frame_len: MAX_FRAME_LEN + 1,
            max: MAX_FRAME_LEN
        })
    );
    let exactly_max = (MAX_FRAME_LEN as i32 - 4).to_be_bytes();
    assert!(matches!(
        check(&exactly_max, MAX_FRAME_LEN),
        Ok(FrameCheck::Incomplete { .. })
    ));
}

#[test]
fn negative_and_too_short_lengths_are_rejected() {
    assert_eq!(
        check(&(-1i32).to_be_bytes(), MAX_FRAME_LEN),
        Err(CheckFrameError::NegativeLength { length: -1 })
    );
    assert_eq!(
        check(&i32::MIN.to_be_bytes(), MAX_FRAME_LEN),
        Err(CheckFrameError::NegativeLength { length: i32::MIN })
    );
    assert_eq!(
        check(&3i32.to_be_bytes(), MAX_FRAME_LEN),
        Err(CheckFrameError::TooShort { length: 3 })
    );
}

#[test]
fn header_longer_than_frame_is_rejected_before_the_frame_arrives() {
    // length 10 leaves 6 bytes for header and body; the header claims 7.
    let prefix = [0, 0, 0, 10, 0, 0, 0, 7];
    assert_eq!(
        check(&prefix, MAX_FRAME_LEN),
        Err(CheckFrameError::HeaderLongerThanFrame {
            header_len: 7,
            length: 10
        })
    );
    let fits = [0, 0, 0, 10, 0, 0, 0, 6];
    assert!(matches!(
        check(&fits, MAX_FRAME_LEN),
        Ok(FrameCheck::Incomplete { .. })
    ));
}

#[test]
fn unknown_serialize_type_is_rejected() {
    assert_eq!(
        check(&[0, 0, 0, 4, 2, 0, 0, 0], MAX_FRAME_LEN),
        Err(CheckFrameError::UnknownSerializeType { code: 2 })
    );
}

#[test]
fn frame_without_header_bytes_is_a_header_error_not_a_panic() {
    let frame = Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 0]);
    assert!(matches!(
        parse(frame),
        Err(DecodeFrameError::Header {
            serialize_type: SerializeType::Json,
            ..
        })
    ));
    let frame = Bytes::from_static(&[0, 0, 0, 4, 1, 0, 0, 0]);
    assert!(matches!(
        parse(frame),
        Err(DecodeFrameError::Header {
            serialize_type: SerializeType::RocketMq,
            ..
        })
    ));
}

#[test]
fn parse_rejects_bytes_beyond_one_frame() {
    let mut bytes = json_frame_fixture();
    bytes.push(0);
    assert!(matches!(
        parse(Bytes::from(bytes)),
        Err(DecodeFrameError::TrailingBytes {
            frame_len: 133,
            len: 134
        })
    ));
}

#[test]
fn cpp_client_frame_with_trailing_newline_decodes() {
    let header = b"{\"code\":105,\"extFields\":{\"AccessKey\":\"\",\"OnsChannel\":\"ALIYUN\",\"Signature\":\"s\",\"topic\":\"X1\"},\"flag\":0,\"language\":\"CPP\",\"opaque\":0,\"remark\":\"\",\"version\":63}\n";
    let mut frame = Vec::new();
    frame.extend_from_slice(&(4 + header.len() as i32).to_be_bytes());
    frame.extend_from_slice(&(header.len() as i32).to_be_bytes());
    frame.extend_from_slice(header);
    let command = parse(Bytes::from(frame)).unwrap();
    assert_eq!(command.language, LanguageCode::Cpp);
    assert_eq!(&command.ext_fields["topic"], "X1");
    assert!(command.body.is_empty());
}

#[test]
fn encode_head_leaves_the_body_to_the_writer() {
    let command = route_query(SerializeType::Json);
    let mut head = BytesMut::new();
    encode_head(&command, &mut head).unwrap();
    let fixture = json_frame_fixture();
    assert_eq!(&head[..], &fixture[..fixture.len() - 2]);
}

#[test]
fn failed_encode_leaves_the_buffer_as_it_was() {
    let mut command = route_query(SerializeType::RocketMq);
    command.code = 200_050;
    let mut dst = BytesMut::from(&b"kept"[..]);
    assert!(matches!(
        encode(&command, &mut dst),
        Err(EncodeFrameError::Header { .. })
    ));
    assert_eq!(&dst[..], b"kept");
}

fn any_command() -> impl Strategy<Value = RemotingCommand> {
    (
        any::<i16>(),
        0..LanguageCode::ALL.len(),
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of(".{1,20}"),
        proptest::collection::btree_map("[a-zA-Z]{1,8}", ".{1,12}", 0..6),
        proptest::collection::vec(any::<u8>(), 0..64),
        prop_oneof![Just(SerializeType::Json), Just(SerializeType::RocketMq)],
    )
        .prop_map(
            |(code, language, version, opaque, flag, remark, ext_fields, body, serialize_type)| {
                RemotingCommand {
                    code: i32::from(code),
                    language: LanguageCode::ALL[language],
                    version: i32::from(version),
                    opaque,
                    flag,
                    remark,
                    ext_fields: ext_fields.into_iter().collect(),
                    body: Bytes::from(body),
                    serialize_type,
                }
            },
        )
}

proptest! {
    #[test]
    fn any_command_survives_a_frame_round_trip(command in any_command()) {
        let bytes = encoded(&command);
        prop_assert_eq!(check(&bytes, MAX_FRAME_LEN).unwrap(), FrameCheck::Complete { frame_len: bytes.len() });
        prop_assert_eq!(parse(Bytes::from(bytes)).unwrap(), command);
    }

    #[test]
    fn any_prefix_of_a_frame_is_incomplete(command in any_command(), cut in any::<prop::sample::Index>()) {
        let bytes = encoded(&command);
        let cut = cut.index(bytes.len());
        let incomplete = matches!(check(&bytes[..cut], MAX_FRAME_LEN), Ok(FrameCheck::Incomplete { .. }));
        prop_assert!(incomplete, "cut at {}", cut);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = decode(&mut buf, MAX_FRAME_LEN);
        let _ = crate::header::decode(SerializeType::Json, &bytes);
        let _ = crate::header::decode(SerializeType::RocketMq, &bytes);
    }
}
