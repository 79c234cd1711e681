//! Arbitrary bytes as a SEND_BATCH_MESSAGE body: decoding must never panic, and the messages it
//! yields must take every byte, encode back to the same bytes (magic and body CRC aside: clients
//! send them as 0 and the decoder ignores them) and decode again to the same messages.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use rmq_protocol::batch;

fuzz_target!(|data: &[u8]| {
    let Ok(messages) = batch::decode(&Bytes::copy_from_slice(data)) else {
        return;
    };
    let mut expected = data.to_vec();
    let mut at = 0;
    for message in &messages {
        expected[at + 4..at + 12].fill(0);
        at += message.encoded_len();
    }
    assert_eq!(at, data.len(), "the messages do not cover the body");
    let mut encoded = BytesMut::new();
    batch::encode(&messages, &mut encoded).expect("decoded messages encode");
    assert_eq!(&encoded[..], &expected[..]);
    let again = batch::decode(&encoded.freeze()).expect("an encoded batch decodes");
    assert_eq!(again, messages);
});
