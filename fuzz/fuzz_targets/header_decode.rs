//! Arbitrary bytes as a JSON and as a ROCKETMQ header: decoding must never panic, and a decoded
//! header must survive re-encoding in the same serialization.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rmq_protocol::SerializeType;
use rmq_protocol::header;

fuzz_target!(|data: &[u8]| {
    for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
        if let Ok(command) = header::decode(serialize_type, data) {
            let mut encoded = BytesMut::new();
            if header::encode(&command, &mut encoded).is_ok() {
                let again = header::decode(serialize_type, &encoded).expect("a header we encoded decodes");
                assert_eq!(again.code, command.code);
                assert_eq!(again.ext_fields.len(), command.ext_fields.len());
            }
        }
    }
});
