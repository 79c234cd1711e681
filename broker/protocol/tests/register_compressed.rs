#![allow(clippy::unwrap_used)]
//! Compact REGISTER_BROKER bodies deflated by the JDK's own zlib (`java.util.zip`), as a broker
//! with `compressedRegister=true` sends them; `fixtures/RegisterCompressed.java` wrote them.

use rmq_protocol::body::register_compressed::decode;
use rmq_protocol::body::topic_config::TopicFilterType;

#[test]
fn a_5x_broker_s_compact_body_yields_its_topics_version_and_filter_servers() {
    let body = decode(include_bytes!("fixtures/register-compressed-5x.bin")).unwrap();
    let wrapper = &body.topic_config_serialize_wrapper;
    assert_eq!(wrapper.data_version.counter, 12);
    assert_eq!(wrapper.data_version.state_version, Some(3));
    assert_eq!(wrapper.data_version.timestamp, 1_700_000_000_123);
    let names: Vec<&str> = wrapper
        .topic_config_table
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["%RETRY%billing", "Fifo", "Orders"]);
    let orders = &wrapper.topic_config_table["Orders"];
    assert_eq!(
        (orders.read_queue_nums, orders.write_queue_nums, orders.perm),
        (8, 8, 6)
    );
    assert!(orders.attributes.is_empty());
    let fifo = &wrapper.topic_config_table["Fifo"];
    assert_eq!(fifo.topic_filter_type, TopicFilterType::MultiTag);
    assert_eq!(fifo.attributes["+message.type"], "FIFO");
    assert_eq!(body.filter_server_list, ["10.0.0.9:30000"]);
}

#[test]
fn a_4x_broker_s_compact_body_without_mappings_or_attributes_is_read_too() {
    let body = decode(include_bytes!("fixtures/register-compressed-4x.bin")).unwrap();
    let wrapper = &body.topic_config_serialize_wrapper;
    assert_eq!(wrapper.data_version.counter, 5);
    assert_eq!(wrapper.data_version.state_version, None);
    let legacy = &wrapper.topic_config_table["Legacy"];
    assert_eq!(
        (legacy.read_queue_nums, legacy.write_queue_nums, legacy.perm),
        (4, 2, 4)
    );
    assert_eq!(wrapper.topic_config_table["TBW102"].perm, 7);
    assert!(body.filter_server_list.is_empty());
}
