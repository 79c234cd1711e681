use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;

/// Parses a fixture: hex bytes before a `#` on each line.
fn fixture(text: &str) -> Vec<u8> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|hex| hex.split_whitespace())
        .map(|byte| u8::from_str_radix(byte, 16).expect("fixture byte"))
        .collect()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

fn sample_fields() -> RecordFields<'static> {
    RecordFields {
        queue_id: 1,
        flag: 0,
        queue_offset: 5,
        physical_offset: 1024,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        born_host: addr("192.168.0.10:54321"),
        store_timestamp: 1_700_000_000_123,
        store_host: addr("10.0.0.1:10911"),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: b"Hello RocketMQ",
        topic: "TopicTest",
        properties: b"TAGS\x01TagA\x02WAIT\x01true\x02",
    }
}

#[test]
fn encoded_record_is_byte_identical_to_the_hand_checked_ipv4_fixture() {
    let expected = fixture(include_str!("../fixtures/record_v1_ipv4.hex"));
    let encoded = encode(&sample_fields()).unwrap();
    assert_eq!(encoded, expected);
    assert_eq!(encoded.len(), 134);
}

#[test]
fn encoded_record_is_byte_identical_to_the_hand_checked_ipv6_fixture() {
    let expected = fixture(include_str!("../fixtures/record_v1_bornhost_ipv6.hex"));
    let fields = RecordFields {
        queue_id: 3,
        flag: 7,
        queue_offset: 0,
        physical_offset: 0,
        sys_flag: 0,
        born_timestamp: 1,
        born_host: addr("[::1]:40000"),
        store_timestamp: 2,
        store_host: addr("127.0.0.1:10911"),
        reconsume_times: 2,
        prepared_transaction_offset: 0,
        body: b"v6",
        topic: "T6",
        properties: b"",
    };
    let encoded = encode(&fields).unwrap();
    assert_eq!(encoded, expected);
    let view = RecordView::decode(&encoded).unwrap();
    assert_eq!(view.sys_flag(), sysflag::BORNHOST_V6);
    assert_eq!(view.born_host(), addr("[::1]:40000"));
    assert_eq!(view.store_host(), addr("127.0.0.1:10911"));
}

#[test]
fn decoding_the_fixture_yields_every_field() {
    let raw = fixture(include_str!("../fixtures/record_v1_ipv4.hex"));
    let view = RecordView::decode(&raw).unwrap();
    let mut expected = sample_fields();
    expected.sys_flag = 0;
    assert_eq!(view.fields(), expected);
    assert_eq!(view.body_crc(), 1_774_740_973);
    view.verify_body_crc().unwrap();
}

#[test]
fn decode_reports_truncation_at_every_byte_of_a_record() {
    let raw = encode(&sample_fields()).unwrap();
    for cut in 0..raw.len() {
        let err = RecordView::decode(&raw[..cut]).unwrap_err();
        assert!(
            matches!(err, DecodeRecordError::Truncated { .. }),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn a_flipped_body_byte_fails_the_crc_check() {
    let mut raw = encode(&sample_fields()).unwrap();
    let view = RecordView::decode(&raw).unwrap();
    let body_at = view.total_size() - 2 - 20 - 9 - 1 - 14;
    raw[body_at] ^= 0x01;
    let view = RecordView::decode(&raw).unwrap();
    assert!(matches!(
        view.verify_body_crc(),
        Err(DecodeRecordError::BodyCrcMismatch { .. })
    ));
}

#[test]
fn a_size_that_disagrees_with_the_fields_is_rejected() {
    let mut raw = encode(&sample_fields()).unwrap();
    raw.extend_from_slice(&[0, 0, 0, 0]);
    let bigger = (raw.len() as i32).to_be_bytes();
    raw[..4].copy_from_slice(&bigger);
    assert!(matches!(
        RecordView::decode(&raw),
        Err(DecodeRecordError::SizeMismatch { .. })
    ));
}

#[test]
fn unknown_magic_and_blank_records_are_told_apart() {
    let blank = blank_header(4096);
    assert_eq!(
        peek_head(&blank).unwrap(),
        Some(RecordHead::Blank { total_size: 4096 })
    );
    let mut raw = encode(&sample_fields()).unwrap();
    raw[4] = 0;
    assert!(matches!(
        peek_head(&raw),
        Err(DecodeRecordError::BadMagic { .. })
    ));
    assert!(matches!(
        peek_head(&[0u8; 8]),
        Err(DecodeRecordError::BadTotalSize { declared: 0 })
    ));
    assert_eq!(peek_head(&[0u8; 7]).unwrap(), None);
}

#[test]
fn topics_longer_than_127_bytes_cannot_be_encoded() {
    let topic = "t".repeat(128);
    let fields = RecordFields {
        topic: &topic,
        ..sample_fields()
    };
    assert!(matches!(
        encode(&fields),
        Err(EncodeRecordError::TopicTooLong { len: 128, .. })
    ));
}

#[test]
fn decode_all_walks_concatenated_records_and_stops_at_garbage() {
    let mut raw = encode(&sample_fields()).unwrap();
    raw.extend(encode(&sample_fields()).unwrap());
    raw.extend_from_slice(&[0xFF; 9]);
    let results: Vec<_> = decode_all(&raw).collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    assert!(results[2].is_err());
}

fn arb_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
    ]
}

proptest! {
    #[test]
    fn decode_inverts_encode(
        queue_id in any::<i32>(),
        flag in any::<i32>(),
        queue_offset in any::<i64>(),
        physical_offset in any::<i64>(),
        sys_flag in any::<i32>(),
        born_timestamp in any::<i64>(),
        born_host in arb_addr(),
        store_timestamp in any::<i64>(),
        store_host in arb_addr(),
        reconsume_times in any::<i32>(),
        prepared in any::<i64>(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        topic in "[%|a-zA-Z0-9_-]{1,127}",
        properties in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let fields = RecordFields {
            queue_id, flag, queue_offset, physical_offset, sys_flag, born_timestamp, born_host,
            store_timestamp, store_host, reconsume_times,
            prepared_transaction_offset: prepared,
            body: &body, topic: &topic, properties: &properties,
        };
        let raw = encode(&fields).unwrap();
        prop_assert_eq!(raw.len(), encoded_len(&fields));
        let view = RecordView::decode(&raw).unwrap();
        view.verify_body_crc().unwrap();
        let mut expected = fields.clone();
        expected.sys_flag = (sys_flag & !(sysflag::BORNHOST_V6 | sysflag::STOREHOST_V6))
            | if born_host.is_ipv6() { sysflag::BORNHOST_V6 } else { 0 }
            | if store_host.is_ipv6() { sysflag::STOREHOST_V6 } else { 0 };
        prop_assert_eq!(view.fields(), expected);
    }
}

#[test]
fn verify_detects_a_tail_torn_inside_the_topic_or_the_properties() {
    let raw = encode(&sample_fields()).unwrap();
    RecordView::decode(&raw).unwrap().verify().unwrap();
    // Properties are the last 20 bytes, the topic the 9 before their 2-byte length.
    for zeroed in [1usize, 5, 20, 22 + 3] {
        let mut torn = raw.clone();
        let n = torn.len();
        torn[n - zeroed..].fill(0);
        let checked = RecordView::decode(&torn).and_then(|view| view.verify());
        assert!(
            matches!(
                checked,
                Err(DecodeRecordError::TornTail { .. } | DecodeRecordError::SizeMismatch { .. })
            ),
            "zeroed {zeroed}: {checked:?}"
        );
    }
}

#[test]
fn properties_with_or_without_the_trailing_separator_are_valid_as_apache_writes_both() {
    // 4.9.2-4.9.x write a single message's properties without the last 0x02; 4.7-4.9.0 and 5.x
    // keep it.
    for properties in [
        &b"KEYS\x01k1\x02UNIQ_KEY\x01AC11\x02CLUSTER\x01c"[..],
        &b"KEYS\x01k1\x02UNIQ_KEY\x01AC11\x02CLUSTER\x01c\x02"[..],
        &b""[..],
    ] {
        let fields = RecordFields {
            properties,
            ..sample_fields()
        };
        let raw = encode(&fields).unwrap();
        let checked = RecordView::decode(&raw).and_then(|view| view.verify());
        assert!(checked.is_ok(), "{properties:?}: {checked:?}");
    }
}

/// The V2 form of a V1 record, as Apache 5.x writes records whose topic is longer than 127
/// bytes (`MessageVersion.MESSAGE_VERSION_V2`): magic 0xDAA320AB and a 2-byte topic length.
fn to_v2(v1: &[u8], fields: &RecordFields<'_>) -> Vec<u8> {
    let topic_len_at = v1.len() - 2 - fields.properties.len() - fields.topic.len() - 1;
    let mut v2 = Vec::with_capacity(v1.len() + 1);
    v2.extend_from_slice(&((v1.len() + 1) as i32).to_be_bytes());
    v2.extend_from_slice(&MAGIC_V2.to_be_bytes());
    v2.extend_from_slice(&v1[8..topic_len_at]);
    v2.extend_from_slice(&(fields.topic.len() as u16).to_be_bytes());
    v2.extend_from_slice(&v1[topic_len_at + 1..]);
    v2
}

#[test]
fn a_5x_v2_record_with_a_long_topic_and_ipv6_hosts_decodes_and_verifies() {
    let topic = "t".repeat(100);
    let fields = RecordFields {
        topic: &topic,
        born_host: addr("[2001:db8::7]:40000"),
        store_host: addr("[2001:db8::1]:10911"),
        properties: b"UNIQ_KEY\x01AB\x02TAGS\x01x\x02",
        ..sample_fields()
    };
    let v1 = encode(&fields).unwrap();
    let v2 = to_v2(&v1, &fields);
    let view = RecordView::decode(&v2).unwrap();
    view.verify().unwrap();
    assert_eq!(view.magic(), MAGIC_V2);
    assert_eq!(view.topic(), topic);
    assert_eq!(view.born_host(), fields.born_host);
    assert_eq!(view.store_host(), fields.store_host);
    assert_eq!(view.properties(), fields.properties);
    assert_eq!(view.body(), fields.body);
}

#[test]
fn a_declared_size_below_the_head_is_an_error_not_a_panic_whatever_follows() {
    for size in 1..8u8 {
        let mut buf = vec![0, 0, 0, size];
        buf.extend_from_slice(&MAGIC_V1.to_be_bytes());
        buf.extend_from_slice(&[0u8; 64]);
        assert!(matches!(
            RecordView::decode(&buf),
            Err(DecodeRecordError::BadTotalSize { .. })
        ));
    }
}

#[test]
fn fields_no_broker_writes_are_errors_so_every_decoded_v1_record_re_encodes_to_its_bytes() {
    let raw = encode(&sample_fields()).unwrap();
    let born_port_at = pos::BORN_HOST + 4;
    let props_len_at = raw.len() - sample_fields().properties.len() - 2;
    let topic_len_at = props_len_at - sample_fields().topic.len() - 1;
    for (at, bytes) in [
        (born_port_at, &[0xff, 0xff, 0xff, 0xff][..]),
        (born_port_at, &[0x00, 0x01, 0x00, 0x00][..]),
        (props_len_at, &[0xff, 0xff][..]),
        (topic_len_at, &[0xc8][..]),
    ] {
        let mut bad = raw.clone();
        bad[at..at + bytes.len()].copy_from_slice(bytes);
        assert!(
            matches!(
                RecordView::decode(&bad),
                Err(DecodeRecordError::BadField { .. }
                    | DecodeRecordError::SizeMismatch { .. }
                    | DecodeRecordError::Truncated { .. })
            ),
            "{at}: {:?}",
            RecordView::decode(&bad)
        );
    }
}
