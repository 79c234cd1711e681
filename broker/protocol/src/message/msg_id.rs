//! Offset message ids: uppercase hex of `store host address | port (i32) | commit log offset (i64)`.
//!
//! 32 hex characters for an IPv4 store host, 56 for IPv6 (`MessageDecoder.createMessageId`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a string is not an offset message id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseMsgIdError {
    #[error("message id {id:?} has {len} characters; expected 32 (IPv4) or 56 (IPv6)")]
    BadLength { id: String, len: usize },
    #[error("message id {id:?} is not hexadecimal")]
    NotHex { id: String },
}

/// Builds the offset message id of the record at `offset` stored by `store_host`.
pub fn offset_msg_id(store_host: SocketAddr, offset: i64) -> String {
    let mut bytes = Vec::with_capacity(28);
    match store_host.ip() {
        IpAddr::V4(ip) => bytes.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => bytes.extend_from_slice(&ip.octets()),
    }
    bytes.extend_from_slice(&i32::from(store_host.port()).to_be_bytes());
    bytes.extend_from_slice(&offset.to_be_bytes());
    to_hex(&bytes)
}

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Uppercase hex, as Apache's `UtilAll.bytes2string`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// [`to_hex`] without allocating: writes two digits per byte into `out`, as far as `out`
/// reaches (twice `bytes.len()` takes them all).
pub fn write_hex(bytes: &[u8], out: &mut [u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_DIGITS[usize::from(b >> 4)];
        pair[1] = HEX_DIGITS[usize::from(b & 0xf)];
    }
}

fn from_hex(id: &str) -> Result<Vec<u8>, ParseMsgIdError> {
    let not_hex = || ParseMsgIdError::NotHex { id: id.to_owned() };
    // `from_str_radix` alone would take a leading '+' as a sign.
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_hex());
    }
    (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).map_err(|_| not_hex()))
        .collect()
}

/// Splits an offset message id into the store host and the commit log offset.
pub fn parse_offset_msg_id(id: &str) -> Result<(SocketAddr, i64), ParseMsgIdError> {
    let ip_len = match id.len() {
        32 => 4,
        56 => 16,
        len => {
            return Err(ParseMsgIdError::BadLength {
                id: id.to_owned(),
                len,
            });
        }
    };
    let bytes = from_hex(id)?;
    let ip = if ip_len == 4 {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    } else {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&bytes[..16]);
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    let mut port = [0u8; 4];
    port.copy_from_slice(&bytes[ip_len..ip_len + 4]);
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&bytes[ip_len + 4..ip_len + 12]);
    Ok((
        SocketAddr::new(ip, i32::from_be_bytes(port) as u16),
        i64::from_be_bytes(offset),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_with_a_sign_or_any_non_hex_character_is_refused() {
        for id in [
            "+0000000000000000000000000000000",
            "-0000000000000000000000000000000",
            "0000000000000000000000000000000g",
        ] {
            assert!(
                matches!(parse_offset_msg_id(id), Err(ParseMsgIdError::NotHex { .. })),
                "{id}"
            );
        }
    }

    #[test]
    fn to_hex_and_write_hex_write_every_byte_as_two_uppercase_digits() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(to_hex(&all), expected);
        let mut written = vec![0u8; 512];
        write_hex(&all, &mut written);
        assert_eq!(written, expected.as_bytes());
    }

    #[test]
    fn offset_msg_id_is_uppercase_hex_of_host_port_and_offset() {
        let host: SocketAddr = "10.0.0.1:10911".parse().unwrap();
        assert_eq!(
            offset_msg_id(host, 1024),
            "0A00000100002A9F0000000000000400"
        );
    }

    #[test]
    fn parse_inverts_create_for_ipv4_and_ipv6() {
        for host in ["127.0.0.1:10911", "[fe80::1]:10911"] {
            let host: SocketAddr = host.parse().unwrap();
            let id = offset_msg_id(host, 123_456_789);
            assert_eq!(parse_offset_msg_id(&id).unwrap(), (host, 123_456_789));
        }
    }

    #[test]
    fn parse_rejects_wrong_length_and_non_hex() {
        assert!(matches!(
            parse_offset_msg_id("ABC"),
            Err(ParseMsgIdError::BadLength { len: 3, .. })
        ));
        assert!(matches!(
            parse_offset_msg_id("ZZ000001000029AF0000000000000400"),
            Err(ParseMsgIdError::NotHex { .. })
        ));
        assert!(matches!(
            parse_offset_msg_id("0A00000100002A9F000000000000040é"),
            Err(ParseMsgIdError::BadLength { .. }) | Err(ParseMsgIdError::NotHex { .. })
        ));
    }
}
