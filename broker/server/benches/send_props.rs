//! The one pass over a send's property string ([`SendProps::scan`]) every message takes on the
//! hot path: the properties a Java producer sends (keys, tags, `UNIQ_KEY`, `WAIT`) and a 5.x
//! client's timer message.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rmq_broker::processor::send::decide::SendProps;

fn java() -> Vec<u8> {
    b"KEYS\x01order-42\x02TAGS\x01TagA\x02UNIQ_KEY\x017F0000010001000000000000000000AB\x02WAIT\x01true\x02"
        .to_vec()
}

fn timer() -> Vec<u8> {
    b"KEYS\x01order-42\x02TIMER_DELIVER_MS\x011765123456789\x02UNIQ_KEY\x017F0000010001000000000000000000AB\x02WAIT\x01true\x02"
        .to_vec()
}

fn bench(c: &mut Criterion) {
    let (java, timer) = (java(), timer());
    c.bench_function("send_props/scan_java_producer", |b| {
        b.iter(|| SendProps::scan(black_box(&java)))
    });
    c.bench_function("send_props/scan_timer_message", |b| {
        b.iter(|| SendProps::scan(black_box(&timer)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
