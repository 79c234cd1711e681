//! What the ACL check adds to one request on the hot path: a signed SEND_MESSAGE_V2 with the
//! fields a Java producer sends and a 128-byte body, checked against an account with topic
//! permissions, and the parts of that check on their own.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use rmq_broker::acl::{gate, needs, rules::AclRules};
use rmq_protocol::RemotingCommand;

const FILE: &str = "\
accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms: [BenchTopic=PUB|SUB, Other=SUB]
";

fn send() -> RemotingCommand {
    let mut request = RemotingCommand::request(310_i32).with_body(vec![b'x'; 128]);
    for (key, value) in [
        ("a", "bench-producer"),
        ("b", "BenchTopic"),
        ("c", "TBW102"),
        ("d", "4"),
        ("e", "3"),
        ("f", "0"),
        ("g", "1765123456789"),
        ("h", "0"),
        (
            "i",
            "UNIQ_KEY\u{1}7F0000010001000000000000000000AB\u{2}WAIT\u{1}true\u{2}",
        ),
        ("j", "0"),
        ("k", "false"),
        ("m", "false"),
    ] {
        request.ext_fields.insert(key, value);
    }
    rmq_protocol::acl::sign(&mut request, "RocketMQ", "12345678");
    request
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("plain_acl.yml");
    std::fs::write(&path, FILE).expect("plain_acl.yml written");
    let rules = AclRules::load(path).expect("the rules load");
    let peer: SocketAddr = "10.1.2.3:40000".parse().expect("an address");
    let request = send();
    assert_eq!(gate::refused(&rules, peer, &request), None);
    let key = rmq_protocol::acl::SigningKey::new("12345678");
    let signature = request
        .ext_fields
        .get("Signature")
        .expect("signed")
        .to_owned();

    c.bench_function("acl/send_v2_checked", |b| {
        b.iter(|| gate::refused(&rules, peer, black_box(&request)))
    });
    c.bench_function("acl/send_v2_needs", |b| {
        b.iter(|| {
            let ext = &black_box(&request).ext_fields;
            needs::needs(310, |name| ext.get(name), &request.body)
        })
    });
    c.bench_function("acl/send_v2_signature_verified", |b| {
        b.iter(|| {
            let ext = &black_box(&request).ext_fields;
            key.verify_request(ext.iter(), &request.body, &signature)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
