//! The ROCKETMQ binary header (serType 1).
//!
//! ```text
//! code i16 | language u8 | version i16 | opaque i32 | flag i32
//! | remarkLen i32 | remark bytes
//! | extLen i32 | { keyLen i16 | key bytes | valLen i32 | val bytes }*   (extLen bytes in all)
//! ```
//!
//! A string of length zero (or, as Java reads it, a negative length) is absent; ext entries with
//! an absent key or value are dropped, so they are not written either.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{DecodeHeaderError, EncodeHeaderError};
use crate::language::LanguageCode;
use crate::remoting_command::{ExtFields, RemotingCommand, SerializeType};

/// Bytes of the fixed part: code, language, version, opaque, flag, remarkLen, extLen.
pub const FIXED_LEN: usize = 2 + 1 + 2 + 4 + 4 + 4 + 4;

/// Appends the binary header of `command` to `dst`.
pub fn encode(command: &RemotingCommand, dst: &mut BytesMut) -> Result<(), EncodeHeaderError> {
    let code = to_i16("code", command.code)?;
    let version = to_i16("version", command.version)?;
    let remark = command.remark.as_deref().unwrap_or("");
    let remark_len = len_i32("remark", remark.len())?;
    let entries: Vec<(&str, &str)> = command
        .ext_fields
        .iter()
        .filter(|(key, value)| !key.is_empty() && !value.is_empty())
        .collect();
    let mut ext_len: usize = 0;
    for (key, value) in &entries {
        len_i16("ext field key", key.len())?;
        len_i32("ext field value", value.len())?;
        ext_len = ext_len.saturating_add(2 + key.len() + 4 + value.len());
    }
    let ext_len_i32 = len_i32("ext fields", ext_len)?;

    dst.reserve(FIXED_LEN + remark.len() + ext_len);
    dst.put_i16(code);
    dst.put_u8(command.language.code());
    dst.put_i16(version);
    dst.put_i32(command.opaque);
    dst.put_i32(command.flag);
    dst.put_i32(remark_len);
    dst.put_slice(remark.as_bytes());
    dst.put_i32(ext_len_i32);
    for (key, value) in entries {
        // Lengths were checked above.
        dst.put_i16(key.len() as i16);
        dst.put_slice(key.as_bytes());
        dst.put_i32(value.len() as i32);
        dst.put_slice(value.as_bytes());
    }
    Ok(())
}

/// Reads a binary header into a command with an empty body. Bytes after the ext block are ignored,
/// as Java ignores them.
pub fn decode(header: &[u8]) -> Result<RemotingCommand, DecodeHeaderError> {
    let mut buf = header;
    let code = i32::from(take_i16(&mut buf, "code")?);
    let language = LanguageCode::from_code(take_u8(&mut buf, "language")?);
    let version = i32::from(take_i16(&mut buf, "version")?);
    let opaque = take_i32(&mut buf, "opaque")?;
    let flag = take_i32(&mut buf, "flag")?;
    let remark_len = take_i32(&mut buf, "remarkLen")?;
    let remark = take_str(&mut buf, "remark", remark_len)?;
    let ext_len = take_i32(&mut buf, "extLen")?;
    let ext_fields = if ext_len > 0 {
        let ext_len = ext_len as usize;
        ensure(buf, "extFields", ext_len)?;
        let mut block = &buf[..ext_len];
        let mut fields = ExtFields::new();
        while block.has_remaining() {
            let key_len = i32::from(take_i16(&mut block, "ext field keyLen")?);
            let key = take_str(&mut block, "ext field key", key_len)?;
            let value_len = take_i32(&mut block, "ext field valLen")?;
            let value = take_str(&mut block, "ext field value", value_len)?;
            if let (Some(key), Some(value)) = (key, value) {
                fields.insert(key, value);
            }
        }
        fields
    } else {
        ExtFields::new()
    };
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        body: Bytes::new(),
        serialize_type: SerializeType::RocketMq,
    })
}

/// The i16 of a ROCKETMQ header field; the error keeps the value that did not fit.
fn to_i16(field: &'static str, value: i32) -> Result<i16, EncodeHeaderError> {
    match i16::try_from(value) {
        Ok(value) => Ok(value),
        Err(_overflow) => Err(EncodeHeaderError::OutOfRange { field, value }),
    }
}

fn len_i16(field: &'static str, len: usize) -> Result<i16, EncodeHeaderError> {
    match i16::try_from(len) {
        Ok(len) => Ok(len),
        Err(_overflow) => Err(EncodeHeaderError::TooLong {
            field,
            len,
            max: i16::MAX as usize,
        }),
    }
}

fn len_i32(field: &'static str, len: usize) -> Result<i32, EncodeHeaderError> {
    match i32::try_from(len) {
        Ok(len) => Ok(len),
        Err(_overflow) => Err(EncodeHeaderError::TooLong {
            field,
            len,
            max: i32::MAX as usize,
        }),
    }
}

fn ensure(buf: &[u8], field: &'static str, needed: usize) -> Result<(), DecodeHeaderError> {
    if buf.len() < needed {
        return Err(DecodeHeaderError::Truncated {
            field,
            needed,
            remaining: buf.len(),
        });
    }
    Ok(())
}

fn take_u8(buf: &mut &[u8], field: &'static str) -> Result<u8, DecodeHeaderError> {
    ensure(buf, field, 1)?;
    Ok(buf.get_u8())
}

fn take_i16(buf: &mut &[u8], field: &'static str) -> Result<i16, DecodeHeaderError> {
    ensure(buf, field, 2)?;
    Ok(buf.get_i16())
}

fn take_i32(buf: &mut &[u8], field: &'static str) -> Result<i32, DecodeHeaderError> {
    ensure(buf, field, 4)?;
    Ok(buf.get_i32())
}

/// A string of `len` bytes; `len <= 0` is an absent string, as Java reads it.
fn take_str(
    buf: &mut &[u8],
    field: &'static str,
    len: i32,
) -> Result<Option<String>, DecodeHeaderError> {
    if len <= 0 {
        return Ok(None);
    }
    let len = len as usize;
    ensure(buf, field, len)?;
    let (bytes, rest) = buf.split_at(len);
    *buf = rest;
    let text = std::str::from_utf8(bytes)
        .map_err(|source| DecodeHeaderError::InvalidUtf8 { field, source })?;
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(command: &RemotingCommand) -> Vec<u8> {
        let mut dst = BytesMut::new();
        encode(command, &mut dst).unwrap();
        dst.to_vec()
    }

    fn sample() -> RemotingCommand {
        let mut command = RemotingCommand::request(105).with_ext_field("topic", "T");
        command.language = LanguageCode::Cpp;
        command.version = 479;
        command.opaque = 7;
        command.serialize_type = SerializeType::RocketMq;
        command
    }

    #[test]
    fn encode_writes_the_exact_bytes() {
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x00, 0x69,             // code 105
            0x01,                   // language CPP
            0x01, 0xDF,             // version 479
            0x00, 0x00, 0x00, 0x07, // opaque
            0x00, 0x00, 0x00, 0x00, // flag
            0x00, 0x00, 0x00, 0x00, // remark absent
            0x00, 0x00, 0x00, 0x0C, // extLen 12 = 2 + 5 + 4 + 1
            0x00, 0x05, b't', b'o', b'p', b'i', b'c',
            0x00, 0x00, 0x00, 0x01, b'T',
        ];
        assert_eq!(encoded(&sample()), expected);
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let command = sample().with_remark("boom").with_ext_field("queueId", "3");
        assert_eq!(decode(&encoded(&command)).unwrap(), command);
    }

    #[test]
    fn zero_length_remark_key_and_value_decode_as_absent() {
        #[rustfmt::skip]
        let header: &[u8] = &[
            0x00, 0x22, 0x00, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 0,
            0, 0, 0, 0,             // remark length 0
            0, 0, 0, 22,            // extLen
            0, 0, 0, 0, 0, 1, b'v', // empty key
            0, 1, b'k', 0, 0, 0, 0, // empty value
            0, 1, b'x', 0, 0, 0, 1, b'y',
        ];
        let command = decode(header).unwrap();
        assert_eq!(command.remark, None);
        assert_eq!(command.ext_fields.len(), 1);
        assert_eq!(&command.ext_fields["x"], "y");
    }

    #[test]
    fn empty_strings_are_not_written() {
        let command = sample().with_remark("").with_ext_field("AccessKey", "");
        let decoded = decode(&encoded(&command)).unwrap();
        assert_eq!(decoded.remark, None);
        assert!(!decoded.ext_fields.contains_key("AccessKey"));
        assert_eq!(&decoded.ext_fields["topic"], "T");
    }

    #[test]
    fn truncation_at_every_byte_is_an_error_never_a_panic() {
        let bytes = encoded(&sample().with_remark("why"));
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    decode(&bytes[..cut]),
                    Err(DecodeHeaderError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_entry_overrunning_the_ext_block_is_truncated() {
        let mut bytes = encoded(&sample());
        // Claim an ext block one byte shorter than the entry it holds.
        bytes[20] = 11;
        assert!(matches!(
            decode(&bytes),
            Err(DecodeHeaderError::Truncated {
                field: "ext field value",
                ..
            })
        ));
    }

    #[test]
    fn invalid_utf8_names_the_field() {
        let mut bytes = encoded(&sample());
        let last = bytes.len() - 1;
        bytes[last] = 0xFF;
        assert!(matches!(
            decode(&bytes),
            Err(DecodeHeaderError::InvalidUtf8 {
                field: "ext field value",
                ..
            })
        ));
    }

    #[test]
    fn codes_beyond_i16_cannot_be_encoded() {
        let mut command = sample();
        command.code = 200_050;
        assert!(matches!(
            encode(&command, &mut BytesMut::new()),
            Err(EncodeHeaderError::OutOfRange {
                field: "code",
                value: 200_050
            })
        ));
    }
}
