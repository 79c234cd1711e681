//! Request signatures made by real clients, checked with the broker's rule.
//!
//! `fixtures/acl-signed-frames.jsonl` holds JSON headers and bodies exactly as the clients this
//! project tests against sent them (PyPI `rocketmq` 0.4.4 and `rocketmq-client-python`
//! 0.5.0rc2, both the C++ client, and npm `ali-ons` 3.12.0), each configured with access key
//! `RocketMQ` and secret `12345678`: route lookups, sends (v1 and v2), heartbeats, pulls, offset
//! commits. The C++ client and ali-ons write some ext field values as JSON numbers and booleans;
//! they sign their decimal text, so the header decoder must keep that text for the signature to
//! hold.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use rmq_protocol::acl::{SIGNATURE, signed_content, verify, verify_request};

const SECRET: &str = "12345678";

struct Frame {
    client: String,
    code: i64,
    header: String,
    body: Vec<u8>,
}

fn frames() -> Vec<Frame> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/acl-signed-frames.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            Frame {
                client: v["client"].as_str().unwrap().to_owned(),
                code: v["code"].as_i64().unwrap(),
                header: v["raw_header"].as_str().unwrap().to_owned(),
                body: base64::engine::general_purpose::STANDARD
                    .decode(v["body_b64"].as_str().unwrap())
                    .unwrap(),
            }
        })
        .collect()
}

#[test]
fn every_signature_a_real_client_sent_verifies_with_its_secret_and_no_other() {
    let frames = frames();
    assert!(frames.len() >= 20, "{} frames", frames.len());
    let mut codes: Vec<i64> = frames.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in [10, 11, 15, 34, 105, 310] {
        assert!(codes.contains(&code), "no frame of code {code}");
    }
    for frame in &frames {
        let command = rmq_protocol::header::json::decode(frame.header.as_bytes()).unwrap();
        let signature = command.ext_fields.get(SIGNATURE).unwrap().to_owned();
        let content = signed_content(command.ext_fields.iter(), &frame.body);
        assert!(
            verify(SECRET, &content, &signature),
            "{} code {}: {}",
            frame.client,
            frame.code,
            String::from_utf8_lossy(&content)
        );
        assert!(!verify("12345679", &content, &signature));
        assert!(verify_request(
            SECRET,
            command.ext_fields.iter(),
            &frame.body,
            &signature
        ));
    }
}
