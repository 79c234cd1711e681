//! Arbitrary bytes as a REGISTER_BROKER body, in every form a broker sends it: plain JSON
//! (`RegisterBrokerBody`, its `TopicConfigSerializeWrapper`, the `DataVersion` of
//! QUERY_DATA_VERSION; standard JSON or fastjson's bare integer keys) and the compressed form
//! (`compressedRegister=true`). Decoding must never panic; what decodes must write
//! (`to_json`, `register_compressed::encode`) and read back to the same value.
//!
//! Input: all of it is tried as JSON. For the compressed form, byte 0 decides: even, the rest is
//! the zlib stream as received; odd, the rest is deflated first, so that mutations reach the
//! section parser behind the inflater.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use rmq_protocol::body::register_compressed;
use rmq_protocol::body::topic_config::{
    DataVersion, RegisterBrokerBody, TopicConfigSerializeWrapper,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = RegisterBrokerBody::decode(data) {
        let json = body.to_json().expect("a decoded body writes");
        assert_eq!(
            RegisterBrokerBody::decode(&json).expect("a written body reads"),
            body
        );
        // A name server reads what a compressing broker sends: the compact form must carry
        // every field it has (topicSysFlag and order travel as their defaults by design).
        let mut compact_view = body.clone();
        for topic in compact_view
            .topic_config_serialize_wrapper
            .topic_config_table
            .values_mut()
        {
            topic.topic_sys_flag = 0;
            topic.order = false;
        }
        if compact_view
            .topic_config_serialize_wrapper
            .topic_config_table
            .iter()
            .all(|(name, topic)| compact_line_safe(name, &topic.topic_name))
        {
            let compact = register_compressed::encode(&compact_view);
            let read =
                register_compressed::decode(&compact).expect("an encoded compact body reads");
            assert_eq!(read, compact_view);
        }
    }
    if let Ok(wrapper) = TopicConfigSerializeWrapper::decode(data) {
        let json = wrapper.to_json().expect("a decoded wrapper writes");
        assert_eq!(
            TopicConfigSerializeWrapper::decode(&json).expect("a written wrapper reads"),
            wrapper
        );
    }
    if let Ok(version) = DataVersion::decode(data) {
        let json = serde_json::to_vec(&version).expect("a data version writes");
        assert_eq!(
            DataVersion::decode(&json).expect("a written data version reads"),
            version
        );
    }

    let [mode, rest @ ..] = data else {
        return;
    };
    let deflated;
    let compressed = if mode % 2 == 0 {
        rest
    } else {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(rest).expect("deflating into memory");
        deflated = encoder.finish().expect("deflating into memory");
        &deflated[..]
    };
    if let Ok(body) = register_compressed::decode(compressed) {
        let compact = register_compressed::encode(&body);
        let again = register_compressed::decode(&compact).expect("a re-encoded body reads");
        assert_eq!(again, body);
    }
});

/// Whether a topic survives the compact form's space-separated line: its table key is its name
/// and the name is one non-empty word (what a broker's topic table holds).
fn compact_line_safe(key: &str, name: &str) -> bool {
    key == name && !name.is_empty() && !name.contains(' ')
}
