//! Arbitrary bytes as a connection's read buffer: decoding must never panic, and every command
//! it yields must survive re-encoding.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rmq_protocol::frame::{self, MAX_FRAME_LEN};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(command)) = frame::decode(&mut buf, MAX_FRAME_LEN) {
        let mut encoded = BytesMut::new();
        if frame::encode(&command, &mut encoded).is_ok() {
            let again = frame::decode(&mut encoded, MAX_FRAME_LEN)
                .expect("a frame we encoded decodes")
                .expect("a frame we encoded is complete");
            assert_eq!(again.code, command.code);
            assert_eq!(again.opaque, command.opaque);
            assert_eq!(again.body, command.body);
        }
    }
});
