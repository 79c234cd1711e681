//! Arbitrary text as Java `Properties` (broker.conf, namesrv.properties, and the bodies of
//! UPDATE_BROKER_CONFIG / GET_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG): parsing must never panic,
//! and the entries it reads must be written (`properties::write`) as text that parses back to
//! the same entries, also when collected into a map (`string_to_properties`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_protocol::body::properties;
use rmq_protocol::command::broker_config::{properties_to_string, string_to_properties};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let entries = properties::parse(text);
    let written = properties::write(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(
        properties::parse(&written),
        entries,
        "written as {written:?}"
    );

    let map = string_to_properties(text);
    let written = properties_to_string(&map);
    assert_eq!(
        string_to_properties(&written),
        map,
        "written as {written:?}"
    );
});
