//! Arbitrary text as an offset message id (VIEW_MESSAGE_BY_ID, QUERY_MESSAGE by id, rmqctl):
//! parsing must never panic, a parsed id must be made of hex digits only, and the id written for
//! the parsed address and offset must parse to the same address and offset — and be the input
//! itself (in upper case) when the port field fits a port.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rmq_protocol::message::msg_id::{offset_msg_id, parse_offset_msg_id};

fuzz_target!(|data: &[u8]| {
    let Ok(id) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((addr, offset)) = parse_offset_msg_id(id) else {
        return;
    };
    assert!(
        id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id:?} parsed but is not hex"
    );
    let written = offset_msg_id(addr, offset);
    assert_eq!(parse_offset_msg_id(&written), Ok((addr, offset)));
    let ip_hex = if addr.is_ipv4() { 8 } else { 32 };
    let port_field = u32::from_str_radix(&id[ip_hex..ip_hex + 8], 16).ok();
    if port_field.is_some_and(|port| port <= u32::from(u16::MAX)) {
        assert_eq!(written, id.to_ascii_uppercase());
    }
});
